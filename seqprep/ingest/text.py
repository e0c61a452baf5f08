"""Documents: JSON lines, CSV/TSV, and folders of .txt files; tokenized into string tokens."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from .common import IngestOptions, LabelTyper, list_array, make_batch, open_binary, text_lines

csv.field_size_limit(2**31 - 1)  # documents are long; the default stops at 131,072 characters


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
        return list_array(pa.array(list("".join(texts)), pa.string()), [len(t) for t in texts])
    pattern = re.compile(tokenizer[len("regex:"):])
    found = [pattern.findall(t) for t in texts]
    if pattern.groups > 1:
        raise InputError(f"--tokenizer {tokenizer!r}: the pattern has {pattern.groups} groups; use at most one")
    return list_array(pa.array([tok for toks in found for tok in toks], pa.string()), [len(t) for t in found])


class DocBuffer:
    """Parsed documents waiting to become one batch."""

    def __init__(self, opts: IngestOptions, labels: LabelTyper | None):
        self.opts = opts
        self.labels = labels
        self.docs: list = []
        self.label_values: list = []
        self.ids: list = []
        self.names: list = []

    def __len__(self) -> int:
        return len(self.docs)

    def flush(self) -> pa.RecordBatch:
        seq = tokenize(pa.array(self.docs, pa.string()), tokenizer=self.opts.tokenizer, lowercase=self.opts.lowercase)
        extra = {}
        if self.ids:
            extra["id"] = pa.array(self.ids, pa.int64())
        if self.names:
            extra["name"] = pa.array(self.names, pa.string())
        label = self.labels.array(self.label_values) if self.labels is not None else None
        batch = make_batch(seq, label, **extra)
        self.docs, self.label_values, self.ids, self.names = [], [], [], []
        return batch


def _check_text(value, where: str, column: str):
    if value is None or isinstance(value, str):
        return value
    raise InputError(f"{where}: {column!r} is {type(value).__name__}, not text")


def _check_id(value, where: str, column: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise InputError(f"{where}: id {value!r} in {column!r} is not an integer; ids must be int64")


def read_jsonl(path: Path, opts: IngestOptions) -> Iterator[pa.RecordBatch]:
    label_col = opts.label_column or "label"
    typer: LabelTyper | None = None
    buf: DocBuffer | None = None
    for number, line in text_lines(path):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            obj = json.loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as e:
            raise InputError(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(obj, dict):
            raise InputError(f"{where}: expected a JSON object per line, got {type(obj).__name__}")
        if buf is None:  # the first record decides whether there are labels
            if opts.label_column is not None and label_col not in obj:
                raise InputError(f"{where}: no {label_col!r} field (fields: {', '.join(obj)}); check --label-column")
            typer = LabelTyper(str(path)) if label_col in obj else None
            buf = DocBuffer(opts, typer)
        if opts.text_column not in obj:
            raise InputError(f"{where}: no {opts.text_column!r} field (fields: {', '.join(obj)}); name it with --text-column")
        buf.docs.append(_check_text(obj[opts.text_column], where, opts.text_column))
        if typer is not None:
            buf.label_values.append(typer.check(obj.get(label_col), number))
        if opts.id_column is not None:
            if opts.id_column not in obj:
                raise InputError(f"{where}: no {opts.id_column!r} field for --id-column")
            buf.ids.append(_check_id(obj[opts.id_column], where, opts.id_column))
        if len(buf) >= opts.batch_rows:
            yield buf.flush()
    if buf is not None and len(buf):
        yield buf.flush()


def read_csv(path: Path, opts: IngestOptions) -> Iterator[pa.RecordBatch]:
    delimiter = "\t" if ".tsv" in path.suffixes else ","
    stream = io.TextIOWrapper(open_binary(path), encoding="utf-8", newline="")
    reader = csv.reader(stream, delimiter=delimiter)
    try:
        yield from _csv_rows(path, reader, opts)
    except UnicodeDecodeError as e:
        raise InputError(f"{path}:{reader.line_num + 1}: not valid UTF-8 ({e.reason}); re-save the file as UTF-8") from None
    except csv.Error as e:
        raise InputError(f"{path}:{reader.line_num}: not valid CSV ({e})") from None
    finally:
        stream.close()


def _csv_rows(path: Path, reader, opts: IngestOptions) -> Iterator[pa.RecordBatch]:
    header = next(reader, None)
    if header is None:
        return
    def column(name: str | None, flag: str, required: bool) -> int | None:
        if name in header:
            return header.index(name)
        if required:
            raise InputError(f"{path}:1: no {name!r} column in the header ({', '.join(header)}); name it with {flag}")
        return None
    text_at = column(opts.text_column, "--text-column", True)
    label_at = column(opts.label_column or "label", "--label-column", opts.label_column is not None)
    id_at = column(opts.id_column, "--id-column", True) if opts.id_column is not None else None
    typer = LabelTyper(str(path)) if label_at is not None else None
    buf = DocBuffer(opts, typer)
    for row in reader:
        if not row:
            continue
        where = f"{path}:{reader.line_num}"
        if len(row) != len(header):
            raise InputError(
                f"{where}: {len(row)} fields, but the header has {len(header)}; quote fields that hold the delimiter"
            )
        buf.docs.append(row[text_at])
        if typer is not None:
            buf.label_values.append(typer.check(row[label_at] if row[label_at] != "" else None, reader.line_num))
        if id_at is not None:
            buf.ids.append(_check_id(row[id_at], where, opts.id_column))
        if len(buf) >= opts.batch_rows:
            yield buf.flush()
    if len(buf):
        yield buf.flush()


def text_files(root: Path) -> list[tuple[Path, str | None]]:
    """``root/LABEL/*.txt`` (labelled by folder) or ``root/*.txt`` (unlabelled), in sorted order."""
    labelled = [(f, d.name) for d in sorted(p for p in root.iterdir() if p.is_dir()) for f in sorted(d.glob("*.txt"))]
    if labelled:
        return labelled
    return [(f, None) for f in sorted(root.glob("*.txt"))]


def read_text(path: Path, opts: IngestOptions) -> Iterator[pa.RecordBatch]:
    files = [(path, None)] if path.is_file() else text_files(path)
    if not files:
        raise InputError(f"{path}: no .txt files here or in its subfolders (expected {path}/LABEL/*.txt)")
    labelled = files[0][1] is not None
    buf = DocBuffer(opts, LabelTyper(str(path)) if labelled else None)
    for f, label in files:
        try:
            doc = f.read_bytes().decode("utf-8")
        except UnicodeDecodeError as e:
            raise InputError(f"{f}: not valid UTF-8 ({e.reason} at byte {e.start}); re-save the file as UTF-8") from None
        buf.docs.append(doc)
        buf.names.append(f.relative_to(path).as_posix() if f != path else f.name)
        if labelled:
            buf.label_values.append(label)
        if len(buf) >= opts.batch_rows:
            yield buf.flush()
    if len(buf):
        yield buf.flush()
