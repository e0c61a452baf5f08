"""Documents: JSON lines, CSV/TSV, and folders of .txt files; tokenized into string tokens."""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from .common import (BUFFER_LIMIT, MAX_LINE_BYTES, MAX_SEQ_VALUES, IngestOptions, LabelTyper, check_lengths, csv_hint,
                     decode, lines_of, list_array, make_batch, parse_int64, path_kind, raw_lines, read_errors,
                     string_array, text_lines)

csv.field_size_limit(MAX_LINE_BYTES)  # a field may span lines; it stops at the same bound as a line


def _chars(text: str) -> pa.Array:
    """One string token per character, from the UTF-8 bytes' lead bytes (no per-character objects)."""
    data = text.encode("utf-8")
    raw = np.frombuffer(data, dtype=np.uint8)
    starts = np.flatnonzero((raw & 0xC0) != 0x80)
    offsets = np.append(starts, len(data)).astype(np.int32 if len(data) < 2**31 else np.int64)
    kind = pa.StringArray if offsets.dtype == np.int32 else pa.LargeStringArray
    return kind.from_buffers(len(starts), pa.py_buffer(offsets), pa.py_buffer(data))


def _regex_tokens(pattern: re.Pattern, text: str) -> list[str]:
    """Like ``re.findall`` (group 1 where there is one), stopping once the row is too long anyway."""
    group = 1 if pattern.groups else 0
    out = []
    for m in pattern.finditer(text):
        out.append(m.group(group) or "")
        if len(out) > MAX_SEQ_VALUES:
            break
    return out


def tokenize(docs: pa.Array, *, tokenizer: str = "whitespace", lowercase: bool = False) -> pa.Array:
    """Documents (strings; null = empty) to ``list<string>`` tokens.

    whitespace: split on Unicode whitespace, like ``str.split()``; char: one token per character;
    regex:PATTERN: every non-overlapping match of PATTERN, like ``re.findall``.
    """
    docs = docs.fill_null("") if docs.null_count else docs
    if lowercase:
        docs = pc.utf8_lower(docs)
    if tokenizer == "whitespace":
        parts = pc.utf8_split_whitespace(docs)
        flat = parts.flatten()
        keep = pc.not_equal(flat, "").to_numpy(zero_copy_only=False)
        kept_before = np.concatenate([[0], np.cumsum(keep)])
        offsets = np.asarray(parts.offsets)
        offsets = offsets - offsets[0]
        lengths = np.diff(kept_before[offsets])
        return list_array(flat.filter(pa.array(keep)), lengths)
    texts = docs.to_pylist()
    if tokenizer == "char":
        return list_array(_chars("".join(texts)), [len(t) for t in texts])
    pattern = re.compile(tokenizer[len("regex:"):])
    if pattern.groups > 1:
        raise InputError(f"--tokenizer {tokenizer!r}: the pattern has {pattern.groups} groups; use at most one")
    found = [_regex_tokens(pattern, t) for t in texts]
    return list_array(pa.array([tok for toks in found for tok in toks], pa.string()), [len(t) for t in found])


class DocBuffer:
    """Parsed documents waiting to become one batch, with the line each came from."""

    def __init__(self, where: str, opts: IngestOptions, labels: LabelTyper | None, locate=lines_of):
        self.where = where
        self.locate = locate  # (where, lines) -> at(i), the place of row i in messages
        self.opts = opts
        self.labels = labels
        self.clear()

    def clear(self) -> None:
        self.docs: list = []
        self.label_values: list = []
        self.ids: list = []
        self.names: list = []
        self.lines: list = []
        self.nbytes = 0

    def add(self, doc: str | None, line, size: int) -> None:
        self.docs.append(doc)
        self.lines.append(line)
        self.nbytes += size

    def full(self) -> bool:
        return len(self.docs) >= self.opts.batch_rows or self.nbytes >= BUFFER_LIMIT

    def __len__(self) -> int:
        return len(self.docs)

    def flush(self) -> pa.RecordBatch:
        at = self.locate(self.where, self.lines)
        docs = string_array(self.docs, "text", at)
        if self.opts.tokenizer == "char":  # a character is a token: refuse a long row before splitting it
            lengths = pc.utf8_length(docs.fill_null("")).to_numpy(zero_copy_only=False)
            if len(lengths) and lengths.max() > MAX_SEQ_VALUES:
                i = int(np.argmax(lengths))
                raise InputError(f"{at(i)}: {int(lengths[i]):,} values in one sequence, more than seqprep holds "
                                 f"in one ({MAX_SEQ_VALUES:,}, MAX_SEQ_VALUES); split it into shorter ones")
        seq = tokenize(docs, tokenizer=self.opts.tokenizer, lowercase=self.opts.lowercase)
        check_lengths(seq, at)
        extra = {}
        if self.ids:
            extra["id"] = pa.array(self.ids, pa.int64())
        if self.names:
            extra["name"] = string_array(self.names, "file name", at)
        label = None
        if self.labels is not None:
            label = string_array(self.label_values, "label", at) if self.labels.kind != "int64" \
                else self.labels.array(self.label_values)
        batch = make_batch(seq, label, **extra)
        self.clear()
        return batch


def _check_text(value, where: str, column: str):
    if value is None or isinstance(value, str):
        return value
    raise InputError(f"{where}: {column!r} is {type(value).__name__}, not text")


def _check_id(value, where: str, column: str) -> int:
    return parse_int64(value, where, "id", column)


def _parse(line: str, where: str):
    try:
        return json.loads(line)
    except json.JSONDecodeError as e:
        raise InputError(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
    except RecursionError:
        raise InputError(f"{where}: not valid JSON (nested too deeply); flatten the record") from None
    except ValueError as e:  # e.g. an integer of more than 4,300 digits
        raise InputError(f"{where}: not valid JSON ({str(e).splitlines()[0]})") from None


def _first_label(path: Path, label_col: str) -> tuple[bool, object]:
    """A first look through the file for the label field: (whether any record has it, the first
    non-null value). Lines that cannot hold the key are not parsed; bad lines are left for the
    real pass, which names them in order."""
    key = json.dumps(label_col).encode("utf-8")
    seen = False
    for number, raw in raw_lines(path):
        if key not in raw and b"\\u" not in raw:
            continue
        try:
            obj = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        if isinstance(obj, dict) and label_col in obj:
            seen = True
            if obj[label_col] is not None:
                return True, obj[label_col]
    return seen, None


def read_jsonl(path: Path, opts: IngestOptions) -> Iterator[pa.RecordBatch]:
    """One JSON object per line. A label field in any record makes a label column: records
    without one get null (counted as ``labels.nulls`` in the manifest); one type for all."""
    label_col = opts.label_column or "label"
    typer: LabelTyper | None = None
    buf: DocBuffer | None = None
    stdin = str(path) == "-"
    if not stdin:
        seen, first = _first_label(path, label_col)
        if seen:
            typer = LabelTyper(str(path), LabelTyper.kind_of(first))
    for number, line in text_lines(path):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        obj = _parse(line.rstrip("\r\n"), where)
        if not isinstance(obj, dict):
            raise InputError(f"{where}: expected a JSON object per line, got {type(obj).__name__}")
        if buf is None:
            if stdin and label_col in obj:  # stdin is read once: its first record decides
                typer = LabelTyper(str(path))
            if opts.label_column is not None and typer is None:
                raise InputError(f"{where}: no {label_col!r} field (fields: {', '.join(obj)}); check --label-column"
                                 f"{'' if stdin else ' (no record has it)'}")
            buf = DocBuffer(str(path), opts, typer)
        if opts.text_column not in obj:
            raise InputError(f"{where}: no {opts.text_column!r} field (fields: {', '.join(obj)}); name it with --text-column")
        buf.add(_check_text(obj[opts.text_column], where, opts.text_column), number, len(line))
        if typer is not None:
            buf.label_values.append(typer.check(obj.get(label_col), number))
        elif label_col in obj:
            raise InputError(f"{where}: has a {label_col!r} field, but the first record (read from stdin) has none; "
                             "give the file by its path, or a label in every record")
        if opts.id_column is not None:
            if opts.id_column not in obj:
                raise InputError(f"{where}: no {opts.id_column!r} field for --id-column")
            buf.ids.append(_check_id(obj[opts.id_column], where, opts.id_column))
        if buf.full():
            yield buf.flush()
    if buf is not None and len(buf):
        yield buf.flush()


def _csv_lines(path: Path, where: list) -> Iterator[str]:
    for number, raw in raw_lines(path):
        where[0] = number
        yield decode(raw, f"{path}:{number}")


def read_csv(path: Path, opts: IngestOptions) -> Iterator[pa.RecordBatch]:
    delimiter = "\t" if ".tsv" in [s.lower() for s in path.suffixes] else ","
    last = [0]
    reader = csv.reader(_csv_lines(path, last), delimiter=delimiter, strict=True)
    try:
        yield from _csv_rows(path, reader, opts)
    except csv.Error as e:
        raise InputError(f"{path}:{last[0]}: not valid CSV ({e}); {csv_hint(e)}") from None


def _csv_rows(path: Path, reader, opts: IngestOptions) -> Iterator[pa.RecordBatch]:
    header = next(reader, None)
    if header is None:
        return

    def column(name: str | None, flag: str, required: bool) -> int | None:
        if header.count(name) > 1:
            raise InputError(f"{path}:1: the header names {name!r} {header.count(name)} times; "
                             "rename the columns so each is named once")
        if name in header:
            return header.index(name)
        if required:
            raise InputError(f"{path}:1: no {name!r} column in the header ({', '.join(header)}); name it with {flag}")
        return None
    text_at = column(opts.text_column, "--text-column", True)
    label_at = column(opts.label_column or "label", "--label-column", opts.label_column is not None)
    id_at = column(opts.id_column, "--id-column", True) if opts.id_column is not None else None
    typer = LabelTyper(str(path)) if label_at is not None else None
    buf = DocBuffer(str(path), opts, typer)
    for row in reader:
        if not row:
            continue
        where = f"{path}:{reader.line_num}"
        if len(row) != len(header):
            raise InputError(
                f"{where}: {len(row)} fields, but the header has {len(header)}; quote fields that hold the delimiter"
            )
        buf.add(row[text_at], reader.line_num, sum(map(len, row)))
        if typer is not None:
            buf.label_values.append(typer.check(row[label_at] if row[label_at] != "" else None, reader.line_num))
        if id_at is not None:
            buf.ids.append(_check_id(row[id_at], where, opts.id_column))
        if buf.full():
            yield buf.flush()
    if len(buf):
        yield buf.flush()


# ------------------------------------------------------------------------------------- folders of .txt

LAYOUT_TEXT = "FOLDER/LABEL/*.txt (labelled by folder) or FOLDER/*.txt (unlabelled)"


def _visible(folder: Path) -> list[Path]:
    """A folder's entries, sorted; hidden ones (.DS_Store, .git) are not data."""
    try:
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    except OSError as e:
        raise InputError(f"{folder}: cannot be listed ({e.strerror})") from None


def _layout_error(root: Path, found: str) -> InputError:
    return InputError(f"{root}: {found}; seqprep reads {LAYOUT_TEXT} and nothing else there: "
                      "give the right folder, or move the other entries out")


def text_files(root: Path) -> tuple[str, list[tuple[Path, str | None]]]:
    """The layout read and its (file, label) pairs, in sorted order: ``root/LABEL/*.txt`` or
    ``root/*.txt``. Anything else in the folder is refused, not skipped: a stray file beside
    label folders, a folder inside a label folder, an empty label folder, a mix of both layouts."""
    entries = _visible(root)
    kinds = {p: path_kind(p) for p in entries}
    folders = [p for p in entries if kinds[p] == "dir"]
    files = [p for p in entries if kinds[p] == "file"]
    if not entries:
        raise InputError(f"{root}: no .txt files here or in its subfolders (expected {root}/LABEL/*.txt)")
    if not folders:
        others = [p.name for p in files if p.suffix.lower() != ".txt"]
        if others:
            raise _layout_error(root, f"{others[0]!r} is not a .txt file")
        return "FOLDER/*.txt (unlabelled)", [(f, None) for f in files]
    if files:
        raise _layout_error(root, f"the file {files[0].name!r} lies beside the label folder(s) "
                                  f"{', '.join(repr(d.name) for d in folders[:3])}")
    out: list[tuple[Path, str | None]] = []
    for d in folders:
        inside = _visible(d)
        if not inside:
            raise _layout_error(root, f"the label folder {d.name!r} is empty")
        for f in inside:
            if path_kind(f) == "dir":
                raise _layout_error(root, f"{d.name}/{f.name} is a folder inside the label folder {d.name!r} "
                                          f"(is {d} the folder to give?)")
            if f.suffix.lower() != ".txt":
                raise _layout_error(root, f"{d.name}/{f.name} is not a .txt file")
            out.append((f, d.name))
    return "FOLDER/LABEL/*.txt (labelled by folder)", out


def _read_doc(f: Path) -> tuple[str, int]:
    size = os.stat(f).st_size
    if size > MAX_LINE_BYTES:
        raise InputError(f"{f}: {size:,} bytes, more than seqprep reads as one document ({MAX_LINE_BYTES:,}, "
                         "MAX_LINE_BYTES); split it")
    with read_errors(f), open(f, "rb") as fh:
        data = fh.read(MAX_LINE_BYTES + 1)
    if len(data) > MAX_LINE_BYTES:
        raise InputError(f"{f}: more than {MAX_LINE_BYTES:,} bytes, more than seqprep reads as one document; split it")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return decode(data, str(f)), len(data)


def read_text(path: Path, opts: IngestOptions, layout: list | None = None) -> Iterator[pa.RecordBatch]:
    """One .txt file, or a folder in one of the layouts of :func:`text_files`."""
    if path_kind(path) == "file":
        files = [(path, None)]
    else:
        files = text_files(path)[1] if layout is None else layout
    labelled = bool(files) and files[0][1] is not None
    buf = DocBuffer(str(path), opts, LabelTyper(str(path)) if labelled else None,
                    locate=lambda where, names: lambda i: str(Path(where, names[i])) if names[i] != path.name else where)
    for f, label in files:
        doc, size = _read_doc(f)
        name = f.relative_to(path).as_posix() if f != path else f.name
        buf.add(doc, name, size)
        buf.names.append(name)
        if labelled:
            buf.label_values.append(label)
        if buf.full():
            yield buf.flush()
    if len(buf):
        yield buf.flush()
