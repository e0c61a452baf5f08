"""What every input reader shares: options, batches of parsed rows, label typing."""

from __future__ import annotations

import gzip
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..dataset import BATCH_ROWS
from ..errors import InputError, UsageError, positive

TOKENIZERS = ("whitespace", "char")  # and "regex:PATTERN"


@dataclass(frozen=True)
class IngestOptions:
    """How to read the source; which options apply depends on its format."""

    format: str = "auto"
    text_column: str = "text"
    label_column: str | None = None  # None: "label" where there is one
    seq_column: str = "seq"
    id_column: str | None = None
    tokenizer: str = "whitespace"
    lowercase: bool = False
    labels: str | None = None  # FASTA: CSV of record id, label
    label_regex: str | None = None  # FASTA: label from the header
    shard_rows: int = 10_000
    batch_rows: int = BATCH_ROWS

    def check(self) -> None:
        positive(("--shard-rows", self.shard_rows))
        if self.tokenizer not in TOKENIZERS and not self.tokenizer.startswith("regex:"):
            raise UsageError(f"--tokenizer {self.tokenizer!r} must be whitespace, char or regex:PATTERN")
        if self.labels is not None and self.label_regex is not None:
            raise UsageError("give --labels or --label-regex, not both")


def open_binary(path: Path):
    """A binary reader, through gzip for ``.gz`` files; ``-`` is stdin."""
    if str(path) == "-":
        return sys.stdin.buffer
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return open(path, "rb")


def text_lines(path: Path):
    """(line number, text) for each line of a UTF-8 file; invalid UTF-8 names the line."""
    with open_binary(path) as f:
        for number, raw in enumerate(f, start=1):
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise InputError(f"{path}:{number}: not valid UTF-8 ({e.reason} at byte {e.start}); re-save the file as UTF-8") from None


class LabelTyper:
    """Keeps one label type (int64 or string) across a whole source, naming the line that breaks it."""

    def __init__(self, where: str):
        self.where = where
        self.kind: str | None = None

    def check(self, value, line) -> object:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise InputError(f"{self.where}:{line}: label {value!r} must be a string or an integer")
        kind = "int64" if isinstance(value, int) else "string"
        if self.kind is None:
            self.kind = kind
        elif kind != self.kind:
            raise InputError(
                f"{self.where}:{line}: label {value!r} is {'an integer' if kind == 'int64' else 'a string'} "
                f"but earlier labels are {'integers' if self.kind == 'int64' else 'strings'}; use one type"
            )
        return value

    def array(self, values: list) -> pa.Array:
        return pa.array(values, type=pa.int64() if self.kind == "int64" else pa.string())


def list_array(values, lengths) -> pa.Array:
    """A ``list<T>`` array from flat Arrow values and per-row lengths."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if offsets[-1] > 2**31 - 1:
        return pa.LargeListArray.from_arrays(pa.array(offsets), values)
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values)


def make_batch(seq: pa.Array, label: pa.Array | None = None, **extra: pa.Array) -> pa.RecordBatch:
    """A batch of ``seq``, ``label`` (when there are labels) and extra columns; ``id`` comes later."""
    arrays, names = [seq], ["seq"]
    if label is not None:
        arrays.append(label)
        names.append("label")
    for name, arr in extra.items():
        arrays.append(arr)
        names.append(name)
    return pa.RecordBatch.from_arrays(arrays, names=names)
