"""Stream a dataset into your own PyTorch training loop: ``SequenceDataset`` and ``pad_collate``.

    from torch.utils.data import DataLoader
    from seqprep.torch import SequenceDataset, pad_collate

    data = SequenceDataset("data/reviews-ids", shuffle=True, seed=0)
    for epoch in range(3):
        data.set_epoch(epoch)
        for x, lengths, y in DataLoader(data, batch_size=32, collate_fn=pad_collate, num_workers=2):
            ...  # x: (B, T) int64 token ids or (B, T[, C]) float32 readings, padded at the end

The data is read a piece at a time (a shard of a dataset directory, a batch at a time, through
the reader ``seqprep train`` and every command use: each shard's rows checked against the
manifest, a corrupt shard refused in one line; or 4,096 rows of an NPY export, read from
X.npy as ``train`` reads it), so memory stays bounded by ``buffer_size`` rows whatever the
dataset's size. Pieces are dealt to the DataLoader's workers and to the processes of a
distributed run (DDP ranks) without overlap: each row is read once per epoch by one of them (a
dataset of fewer shards than readers leaves some idle: cut more with ``--shard-rows``). With ``shuffle``, the order of
the pieces and, within a buffer of ``buffer_size`` rows, the order of the rows are drawn from
``seed`` and the epoch, so a run is the same every time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from ..errors import InputError
from ..exports import load_npy
from ..labels import class_order
from ..ragged import from_arrow
from .data import Rows, RowReader, Shards, _stated_vocab, no_nan_counts

NPY_PIECE = 4096  # rows of an NPY export dealt as one piece


class SequenceDataset(torch.utils.data.IterableDataset):
    """The rows of a seqprep dataset directory or NPY export as ``(x, length, y)``.

    Parameters
    ----------
    path : str
        A dataset directory (Parquet shards and manifest) or an NPY export (``X.npy``,
        ``meta.json``). Its steps must be numbers: token ids (use ``seqprep encode`` for string
        tokens) or readings.
    shuffle : bool, default False
        Deal the pieces in a seeded random order and shuffle rows within a buffer.
    seed : int, default 0
        Seeds the order; with :meth:`set_epoch`, each epoch has its own.
    buffer_size : int, default 4096
        Rows held for shuffling (per worker).
    classes : list, optional
        The classes ``y`` indexes; default: the classes the data was encoded with, else the
        labels present, sorted. A label not among them, or none, gives ``y = -1``.
    rank, world_size : int, optional
        This process's place in a distributed run; default: from ``torch.distributed`` when
        it is initialized, else 0 and 1.

    Yields
    ------
    x : torch.Tensor
        The row's real steps (padding removed): ``(length,)`` int64 token ids, or ``(length,)``
        / ``(length, C)`` float32 readings.
    length : int
    y : int
    """

    def __init__(self, path: str, *, shuffle: bool = False, seed: int = 0, buffer_size: int = 4096,
                 classes: list | None = None, rank: int | None = None, world_size: int | None = None):
        for name, value, low in (("buffer_size", buffer_size, 1), ("seed", seed, 0), ("world_size", world_size, 1),
                                 ("rank", rank, 0)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{name}={value!r} must be an integer")
            if value is not None and value < low:
                raise ValueError(f"{name}={value} must be >= {low}")
        if (rank is None) != (world_size is None) or (rank is not None and rank >= world_size):
            raise ValueError(f"rank={rank}, world_size={world_size}: give both, with 0 <= rank < world_size")
        if classes is not None and not isinstance(classes, (list, tuple)):
            raise ValueError(f"classes={classes!r} must be a list of the class labels")
        self.path = str(path)
        self.shuffle, self.seed, self.buffer_size = shuffle, seed, buffer_size
        self.rank, self.world_size = rank, world_size
        self.epoch = 0
        p = Path(self.path)
        if (p / "X.npy").is_file() and (p / "meta.json").is_file():
            self._source = _NpySource(p)
        else:
            self._source = _ParquetSource(self.path)
        self.classes = list(classes) if classes is not None else self._source.classes
        self._index = {c: i for i, c in enumerate(self.classes)}

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose order the next iteration follows (as DistributedSampler does)."""
        self.epoch = epoch

    def pieces(self) -> list:
        """The pieces this DataLoader worker of this process reads, in order."""
        pieces = list(range(self._source.n_pieces))
        if self.shuffle:
            np.random.default_rng([self.seed, self.epoch]).shuffle(pieces)
        rank, world = self._place()
        info = torch.utils.data.get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        consumer, consumers = rank * workers + worker, world * workers
        return pieces[consumer::consumers]

    def _place(self) -> tuple[int, int]:
        if self.world_size is not None:
            return self.rank or 0, self.world_size
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            return torch.distributed.get_rank(), torch.distributed.get_world_size()
        return 0, 1

    def __iter__(self) -> Iterator[tuple[torch.Tensor, int, int]]:
        rows = (row for piece in self.pieces() for row in self._source.rows(piece, self._index))
        if not self.shuffle:
            yield from rows
            return
        info = torch.utils.data.get_worker_info()
        rng = np.random.default_rng([self.seed, self.epoch, self._place()[0], info.id if info else 0, 1])
        buffer: list = []
        for row in rows:
            if len(buffer) < self.buffer_size:
                buffer.append(row)
                continue
            i = int(rng.integers(len(buffer)))
            buffer[i], row = row, buffer[i]
            yield row
        rng.shuffle(buffer)
        yield from buffer


def pad_collate(batch: list, *, side: str = "end", value=0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Stack ``(x, length, y)`` rows into ``(X, lengths, y)``, padding to the batch's longest row.

    ``X`` is ``(B, T)`` or ``(B, T, C)``; padding goes at the ``side`` given ("end" suits
    ``pack_padded_sequence``), filled with ``value``.
    """
    if not batch or not all(isinstance(row, (tuple, list)) and len(row) == 3 for row in batch):
        raise ValueError("batch: a non-empty list of (x, length, y) rows, as SequenceDataset yields")
    xs, lengths, ys = zip(*batch)
    longest = max(lengths)
    first = xs[0]
    X = torch.full((len(xs), longest, *first.shape[1:]), value, dtype=first.dtype)
    for i, (x, n) in enumerate(zip(xs, lengths)):
        if n:
            if side == "end":
                X[i, :n] = x
            else:
                X[i, longest - n:] = x
    return X, torch.tensor(lengths, dtype=torch.int64), torch.tensor(ys, dtype=torch.int64)


def _as_tensor_values(values: np.ndarray, where: str, vocab_size: int | None = None) -> np.ndarray:
    """int64 token ids or float32 readings, in memory torch may own (Arrow's and a memory map's
    buffers are read-only), checked as ``seqprep train`` checks them (:class:`Rows`): ids not
    negative and within the vocabulary the encoding states, readings neither NaN nor infinite."""
    if not isinstance(values, np.ndarray):
        raise InputError(f"{where}: seq holds string tokens; map them to ids with `seqprep encode` first")
    if values.dtype.kind in "iu":
        checks = Rows(where, stream=False)
        checks.check(values.reshape(len(values), -1))  # ids: negative, past int64
        checks.verdict()
        if vocab_size is not None and checks.top >= vocab_size:
            raise InputError(f"{where}: token id {checks.top} is beyond the vocabulary size {vocab_size} its encoding "
                             "states; the data is damaged, encode it again")
        values = values.astype(np.int64, copy=False)
    else:
        values = values.astype(np.float32, copy=False)
        no_nan_counts(int(np.isnan(values).sum()), int(np.isinf(values).sum()), where)
    return values if values.flags.writeable else values.copy()


class _ParquetSource:
    """Pieces: the shards, read as every seqprep command reads them (:class:`Shards`)."""

    def __init__(self, path: str):
        self.shards = Shards(path)
        source = self.shards.source
        self.where = path
        self.padding = source.padding
        self.n_pieces = self.shards.n
        self.vocab_size = _stated_vocab(self.shards.encoding, path)
        classes = self.shards.encoding.get("classes")
        if classes is None:
            labels = (source.manifest or {}).get("labels") or {}
            counts = labels.get("counts") or {}
            classes = class_order(int(k) for k in counts) if labels.get("type") == "int64" else class_order(counts)
        self.classes = list(classes)

    def rows(self, piece: int, index: dict) -> Iterator[tuple[torch.Tensor, int, int]]:
        for batch in self.shards.batches(piece):
            padded = self.padding is not None and "length" in batch.schema.names
            rows = from_arrow(batch.column("seq"), batch.column("length") if padded else None,
                              self.padding.side if padded else "end")
            values = torch.from_numpy(_as_tensor_values(rows.values, self.where, self.vocab_size))
            labels = batch.column("label").to_pylist() if "label" in batch.schema.names else [None] * batch.num_rows
            offsets = rows.offsets.tolist()
            for i, label in enumerate(labels):
                yield values[offsets[i]:offsets[i + 1]], offsets[i + 1] - offsets[i], index.get(label, -1)


class _NpySource:
    """Pieces: blocks of NPY_PIECE rows of the memory-mapped arrays."""

    def __init__(self, p: Path):
        self.x, self.lengths, self.y, meta = load_npy(p)
        self.reader = RowReader(self.x)  # read, not mapped: the pages of X never pile up in memory
        self.classes = list(meta.get("classes") or [])
        padding, encoding = meta.get("padding") or {}, meta.get("encoding") or {}
        self.side = padding.get("side", "start") if isinstance(padding, dict) else None  # as train reads it
        if self.side not in ("start", "end") or not isinstance(encoding, dict):
            raise InputError(f"{p / 'meta.json'}: its encoding or padding entry is damaged; export the data again")
        self.vocab_size = _stated_vocab(encoding, p / "meta.json")
        self.n_pieces = -(-len(self.x) // NPY_PIECE)

    def rows(self, piece: int, index: dict) -> Iterator[tuple[torch.Tensor, int, int]]:
        start = piece * NPY_PIECE
        x = self.reader.block(start, start + NPY_PIECE)
        x = torch.from_numpy(_as_tensor_values(x, str(self.reader.path), self.vocab_size))
        for i, n in enumerate(self.lengths[start:start + NPY_PIECE].tolist()):
            row = x[i, :n] if self.side == "end" else x[i, x.shape[1] - n:]
            yield row, n, int(self.y[start + i]) if self.y is not None else -1
