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
from .numbers import KINDS, LABEL_NAMES, Detector, NumberColumn, numbered_columns, tokens_to_values
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
    """Parsed documents waiting to become one batch, with the line each came from. ``kind`` is how
    the sequence column reads: "tokens" (text), "float32" or "int64" (numbers), or None: decided
    at the first flush from the rows buffered then (stdin, read once), and kept after."""

    def __init__(self, where: str, opts: IngestOptions, labels: LabelTyper | None, locate=lines_of,
                 column: str = "text", kind: str | None = "tokens"):
        self.where = where
        self.locate = locate  # (where, lines) -> at(i), the place of row i in messages
        self.opts = opts
        self.labels = labels
        self.column = column
        self.kind = kind
        self.numbers = NumberColumn(column, kind if kind in KINDS else ("int64" if opts.as_ids else "float32"),
                                    opts.sep)
        self.clear()

    def clear(self) -> None:
        self.docs: list = []
        self.label_values: list = []
        self.ids: list = []
        self.names: list = []
        self.lines: list = []
        self.nbytes = 0

    def add(self, doc, line, size: int) -> None:
        self.docs.append(doc)
        self.lines.append(line)
        self.nbytes += size

    def full(self) -> bool:
        return len(self.docs) >= self.opts.batch_rows or self.nbytes >= BUFFER_LIMIT

    def __len__(self) -> int:
        return len(self.docs)

    def _decide(self) -> str:
        detector = Detector(self.opts.sep)
        for doc, line in zip(self.docs, self.lines):
            if not detector.add(doc, line):
                break
        return self.numbers.kind if detector.numeric else "tokens"

    def describe(self) -> str:
        return "text tokens" if self.kind in ("tokens", None) else self.numbers.describe()

    def flush(self) -> pa.RecordBatch:
        at = self.locate(self.where, self.lines)
        if self.kind is None:
            self.kind = self._decide()
        if self.kind == "tokens":
            seq = self._tokens(at)
        else:
            seq = self.numbers.array(self.docs, at)
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

    def _tokens(self, at) -> pa.Array:
        for i, doc in enumerate(self.docs):
            if not (doc is None or isinstance(doc, str)):
                why = "--as-text reads text" if self.opts.as_text else "other rows of it are text"
                raise InputError(f"{at(i)}: {self.column!r} holds a list, but {why}; give text in every row, or "
                                 "numbers in every row")
        docs = string_array(self.docs, "text", at)
        if self.opts.tokenizer == "char":  # a character is a token: refuse a long row before splitting it
            lengths = pc.utf8_length(docs.fill_null("")).to_numpy(zero_copy_only=False)
            if len(lengths) and lengths.max() > MAX_SEQ_VALUES:
                i = int(np.argmax(lengths))
                raise InputError(f"{at(i)}: {int(lengths[i]):,} values in one sequence, more than seqprep holds "
                                 f"in one ({MAX_SEQ_VALUES:,}, MAX_SEQ_VALUES); split it into shorter ones")
        return tokenize(docs, tokenizer=self.opts.tokenizer, lowercase=self.opts.lowercase)


def _check_text(value, where: str, column: str):
    if value is None or isinstance(value, (str, list)):
        return value
    raise InputError(f"{where}: {column!r} is {type(value).__name__}, not text")


def _check_id(value, where: str, column: str, auto: bool = False) -> int:
    try:
        return parse_int64(value, where, "id", column)
    except InputError as e:
        if not auto:
            raise
        raise InputError(f"{e}; or pass --row-ids to number the rows 0..N-1 instead") from None


def _parse(line: str, where: str):
    try:
        return json.loads(line)
    except json.JSONDecodeError as e:
        raise InputError(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
    except RecursionError:
        raise InputError(f"{where}: not valid JSON (nested too deeply); flatten the record") from None
    except ValueError as e:  # e.g. an integer of more than 4,300 digits
        raise InputError(f"{where}: not valid JSON ({str(e).splitlines()[0]})") from None


SEQ_NAMES = ("text", "seq")  # JSON lines, CSV: the sequence column by name, in this order


def seq_field(names, opts: IngestOptions, order=SEQ_NAMES) -> str | None:
    """The sequence column: the one a flag names, else the first of ``order`` present; None if none."""
    given = opts.text_column or opts.seq_column
    if given is not None:
        return given if given in names else None
    return next((n for n in order if n in names), None)


def _missing_seq(where: str, names, opts: IngestOptions, what: str) -> InputError:
    given = opts.text_column or opts.seq_column
    flag = "--text-column" if opts.text_column or not opts.seq_column else "--seq-column"
    listed = f"fields: {', '.join(names)}" if what == "field" else ", ".join(names)
    return InputError(f"{where}: no {given or 'text'!r} {what}{' in the header' if what == 'column' else ''} "
                      f"({listed}); name it with {flag}")


def _id_field(names, opts: IngestOptions) -> str | None:
    if opts.id_column is not None:
        return opts.id_column
    return "id" if "id" in names and not opts.row_ids else None


def _kind(opts: IngestOptions, detected: bool | None) -> str | None:
    """How the sequence column reads: forced by a flag, or as detected (None: not yet known)."""
    if opts.as_text:
        return "tokens"
    if opts.as_ids:
        return "int64"
    if opts.sep is not None:  # --sep says the cells hold numbers
        return "float32"
    if detected is None:
        return None
    return "float32" if detected else "tokens"


def _survey_jsonl(path: Path, opts: IngestOptions, label_col: str) -> tuple[bool, object, bool]:
    """A first look through the file: (whether any record has the label field, its first non-null
    value, whether the sequence field is numbers in every record). Lines are parsed only while
    needed; bad lines are left for the real pass, which names them in order."""
    key = json.dumps(label_col).encode("utf-8")
    seen, first_label = False, None
    detector = Detector(opts.sep) if _kind(opts, None) is None else None
    detecting = detector is not None
    field = None
    for number, raw in raw_lines(path):
        if first_label is not None and not detecting:
            break
        if not detecting and key not in raw and b"\\u" not in raw:
            continue
        try:
            obj = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        if not isinstance(obj, dict):
            continue
        if field is None:
            field = seq_field(obj, opts) or ""
        if label_col in obj:
            seen = True
            if first_label is None and obj[label_col] is not None:
                first_label = obj[label_col]
        if detecting and not detector.add(obj.get(field), number):
            detecting = False
    return seen, first_label, detector is not None and detector.numeric


def read_jsonl(path: Path, opts: IngestOptions, info: dict | None = None) -> Iterator[pa.RecordBatch]:
    """One JSON object per line. A label field in any record makes a label column: records
    without one get null (counted as ``labels.nulls`` in the manifest); one type for all. The
    sequence field is text (tokenized), or numbers in every record: a list, a list of per-step
    lists (channels), or text of numbers ("1.5 2 3")."""
    info = {} if info is None else info
    label_col = opts.label_column or "label"
    typer: LabelTyper | None = None
    buf: DocBuffer | None = None
    stdin = str(path) == "-"
    kind = _kind(opts, None)
    if not stdin:
        seen, first, numeric = _survey_jsonl(path, opts, label_col)
        if seen:
            typer = LabelTyper(str(path), LabelTyper.kind_of(first))
        kind = _kind(opts, numeric)
    field = id_field = None
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
            field = seq_field(obj, opts)
            if field is None:
                raise _missing_seq(where, list(obj), opts, "field")
            id_field = _id_field(obj, opts)
            buf = DocBuffer(str(path), opts, typer, column=field, kind=kind)
            info.update(seq=field, label=label_col if typer is not None else None, id=id_field)
        if field not in obj:
            raise InputError(f"{where}: no {field!r} field (fields: {', '.join(obj)}); every record needs one"
                             f"{'' if opts.text_column or opts.seq_column else ' (the first has it)'}")
        buf.add(_check_text(obj[field], where, field), number, len(line))
        if typer is not None:
            buf.label_values.append(typer.check(obj.get(label_col), number))
        elif label_col in obj:
            raise InputError(f"{where}: has a {label_col!r} field, but the first record (read from stdin) has none; "
                             "give the file by its path, or a label in every record")
        if id_field is not None:
            if id_field not in obj:
                raise InputError(f"{where}: no {id_field!r} field for the ids" + (
                    " (--id-column)" if opts.id_column else "; the first record has one: give every record an id, "
                    "or pass --row-ids to number the rows 0..N-1"))
            buf.ids.append(_check_id(obj[id_field], where, id_field, auto=opts.id_column is None))
        if buf.full():
            yield buf.flush()
    if buf is not None and len(buf):
        yield buf.flush()
    if buf is not None:
        info["read"] = buf.describe() if buf.kind is not None else "text tokens"


def _csv_lines(path: Path, where: list) -> Iterator[str]:
    for number, raw in raw_lines(path):
        where[0] = number
        yield decode(raw, f"{path}:{number}")


def _delimiter(path: Path) -> str:
    return "\t" if ".tsv" in [s.lower() for s in path.suffixes] else ","


def _csv_survey(path: Path, opts: IngestOptions) -> bool:
    """A first look through a CSV file: whether its sequence column is numbers in every row. Bad
    rows are left for the real pass, which names them."""
    detector = Detector(opts.sep)
    try:
        reader = csv.reader(_csv_lines(path, [0]), delimiter=_delimiter(path), strict=True)
        header = next(reader, None)
        if header is None:
            return False
        name = seq_field(header, opts)
        if name is None or header.count(name) != 1:
            return False
        at = header.index(name)
        for row in reader:
            if row and at < len(row) and not detector.add(row[at], reader.line_num):
                return False
    except (csv.Error, InputError):
        return False
    return detector.numeric


def read_csv(path: Path, opts: IngestOptions, info: dict | None = None) -> Iterator[pa.RecordBatch]:
    """A header, then one row a document: a text column (tokenized) or, when it is numbers in every
    row, a column of numbers ("1.5 2 3", or a JSON list); or a wide CSV (a label column plus
    numbered columns t0..tN, one series a row)."""
    info = {} if info is None else info
    kind = _kind(opts, None)
    if str(path) != "-" and kind is None:
        kind = _kind(opts, _csv_survey(path, opts))
    last = [0]
    reader = csv.reader(_csv_lines(path, last), delimiter=_delimiter(path), strict=True)
    try:
        yield from _csv_rows(path, reader, opts, info, kind)
    except csv.Error as e:
        raise InputError(f"{path}:{last[0]}: not valid CSV ({e}); {csv_hint(e)}") from None


def wide_plan(path: Path, header: list[str], opts: IngestOptions) -> dict | None:
    """How a wide CSV reads: its numbered columns, and the label and id columns; None (or, with
    --wide, a one-line refusal) when the header is not a label column plus numbered columns."""
    run = numbered_columns(header)
    if run is None:
        if opts.wide:
            raise InputError(f"{path}:1: --wide, but the header has no run of numbered columns (t0..tN, 0..N-1, "
                             f"att1..attN, in order): {', '.join(header[:8])}{', ...' if len(header) > 8 else ''}")
        return None
    idx, shown = run
    numbered = set(idx)
    label_names = (opts.label_column,) if opts.label_column else LABEL_NAMES
    id_name = opts.id_column or (None if opts.row_ids else "id")
    label_at = id_at = None
    stray = []
    for i, name in enumerate(header):
        if i in numbered:
            continue
        if name == id_name and id_at is None:
            id_at = i
        elif name in label_names and label_at is None:
            label_at = i
        else:
            stray.append(name)
    if stray:
        if opts.wide:
            raise InputError(f"{path}:1: column {stray[0]!r} is neither one of the numbered columns ({shown}) nor the "
                             "label or id; a wide CSV holds a label column, an id column and numbered columns: drop "
                             "it, or name it with --label-column or --id-column")
        return None
    if opts.label_column and label_at is None:
        raise InputError(f"{path}:1: no {opts.label_column!r} column in the header ({', '.join(header[:8])}); "
                         "check --label-column")
    if opts.id_column and id_at is None:
        raise InputError(f"{path}:1: no {opts.id_column!r} column in the header; check --id-column")
    others = [i for i in (label_at, id_at) if i is not None]
    return {"idx": idx, "shown": shown, "label_at": label_at, "id_at": id_at,
            "min_fields": (max(others) + 1) if others and max(others) < idx[0] else len(header)}


def _csv_rows(path: Path, reader, opts: IngestOptions, info: dict, kind: str | None) -> Iterator[pa.RecordBatch]:
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
    name = seq_field(header, opts)
    plan = None
    if opts.wide or (name is None and not opts.as_text and not (opts.text_column or opts.seq_column)):
        plan = wide_plan(path, header, opts)
    if plan is not None:
        yield from _wide_rows(path, reader, opts, info, header, plan)
        return
    if name is None:
        e = _missing_seq(f"{path}:1", header, opts, "column")
        hint = "; or pass --wide for one series a row in numbered columns" if numbered_columns(header) else ""
        raise InputError(f"{e}{hint}")
    text_at = column(name, "--text-column", True)
    label_at = column(opts.label_column or "label", "--label-column", opts.label_column is not None)
    id_name = _id_field(header, opts)
    id_at = column(id_name, "--id-column", True) if id_name is not None else None
    typer = LabelTyper(str(path)) if label_at is not None else None
    buf = DocBuffer(str(path), opts, typer, column=name, kind=kind)
    info.update(seq=name, label=header[label_at] if label_at is not None else None, id=id_name)
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
            buf.ids.append(_check_id(row[id_at], where, id_name, auto=opts.id_column is None))
        if buf.full():
            yield buf.flush()
    if len(buf):
        yield buf.flush()
    info["read"] = buf.describe() if buf.kind is not None else "text tokens"


class WideBuffer(DocBuffer):
    """Rows of a wide CSV: each row's cells (up to its last non-empty one) in ``docs``."""

    def __init__(self, where: str, opts: IngestOptions, labels, names: list[str]):
        super().__init__(where, opts, labels, kind="int64" if opts.as_ids else "float32")
        self.column_names = names  # the numbered columns' names, in order

    def flush(self) -> pa.RecordBatch:
        at = self.locate(self.where, self.lines)
        lengths = np.array([len(cells) for cells in self.docs], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)])

        def where(k: int) -> str:
            i = int(np.searchsorted(offsets[1:], k, side="right"))
            return f"{at(i)}: column {self.column_names[k - offsets[i]]!r}"
        values = tokens_to_values(pa.array([c for cells in self.docs for c in cells], pa.string()), self.kind, where)
        seq = list_array(pa.array(values), lengths)
        check_lengths(seq, at)
        extra = {"id": pa.array(self.ids, pa.int64())} if self.ids else {}
        label = string_array(self.label_values, "label", at) if self.labels is not None else None
        batch = make_batch(seq, label, **extra)
        self.clear()
        return batch


def _wide_rows(path: Path, reader, opts: IngestOptions, info: dict, header: list[str], plan: dict):
    idx, label_at, id_at = plan["idx"], plan["label_at"], plan["id_at"]
    typer = LabelTyper(str(path)) if label_at is not None else None
    buf = WideBuffer(str(path), opts, typer, [header[i] for i in idx])
    info.update(seq=None, label=header[label_at] if label_at is not None else None,
                id=header[id_at] if id_at is not None else None,
                wide=f"{len(idx)} numbered columns ({plan['shown']})", read=KINDS[buf.kind])
    for row in reader:
        if not row:
            continue
        where = f"{path}:{reader.line_num}"
        if len(row) > len(header) or len(row) < plan["min_fields"]:
            raise InputError(f"{where}: {len(row)} fields, but the header has {len(header)}; quote fields that hold "
                             "the delimiter" + ("" if len(row) > len(header) else
                                                " (a row may stop early only after its label and id)"))
        cells = [row[i] if i < len(row) else "" for i in idx]
        n = len(cells)
        while n and not cells[n - 1].strip():
            n -= 1
        for j in range(n):
            if not cells[j].strip():
                raise InputError(f"{where}: column {header[idx[j]]!r} is empty, but later cells of the row hold "
                                 "values; only empty cells at the end mark a shorter series: write NaN for a missing "
                                 "reading")
        buf.add(cells[:n], reader.line_num, sum(map(len, row)))
        if typer is not None:
            label = row[label_at] if label_at < len(row) else ""
            buf.label_values.append(typer.check(label if label != "" else None, reader.line_num))
        if id_at is not None:
            buf.ids.append(_check_id(row[id_at], where, header[id_at], auto=opts.id_column is None))
        if buf.full():
            yield buf.flush()
    if len(buf):
        yield buf.flush()


# ------------------------------------------------------------------------------------- folders of .txt

LAYOUT_TEXT = ("FOLDER/LABEL/*.txt (labelled by folder), FOLDER/SPLIT/LABEL/*.txt (one split, with --split), "
               "FOLDER/*.txt (unlabelled, or labelled by --labels CSV)")


def _visible(folder: Path) -> list[Path]:
    """A folder's entries, sorted; hidden ones (.DS_Store, .git) are not data."""
    try:
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    except OSError as e:
        raise InputError(f"{folder}: cannot be listed ({e.strerror})") from None


def _layout_error(root: Path, found: str) -> InputError:
    return InputError(f"{root}: {found}; seqprep reads {LAYOUT_TEXT} and nothing else there: "
                      "give the right folder, or move the other entries out")


def _is_split_folder(d: Path) -> bool:
    """A folder holding only (non-hidden) folders, at least one: a split of label folders."""
    inside = _visible(d)
    return bool(inside) and all(path_kind(p) == "dir" for p in inside)


def _file_labels(path: Path) -> dict[str, str]:
    """--labels for a folder of .txt files: a CSV of file name (or its stem), label."""
    from .fasta import read_labels  # the same strict CSV of key, label

    return read_labels(path)


def text_files(root: Path, split: str | None = None, labels: str | None = None
               ) -> tuple[str, list[tuple[Path, str | None]]]:
    """The layout read and its (file, label) pairs, in sorted order: ``root/LABEL/*.txt``,
    ``root/SPLIT/LABEL/*.txt`` (with ``split``), or ``root/*.txt`` (labelled by the ``labels`` CSV,
    or not at all). Anything else in the folder is refused, not skipped: a stray file beside label
    folders, a folder inside a label folder, an empty label folder, a mix of layouts, splits
    without --split."""
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
        if split is not None:
            raise InputError(f"{root}: --split {split}, but this folder holds .txt files, not split folders "
                             "(FOLDER/SPLIT/LABEL/*.txt); drop --split")
        if labels is None:
            return "FOLDER/*.txt (unlabelled)", [(f, None) for f in files]
        table = _file_labels(Path(labels))
        out = []
        for f in files:
            label = table.get(f.name, table.get(f.stem))
            if label is None:
                raise InputError(f"{f}: no label for {f.name!r} (nor {f.stem!r}) in {labels}; label every file, "
                                 "or move it out")
            out.append((f, label))
        return f"FOLDER/*.txt, labelled by {Path(labels).name} (file name to label)", out
    if files:
        raise _layout_error(root, f"the file {files[0].name!r} lies beside the label folder(s) "
                                  f"{', '.join(repr(d.name) for d in folders[:3])}")
    if labels is not None:
        raise InputError(f"{root}: --labels, but the files here are in folders ({folders[0].name}/...), which label "
                         "them; --labels labels a flat folder of .txt files: drop it")
    if all(_is_split_folder(d) for d in folders):
        names = [d.name for d in folders]
        if split is None:
            raise InputError(f"{root}: holds the splits {', '.join(names)}, each a folder of label folders "
                             f"(FOLDER/SPLIT/LABEL/*.txt); choose one with --split (e.g. --split {names[0]}), "
                             f"or give {root / names[0]}")
        if split not in names:
            raise InputError(f"{root}: no split {split!r} here (splits: {', '.join(names)}); check --split")
        _, pairs = _label_folders(root / split, [p for p in _visible(root / split)], root)
        return f"FOLDER/SPLIT/LABEL/*.txt (split {split!r}, labelled by folder)", pairs
    if split is not None:
        raise InputError(f"{root}: --split {split}, but this folder holds label folders "
                         f"({', '.join(d.name for d in folders[:3])}), not splits of them; drop --split")
    return _label_folders(root, folders, root)


def _label_folders(base: Path, folders: list[Path], root: Path) -> tuple[str, list[tuple[Path, str | None]]]:
    out: list[tuple[Path, str | None]] = []
    for d in folders:
        if path_kind(d) != "dir":
            raise _layout_error(root, f"the file {d.relative_to(root)} lies beside the label folders")
        inside = _visible(d)
        if not inside:
            raise _layout_error(root, f"the label folder {d.relative_to(root).as_posix()!r} is empty")
        for f in inside:
            shown = f.relative_to(root).as_posix()
            if path_kind(f) == "dir":
                raise _layout_error(root, f"{shown} is a folder inside the label folder {d.name!r} "
                                          f"(is {d} the folder to give?)")
            if f.suffix.lower() != ".txt":
                raise _layout_error(root, f"{shown} is not a .txt file")
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
        files = text_files(path, opts.split, opts.labels)[1] if layout is None else layout
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
