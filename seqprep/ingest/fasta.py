"""FASTA: one record per sequence, bases as one-character string tokens."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..errors import InputError
from .common import (BUFFER_LIMIT, MAX_SEQ_VALUES, IngestOptions, csv_hint, decode, list_array, make_batch,
                     raw_lines, regular_file, too_long)

PRINTABLE = bytes(range(33, 127))  # bases, IUPAC codes, gaps '-', stops '*'; never controls or NUL


def records(path: Path) -> Iterator[tuple[int, str, bytes]]:
    """(header line number, header without '>', bases) for each record."""
    header, line_no, chunks, size = None, 0, [], 0
    for number, raw in raw_lines(path):
        line = raw.strip()
        if line.startswith(b">"):
            if header is not None:
                yield line_no, header, b"".join(chunks)
            header = decode(line[1:], f"{path}:{number}: header")
            line_no, chunks, size = number, [], 0
        elif not line or line.startswith(b";"):
            continue
        elif header is None:
            raise InputError(f"{path}:{number}: sequence data before the first '>' header; is this FASTA?")
        else:
            if not line.isascii():
                raise InputError(f"{path}:{number}: non-ASCII bytes in the sequence; FASTA bases are ASCII letters")
            bases = b"".join(line.split())
            odd = bases.translate(None, PRINTABLE)
            if odd:
                raise InputError(f"{path}:{number}: control byte {odd[:1]!r} in the sequence; FASTA bases are "
                                 "printable ASCII letters")
            size += len(bases)
            if size > MAX_SEQ_VALUES:
                raise too_long(size, f"{path}:{line_no}: record {header.split()[0] if header.split() else ''!r}")
            chunks.append(bases)
    if header is not None:
        yield line_no, header, b"".join(chunks)


def read_labels(path: Path) -> dict[str, str]:
    """A CSV of record id, label. A header line is harmless: its first field names no record."""
    regular_file(path, " (--labels)")
    out: dict[str, str] = {}
    lines = (decode(raw, f"{path}:{number} (--labels)") for number, raw in raw_lines(path))
    reader = csv.reader(lines, strict=True)
    try:
        for row in reader:
            if not row:
                continue
            if len(row) < 2:
                raise InputError(f"{path}:{reader.line_num}: expected 'record id,label', got {','.join(row)!r}")
            if row[0] in out:
                raise InputError(f"{path}:{reader.line_num}: record {row[0]!r} is labelled twice")
            out[row[0]] = row[1]
    except csv.Error as e:
        raise InputError(f"{path}:{reader.line_num}: not valid CSV ({e}); {csv_hint(e)} (--labels)") from None
    return out


def _bases(seqs: list[bytes]) -> pa.Array:
    """One-character string tokens over the concatenated bases, built without a per-base loop."""
    data = b"".join(seqs)
    large = len(data) > 2**31 - 1
    offsets = np.arange(len(data) + 1, dtype=np.int64 if large else np.int32)
    kind = pa.LargeStringArray if large else pa.StringArray
    return kind.from_buffers(len(data), pa.py_buffer(offsets), pa.py_buffer(data))


def read_fasta(path: Path, opts: IngestOptions) -> Iterator[pa.RecordBatch]:
    table = read_labels(Path(opts.labels)) if opts.labels else None
    regex = re.compile(opts.label_regex) if opts.label_regex else None
    seqs: list[bytes] = []
    names: list[str] = []
    labels: list[str] = []
    size = 0

    def flush() -> pa.RecordBatch:
        nonlocal size
        seq = list_array(_bases(seqs), [len(s) for s in seqs])
        label = pa.array(labels, pa.string()) if (table is not None or regex is not None) else None
        batch = make_batch(seq, label, name=pa.array(names, pa.string()))
        seqs.clear(), names.clear(), labels.clear()
        size = 0
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
            label = m.group(1) if regex.groups else m.group(0)
            if label is None:
                raise InputError(f"{path}:{line_no}: --label-regex '{opts.label_regex}' matches header {header!r}, "
                                 "but its group 1 took no part in the match; make the group required")
            labels.append(label)
        seqs.append(bases.lower() if opts.lowercase else bases)
        names.append(name)
        size += len(bases)
        if len(seqs) >= opts.batch_rows or size >= BUFFER_LIMIT:
            yield flush()
    if seqs:
        yield flush()
