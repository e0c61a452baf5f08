"""Load a fixed-length dataset (Parquet directory or NPY export) as arrays for training.

The whole split is held in memory (training reads it every epoch). Classes come from the
encoding's fitted classes when the data was encoded, so every split uses the same indices.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..dataset import open_source
from ..errors import InputError


@dataclass
class Arrays:
    x: np.ndarray  # (N, L) int64 token ids or (N, L, C) float32 readings; ragged: flat steps (n[, C])
    lengths: np.ndarray  # (N,) real steps
    y: np.ndarray  # (N,) class index, -1 where unknown
    ids: np.ndarray  # (N,) int64; repeated for windows and crops of one sequence
    classes: list
    vocab_size: int | None  # None for readings
    pad_side: str  # where the padding is: "start" or "end"
    offsets: np.ndarray | None = None  # variable-length data: row i is x[offsets[i]:offsets[i + 1]]

    @property
    def channels(self) -> int:
        if self.offsets is not None:
            return 1 if self.x.ndim == 1 else self.x.shape[1]
        return 1 if self.x.ndim == 2 else self.x.shape[2]

    @property
    def longest(self) -> int:
        return int(self.lengths.max()) if len(self.lengths) else 0


def load(path: str, *, classes: list | None = None) -> Arrays:
    """``path``: a dataset directory with fixed-length rows, or an NPY export (X.npy, meta.json)."""
    p = Path(path)
    if (p / "X.npy").exists() and (p / "meta.json").exists():
        return _load_npy(p, classes)
    return _load_parquet(path, classes)


def _load_npy(p: Path, classes: list | None) -> Arrays:
    meta = json.loads((p / "meta.json").read_text())
    x = np.load(p / "X.npy", mmap_mode="r", allow_pickle=False)
    lengths = np.load(p / "lengths.npy", allow_pickle=False)
    ids = np.load(p / "ids.npy", allow_pickle=False)
    data_classes = meta.get("classes")
    y = np.load(p / "y.npy", allow_pickle=False) if (p / "y.npy").exists() else np.full(len(ids), -1)
    if classes is not None and data_classes is not None and list(data_classes) != list(classes):
        names = np.array(data_classes, dtype=object)
        y = np.array([classes.index(names[i]) if i >= 0 and names[i] in classes else -1 for i in y])
    encoding = meta.get("encoding") or {}
    x = _as_model_input(np.asarray(x), str(p))
    return Arrays(x, lengths.astype(np.int64), y.astype(np.int64), ids.astype(np.int64),
                  list(classes if classes is not None else data_classes or []), _vocab_size(x, encoding),
                  (meta.get("padding") or {}).get("side", "start"))


def _load_parquet(path: str, classes: list | None) -> Arrays:
    source = open_source(path)
    encoding = (source.manifest or {}).get("encoding") or {}
    table = pa.Table.from_batches([b for _, batches in source.shard_batches() for b in batches], schema=source.schema)
    if source.padding is None:
        return _load_ragged(table, encoding, classes, path)
    seq = table.column("seq").combine_chunks()
    width = seq.type.list_size
    flat = seq.flatten()
    if pa.types.is_fixed_size_list(flat.type):
        x = flat.flatten().to_numpy(zero_copy_only=False).reshape(len(table), width, flat.type.list_size)
    elif pa.types.is_string(flat.type):
        raise InputError(f"{path}: seq holds string tokens; map them to ids with `seqprep encode` first")
    else:
        x = flat.to_numpy(zero_copy_only=False).reshape(len(table), width)
    classes, y = _labels(table, encoding, classes)
    x = _as_model_input(x, path)
    return Arrays(x, table.column("length").to_numpy().astype(np.int64), y,
                  table.column("id").to_numpy().astype(np.int64), list(classes), _vocab_size(x, encoding),
                  source.padding.get("side", "start"))


def _labels(table: pa.Table, encoding: dict, classes: list | None) -> tuple[list, np.ndarray]:
    """The classes (given, fitted, or those present, sorted) and each row's index, -1 if none."""
    classes = classes if classes is not None else encoding.get("classes")
    labels = table.column("label").to_pylist() if "label" in table.column_names else [None] * len(table)
    if classes is None:
        classes = sorted({v for v in labels if v is not None})
    index = {c: i for i, c in enumerate(classes)}
    return list(classes), np.array([index.get(v, -1) if v is not None else -1 for v in labels], dtype=np.int64)


def _load_ragged(table: pa.Table, encoding: dict, classes: list | None, path: str) -> Arrays:
    """Variable-length rows, used as they are: flat steps + offsets."""
    from ..ragged import from_arrow

    rows = from_arrow(table.column("seq"))
    if not isinstance(rows.values, np.ndarray):
        raise InputError(f"{path}: seq holds string tokens; map them to ids with `seqprep encode` first")
    values = rows.values
    if values.dtype.kind in "iu":
        if len(values) and values.min() < 0:
            raise InputError(f"{path}: token id {int(values.min())} is negative; ids start at 0 (the padding id)")
        values = values.astype(np.int64)
        vocab = int(encoding.get("vocab_size") or (int(values.max()) + 1 if len(values) else 2))
    else:
        values = no_nan(values.astype(np.float32), path)
        vocab = None
    classes, y = _labels(table, encoding, classes)
    return Arrays(values, np.diff(rows.offsets), y, table.column("id").to_numpy().astype(np.int64), classes,
                  vocab, "end", offsets=rows.offsets)


def _as_model_input(x: np.ndarray, where: str) -> np.ndarray:
    if x.dtype.kind in "iu":
        if x.ndim != 2:
            raise InputError(f"{where}: integer data must be (N, L) token ids")
        if len(x) and x.min() < 0:
            raise InputError(f"{where}: token id {int(x.min())} is negative; ids start at 0 (the padding id)")
        return x.astype(np.int64)
    return no_nan((x if x.ndim == 3 else x[:, :, None]).astype(np.float32), where)


def no_nan(x: np.ndarray, where: str) -> np.ndarray:
    """Readings a model can read: a NaN would turn every loss and weight into NaN."""
    nans = int(np.isnan(x).sum())
    if nans:
        raise InputError(f"{where}: {nans:,} readings are NaN (missing); replace them first: `seqprep fit` on the "
                         "training split, then `seqprep encode --normalize STATS` (NaN becomes --nan-value)")
    return x


def _vocab_size(x: np.ndarray, encoding: dict) -> int | None:
    """Token data: the encoding's vocabulary size, else the largest id + 1. Readings: None."""
    if x.dtype.kind == "f":
        return None
    return int(encoding.get("vocab_size") or (int(x.max()) + 1 if x.size else 2))
