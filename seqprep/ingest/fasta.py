"""FASTA: one record per sequence, bases as one-character string tokens."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..errors import InputError
from .common import IngestOptions, list_array, make_batch, open_binary


def records(path: Path) -> Iterator[tuple[int, str, bytes]]:
    """(header line number, header without '>', bases) for each record."""
    header, line_no, chunks = None, 0, []
    with open_binary(path) as f:
        for number, raw in enumerate(f, start=1):
            line = raw.strip()
            if line.startswith(b">"):
                if header is not None:
                    yield line_no, header, b"".join(chunks)
                try:
                    header = line[1:].decode("utf-8")
                except UnicodeDecodeError:
                    raise InputError(f"{path}:{number}: header is not valid UTF-8") from None
                line_no, chunks = number, []
            elif not line or line.startswith(b";"):
                continue
            elif header is None:
                raise InputError(f"{path}:{number}: sequence data before the first '>' header; is this FASTA?")
            else:
                if not line.isascii():
                    raise InputError(f"{path}:{number}: non-ASCII bytes in the sequence; FASTA bases are ASCII letters")
                chunks.append(b"".join(line.split()))
    if header is not None:
        yield line_no, header, b"".join(chunks)


def read_labels(path: Path) -> dict[str, str]:
    """A CSV of record id, label. A header line is harmless: its first field names no record."""
    out: dict[str, str] = {}
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            for row in reader:
                if not row:
                    continue
                if len(row) < 2:
                    raise InputError(f"{path}:{reader.line_num}: expected 'record id,label', got {','.join(row)!r}")
                if row[0] in out:
                    raise InputError(f"{path}:{reader.line_num}: record {row[0]!r} is labelled twice")
                out[row[0]] = row[1]
    except FileNotFoundError:
        raise InputError(f"{path}: no such labels file (--labels)") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not valid UTF-8; re-save the labels file as UTF-8") from None
    return out


def _bases(seqs: list[bytes]) -> pa.Array:
    """One-character string tokens over the concatenated bases, built without a per-base loop."""
    data = b"".join(seqs)
    offsets = np.arange(len(data) + 1, dtype=np.int64)
    if len(data) > 2**31 - 1:
        return pa.LargeStringArray.from_buffers(len(data), pa.py_buffer(offsets), pa.py_buffer(data))
    return pa.StringArray.from_buffers(len(data), pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data))


def read_fasta(path: Path, opts: IngestOptions) -> Iterator[pa.RecordBatch]:
    table = read_labels(Path(opts.labels)) if opts.labels else None
    regex = re.compile(opts.label_regex) if opts.label_regex else None
    seqs: list[bytes] = []
    names: list[str] = []
    labels: list[str] = []

    def flush() -> pa.RecordBatch:
        seq = list_array(_bases(seqs), [len(s) for s in seqs])
        label = pa.array(labels, pa.string()) if (table is not None or regex is not None) else None
        batch = make_batch(seq, label, name=pa.array(names, pa.string()))
        seqs.clear(), names.clear(), labels.clear()
        return batch

    for line_no, header, bases in records(path):
        name = header.split()[0] if header.split() else ""
        if table is not None:
            if name not in table:
                raise InputError(f"{path}:{line_no}: record {name!r} has no label in {opts.labels}")
            labels.append(table[name])
        elif regex is not None:
            m = regex.search(header)
            if m is None:
                raise InputError(f"{path}:{line_no}: --label-regex '{opts.label_regex}' does not match header {header!r}")
            labels.append(m.group(1) if regex.groups else m.group(0))
        seqs.append(bases.lower() if opts.lowercase else bases)
        names.append(name)
        if len(seqs) >= opts.batch_rows:
            yield flush()
    if seqs:
        yield flush()
