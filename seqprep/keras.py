"""Keras 3 loader for seqprep datasets: ``from seqprep.keras import SequenceBatches``.

    model.fit(SequenceBatches("data/reviews-ids", batch_size=32, shuffle=True), epochs=3)

Batch ``i`` is rows ``[i*B, (i+1)*B)`` of the dataset, read on demand (a Parquet row group or a
slice of the memory-mapped NPY export), so memory stays bounded by a few batches. With
``shuffle``, the order of the batches is drawn anew each epoch from ``seed``. Importing this
module imports keras; ``import seqprep`` does not.
"""

from __future__ import annotations

import bisect
import importlib.util
import os
from pathlib import Path

# Keras 3 defaults to the TensorFlow backend and fails to import without it; where only PyTorch
# is installed (as `make install-train` does), use that, unless the user chose a backend.
if "KERAS_BACKEND" not in os.environ and importlib.util.find_spec("tensorflow") is None \
        and importlib.util.find_spec("torch") is not None:
    os.environ["KERAS_BACKEND"] = "torch"

import keras  # noqa: E402
import numpy as np  # noqa: E402

from .dataset import open_source, parquet_file
from .errors import InputError
from .exports import load_npy
from .labels import class_order
from .ragged import from_arrow


class SequenceBatches(keras.utils.PyDataset):
    """Padded batches ``(X, y)`` of a seqprep dataset directory or NPY export.

    Parameters
    ----------
    path : str
        A dataset directory or an NPY export, of token ids or readings.
    batch_size : int, default 32
    shuffle : bool, default False
        Visit the batches in a new seeded order each epoch.
    seed : int, default 0
    length : int, optional
        Pad (and truncate, keeping the end) every batch to this many steps; default: the
        batch's longest row (an NPY export keeps its own length).
    side : {"start", "end"}, default "start"
        Where the padding goes (keras ``pad_sequences``' default is "pre", the start).
    **kwargs
        ``workers``, ``use_multiprocessing``, ``max_queue_size``, as for ``keras.utils.PyDataset``.
    """

    def __init__(self, path: str, batch_size: int = 32, *, shuffle: bool = False, seed: int = 0,
                 length: int | None = None, side: str = "start", **kwargs):
        super().__init__(**kwargs)
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size} must be >= 1")
        if side not in ("start", "end"):
            raise ValueError(f"side={side!r} must be 'start' or 'end'")
        self.batch_size, self.shuffle, self.seed, self.length, self.side = batch_size, shuffle, seed, length, side
        p = Path(path)
        self._npy = (p / "X.npy").is_file() and (p / "meta.json").is_file()
        if self._npy:
            self._x, self._lengths, self._y, meta = load_npy(p)
            self.classes = list(meta.get("classes") or [])
            self.rows = len(self._x)
        else:
            source = open_source(path)
            self._padding = source.padding
            self._files = source.shard_files()
            self._groups = []  # (first row, shard, row group), in order
            first = 0
            for s, f in enumerate(self._files.paths):
                md = parquet_file(f).metadata
                for g in range(md.num_row_groups):
                    self._groups.append((first, s, g))
                    first += md.row_group(g).num_rows
            self.rows = first
            labels = (source.manifest or {}).get("labels") or {}
            encoding = (source.manifest or {}).get("encoding") or {}
            counts = labels.get("counts") or {}
            self.classes = list(encoding.get("classes") or (class_order(int(k) for k in counts)
                                                               if labels.get("type") == "int64" else class_order(counts)))
            self._index = {c: i for i, c in enumerate(self.classes)}
        self._order = np.arange(len(self))
        self.on_epoch_end(epoch=-1)

    def __len__(self) -> int:
        return -(-self.rows // self.batch_size)

    def on_epoch_end(self, epoch: int | None = None) -> None:
        self._epoch = getattr(self, "_epoch", -1) + 1 if epoch is None else epoch + 1
        if self.shuffle:
            self._order = np.random.default_rng([self.seed, self._epoch]).permutation(len(self))

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= i < len(self):
            raise IndexError(f"batch {i} of {len(self)}")
        start = int(self._order[i]) * self.batch_size
        stop = min(start + self.batch_size, self.rows)
        if self._npy:
            return self._npy_batch(start, stop)
        return self._parquet_batch(start, stop)

    def _npy_batch(self, start: int, stop: int):
        x = np.asarray(self._x[start:stop])
        y = self._y[start:stop] if self._y is not None else np.full(stop - start, -1, np.int64)
        if self.length is not None and self.length != x.shape[1]:
            from .compute import pad

            seqs = [row[:n] if self.side == "end" else row[len(row) - n:] for row, n in zip(x, self._lengths[start:stop])]
            x, _ = pad(seqs, self.length, side=self.side)
        return x, np.asarray(y, dtype=np.int64)

    def _parquet_batch(self, start: int, stop: int):
        from .compute import pad

        seqs, labels = [], []
        k = bisect.bisect_right([g[0] for g in self._groups], start) - 1
        while start < stop:
            first, s, g = self._groups[k]
            table = parquet_file(self._files.paths[s]).read_row_group(g)
            part = table.slice(start - first, stop - start)
            padded = self._padding is not None and "length" in part.column_names
            rows = from_arrow(part.column("seq"), part.column("length") if padded else None,
                              self._padding.side if padded else "end")
            if not isinstance(rows.values, np.ndarray):
                raise InputError(f"{self._files.names[s]}: seq holds string tokens; map them to ids with "
                                 "`seqprep encode` first")
            seqs += [rows.values[rows.offsets[j]:rows.offsets[j + 1]] for j in range(rows.n_rows)]
            labels += part.column("label").to_pylist() if "label" in part.column_names else [None] * part.num_rows
            start += part.num_rows
            k += 1
        x, _ = pad(seqs, self.length, side=self.side)
        return x, np.array([self._index.get(v, -1) for v in labels], dtype=np.int64)
