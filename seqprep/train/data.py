"""Load a fixed-length dataset (Parquet directory or NPY export) as arrays for training.

The whole split is held in memory (training reads it every epoch). Classes come from the
encoding's fitted classes when the data was encoded, so every split uses the same indices.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..dataset import BATCH_ROWS, open_source
from ..errors import InputError
from ..labels import class_order
from ..exports import load_npy, npy_array, per_row  # the one check of an NPY export's arrays


@dataclass
class Arrays:
    x: np.ndarray  # (N, L) int64 token ids or (N, L, C) float32 readings; ragged: flat steps (n[, C])
    lengths: np.ndarray  # (N,) real steps
    y: np.ndarray  # (N,) class index, -1 where unknown
    ids: np.ndarray  # (N,) int64; repeated for windows and crops of one sequence
    classes: list
    vocab_size: int | None  # None for readings
    pad_side: str  # where the padding is: "start" or "end"
    # variable-length data: row i is x[offsets[i]:offsets[i] + lengths[i]] (N + 1 entries; held in
    # memory the rows lie one after another; a subset of steps mapped from a file keeps the file's)
    offsets: np.ndarray | None = None
    unknown: dict = field(default_factory=dict)  # labels not among the classes asked for: rows of each

    @property
    def channels(self) -> int:
        if self.offsets is not None:
            return 1 if self.x.ndim == 1 else self.x.shape[1]
        return 1 if self.x.ndim == 2 else self.x.shape[2]

    @property
    def longest(self) -> int:
        return int(self.lengths.max()) if len(self.lengths) else 0


def load(path: str, *, classes: list | None = None, stream: bool | None = None) -> Arrays:
    """``path``: a dataset directory with fixed-length rows, or an NPY export (X.npy, meta.json).
    Every array read back is checked: one entry per row, lengths within the rows, class indices
    and token ids within their lists; one line naming the file and the values otherwise.

    An NPY export whose model input would take more than ``IN_MEMORY_LIMIT`` bytes (or any,
    with ``stream=True``) is not read into memory: its rows are read batch by batch from the
    file (:class:`RowReader`), after one pass of checks a chunk at a time."""
    p = Path(path)
    if (p / "X.npy").exists() and (p / "meta.json").exists():
        a = _load_npy(p, classes, stream)
    else:
        a = _load_parquet(path, classes, stream)
    width = None if a.offsets is not None else a.x.shape[1]
    if len(a.lengths) and (a.lengths.min() < 0 or (width is not None and a.lengths.max() > width)):
        bad = int(a.lengths.min()) if a.lengths.min() < 0 else int(a.lengths.max())
        raise InputError(f"{path}: length {bad} is outside 0..{width} (the rows' length); the data is damaged, "
                         "make it again")
    if a.vocab_size is not None and a.x.size and largest(a.x) >= a.vocab_size:
        raise InputError(f"{path}: token id {largest(a.x)} is beyond the vocabulary size {a.vocab_size} its "
                         "encoding states; the data is damaged, encode it again")
    return a


def _load_npy(p: Path, classes: list | None, stream: bool | None = None) -> Arrays:
    x, lengths, y, meta = load_npy(p)
    ids = per_row(p, "ids.npy", npy_array(p, "ids.npy"), x)
    y = np.full(len(x), -1, dtype=np.int64) if y is None else y
    data_classes = class_list(meta.get("classes"), p / "meta.json", allow_none=True)
    unknown: dict = {}
    if classes is not None and data_classes is not None and list(data_classes) != list(classes):
        index = {c: i for i, c in enumerate(classes)}
        remap = np.array([index.get(c, -1) for c in data_classes] + [-1], dtype=np.int64)
        for i in np.unique(y[(y >= 0) & (remap[y] < 0)]):
            unknown[data_classes[i]] = int((y == i).sum())
        y = remap[y]  # y = -1 picks the last entry, -1
    encoding = meta.get("encoding") or {}
    side = (meta.get("padding") or {}).get("side", "start") if isinstance(meta.get("padding") or {}, dict) else None
    if not isinstance(encoding, dict) or side not in ("start", "end"):
        raise InputError(f"{p / 'meta.json'}: its encoding or padding entry is damaged; export the data again")
    per_value = 8 if x.dtype.kind in "iu" else 4  # int64 ids, float32 readings
    if stream or (stream is None and x.size * per_value > IN_MEMORY_LIMIT):
        x = streamed_input(x, str(p / "X.npy"))
    else:
        x = _as_model_input(np.asarray(x), str(p / "X.npy"))
    return Arrays(x, lengths, y, ids, list(classes if classes is not None else data_classes or []),
                  _vocab_size(x, encoding, p / "meta.json"), side, unknown=unknown)


def class_list(classes, where, *, allow_none: bool = False) -> list | None:
    """A list of classes read from a file: distinct strings or distinct integers."""
    if classes is None and allow_none:
        return None
    kinds = {type(c) for c in classes} if isinstance(classes, list) else {None}
    if not (kinds <= {str} or kinds <= {int}) or len(set(classes)) != len(classes):
        shown = repr(classes)[:200]
        raise InputError(f"{where}: the class list {shown} must be distinct strings or distinct integers; make it "
                         "again")
    return classes


class Shards:
    """A dataset's rows shard by shard, through the reader every seqprep command uses (regular
    files only, each shard's rows counted against the manifest, a corrupt shard one line, a
    batch's memory bounded): what ``train`` and :class:`seqprep.torch.SequenceDataset` read. A
    stream or a single file is one shard."""

    def __init__(self, path: str, batch_rows: int = BATCH_ROWS, *, source=None):
        self.path = path
        self.source = open_source(path) if source is None else source
        self.batch_rows = batch_rows
        self.files = None if self.source.in_process else self.source.shard_files(batch_rows)
        self.n = 1 if self.files is None else len(self.files.paths)
        encoding = (self.source.manifest or {}).get("encoding") or {}
        if not isinstance(encoding, dict):
            raise InputError(f"{path}: its manifest's encoding entry is damaged; make the dataset again")
        self.encoding = encoding

    def batches(self, i: int):
        """Shard ``i``'s record batches, in order."""
        if self.files is None:
            return (b for _, batches in self.source.shard_batches(self.batch_rows) for b in batches)
        return self.files.batches(i)

    def name(self, i: int) -> str:
        return self.path if self.files is None else self.files.names[i]

    def __iter__(self):
        for i in range(self.n):
            yield from self.batches(i)

    def checked(self):
        """``(shard name, batch)`` in order, each batch's columns of the types the dataset's
        schema gives (a shard of other types, or with a null seq, refused in one line)."""
        schema = self.source.schema
        for i in range(self.n):
            for batch in self.batches(i):
                for f in schema:
                    if f.name in ("id", "seq", "length", "label") and (
                            f.name not in batch.schema.names or not _same_type(batch.schema.field(f.name).type, f.type)):
                        found = batch.schema.field(f.name).type if f.name in batch.schema.names else "missing"
                        raise InputError(f"{self.name(i)}: column {f.name!r} is {found}, but the dataset's schema "
                                         f"says {f.type}; the shards disagree: make the dataset again")
                if batch.column("seq").null_count:
                    raise InputError(f"{self.name(i)}: {batch.column('seq').null_count} rows have no seq (null); "
                                     "make the dataset again")
                yield self.name(i), batch


def _same_type(a: pa.DataType, b: pa.DataType) -> bool:
    """The same type, whatever a list's item is named or whether a field may hold nulls."""
    return a == b or str(a).replace(" not null", "") == str(b).replace(" not null", "")


def _load_parquet(path: str, classes: list | None, stream: bool | None = None) -> Arrays:
    source = open_source(path)
    seq_type = source.schema.field("seq").type
    batch_rows = BATCH_ROWS
    if source.padding is not None and pa.types.is_fixed_size_list(seq_type):
        # Batches of about READ_BYTES: read ahead, decoded and converted, a few are held at once.
        batch_rows = max(1, min(BATCH_ROWS, READ_BYTES // _row_bytes(seq_type)))
    steps_bytes = None
    if source.padding is None:  # the same for variable-length rows, sized by the longest
        lengths = (source.manifest or {}).get("lengths") or {}
        if not isinstance(lengths, dict):
            raise InputError(f"{path}: its manifest's lengths entry is damaged ({type(lengths).__name__}); make "
                             "the dataset again")
        step = _step_bytes(seq_type)
        longest, total = lengths.get("max"), lengths.get("total")
        if isinstance(longest, int) and longest > 0:
            batch_rows = max(1, min(BATCH_ROWS, READ_BYTES // (longest * step)))
        if isinstance(total, int) and total >= 0:
            steps_bytes = total * step
    shards = Shards(path, batch_rows, source=source)
    encoding = shards.encoding
    if source.padding is None:
        if stream is None and steps_bytes is not None and steps_bytes > IN_MEMORY_LIMIT:
            stream = True  # the manifest says they will not be held: to the file from the first batch
        return _load_ragged(shards, source.schema, encoding, classes, path, stream, steps_bytes)
    if not pa.types.is_fixed_size_list(seq_type) or "length" not in source.schema.names:
        raise InputError(f"{path}: padded, but seq is not of fixed size or there is no length column; make the "
                         "dataset again")
    if pa.types.is_string(seq_type.value_type) or pa.types.is_large_string(seq_type.value_type):
        raise InputError(f"{path}: seq holds string tokens; map them to ids with `seqprep encode` first")
    if stream is None and source.rows is not None and source.rows * _row_bytes(seq_type) > IN_MEMORY_LIMIT:
        stream = True  # the manifest says it will not be held: to the file from the first batch
    rows = Rows(path, stream, None if source.rows is None else source.rows * _row_bytes(seq_type))
    small: dict[str, list] = {"id": [], "length": [], "label": []}
    for _, batch in shards.checked():
        rows.add(_padded_input(batch.column("seq"), seq_type.list_size))
        for name in small:
            if name in batch.schema.names:
                small[name].append(batch.column(name))
    if rows.shape is None:  # no rows: the empty array of the stored shape
        rows.add(_padded_input(pa.array([], seq_type), seq_type.list_size))
    x = rows.finish()
    table = pa.table({name: pa.chunked_array(chunks, source.schema.field(name).type)
                      for name, chunks in small.items() if name in source.schema.names})
    classes, y, unknown = _labels(table, encoding, classes, path)
    return Arrays(x, table.column("length").to_numpy().astype(np.int64), y,
                  table.column("id").to_numpy().astype(np.int64), list(classes), _vocab_size(x, encoding, path),
                  source.padding.side, unknown=unknown)


READ_BYTES = 1 << 26  # a batch of padded rows read for training holds about this much model input


def _row_bytes(seq_type: pa.DataType) -> int:
    """The model input one row of a fixed-size seq takes: int64 ids or float32 readings."""
    steps, t = seq_type.list_size, seq_type.value_type
    if pa.types.is_fixed_size_list(t):
        steps, t = steps * t.list_size, t.value_type
    return max(1, steps * (8 if pa.types.is_integer(t) else 4))


def _step_bytes(seq_type: pa.DataType) -> int:
    """The model input one step of a variable-length seq takes: an int64 id or float32 readings."""
    t = seq_type.value_type if hasattr(seq_type, "value_type") else seq_type
    channels = 1
    if pa.types.is_fixed_size_list(t):
        channels, t = t.list_size, t.value_type
    return max(1, channels * (8 if pa.types.is_integer(t) else 4))


def _padded_input(seq: pa.Array, width: int) -> np.ndarray:
    """A batch's fixed-size seq as stored: (n, L) or (n, L, C) numbers."""
    flat = seq.flatten()
    if pa.types.is_fixed_size_list(flat.type):
        return flat.flatten().to_numpy(zero_copy_only=False).reshape(len(seq), width, flat.type.list_size)
    return flat.to_numpy(zero_copy_only=False).reshape(len(seq), width)


class Rows:
    """A padded split's model input gathered batch by batch, with the checks of
    :func:`_as_model_input` counted over all of it: held in memory while it takes at most
    ``IN_MEMORY_LIMIT`` bytes (or with ``stream=False``), else (or with ``stream=True``) written
    to an unlinked temporary file in ``TMPDIR`` and read back a batch at a time
    (:class:`RowReader`): the file goes when the data does, even if the process is killed."""

    def __init__(self, where: str, stream: bool | None, expected: int | None = None):
        self.where, self.stream, self.expected = where, stream, expected  # expected: bytes, when known
        self.held: list[np.ndarray] = []
        self.bytes = 0
        self.spill = None
        self.low, self.top, self.nans, self.infs = 0, 0, 0, 0
        self.ids = False  # token ids (int64), else readings (float32)
        self.shape: tuple | None = None

    def check(self, x: np.ndarray) -> np.ndarray:
        """``x`` as the model takes it (int64 ids, float32 ``(n, L, C)`` readings), its negative
        ids, largest id, NaNs and infinities counted."""
        if x.dtype.kind in "iu":
            self.ids = True
            if x.ndim != 2:
                raise InputError(f"{self.where}: integer data must be (N, L) token ids")
            if x.size:
                self.low, self.top = min(self.low, int(x.min())), max(self.top, int(x.max()))
            if self.top > np.iinfo(np.int64).max:
                raise InputError(f"{self.where}: token id {self.top} does not fit int64; encode the data again")
            return x.astype(np.int64, copy=False)
        x = (x if x.ndim == 3 else x[:, :, None]).astype(np.float32, copy=False)
        self.nans += int(np.isnan(x).sum())
        self.infs += int(np.isinf(x).sum())
        return x

    def verdict(self) -> None:
        """One line for the first thing wrong in all that was checked."""
        if self.low < 0:
            raise InputError(f"{self.where}: token id {self.low} is negative; ids start at 0 (the padding id)")
        no_nan_counts(self.nans, self.infs, self.where)

    def add(self, x: np.ndarray) -> None:
        x = self.check(x)
        self.shape = x.shape if self.shape is None else (self.shape[0] + len(x),) + x.shape[1:]
        self.bytes += x.nbytes
        try:
            if self.spill is None and (self.stream or (self.stream is None and self.bytes > IN_MEMORY_LIMIT)):
                self._open_spill()
            if self.spill is None:
                self.held.append(x)
                return
            self.spill.write(np.ascontiguousarray(x).data)
        except OSError as e:
            self._failed(e)

    def _failed(self, e: OSError):
        need = max(self.expected or 0, self.bytes)
        raise InputError(f"{self.where}: larger than memory, so it is copied to a temporary file in "
                         f"{os.environ.get('TMPDIR') or tempfile.gettempdir()}, which failed ({e.strerror or e}); set TMPDIR to a disk with "
                         f"room for {need / 2**30:.2f} GiB") from None

    def _open_spill(self) -> None:
        asked = os.environ.get("TMPDIR")
        if asked and not (os.path.isdir(asked) and os.access(asked, os.W_OK | os.X_OK)):
            raise InputError(f"{self.where}: larger than memory, so it is copied to a temporary file in TMPDIR, but "
                             f"TMPDIR={asked} is not a writable directory; set TMPDIR to a disk with room for "
                             f"{max(self.expected or 0, self.bytes) / 2**30:.2f} GiB")
        self.spill = tempfile.TemporaryFile(prefix="seqprep-train-", dir=asked or None)
        for x in self.held:
            self.spill.write(np.ascontiguousarray(x).data)
        self.held = []

    def finish(self) -> "np.ndarray | RowReader":
        self.verdict()
        if self.spill is None:
            x = self.held[0] if len(self.held) == 1 else np.concatenate(self.held)
            return x if x.flags.writeable else x.copy()  # Arrow's buffers are read-only
        try:
            self.spill.flush()
        except OSError as e:
            self._failed(e)
        return self._from_file(np.dtype(np.int64) if self.ids else np.dtype(np.float32))

    def _from_file(self, dtype: np.dtype) -> "RowReader":
        """The spilled rows, read a batch at a time."""
        return RowReader(RawRows(self.spill, 0, self.shape, dtype, self.where), top=self.top)


def _labels(table: pa.Table, encoding: dict, classes: list | None, path: str) -> tuple[list, np.ndarray, dict]:
    """The classes (given, fitted, or those present, sorted), each row's index (-1 if none) and
    the labels not among the given classes, with their row counts."""
    classes = class_list(classes if classes is not None else encoding.get("classes"), path, allow_none=True)
    labels = [None] * len(table)
    if "label" in table.column_names:
        kind = table.column("label").type
        if not (pa.types.is_integer(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind)
                or pa.types.is_null(kind) or pa.types.is_dictionary(kind)):
            raise InputError(f"{path}: the label column is of type {kind}; labels are integers or strings")
        labels = table.column("label").to_pylist()
    if classes is None:
        classes = class_order(labels)
    index = {c: i for i, c in enumerate(classes)}
    unknown: dict = {}
    for v in labels:
        if v is not None and v not in index:
            unknown[v] = unknown.get(v, 0) + 1
    return list(classes), np.array([index.get(v, -1) if v is not None else -1 for v in labels], dtype=np.int64), unknown


def _load_ragged(shards: "Shards", schema: pa.Schema, encoding: dict, classes: list | None, path: str,
                 stream: bool | None, expected: int | None = None) -> Arrays:
    """Variable-length rows, used as they are: flat steps + offsets, gathered batch by batch and
    checked as they come (:class:`Steps`): held in memory up to ``IN_MEMORY_LIMIT`` bytes, else
    (or with ``stream=True``) copied to an unlinked temporary file and mapped from it."""
    from ..ragged import from_arrow

    steps = Steps(path, stream, expected)
    lengths: list[np.ndarray] = []
    small: dict[str, list] = {"id": [], "label": []}
    for _, batch in shards.checked():
        rows = from_arrow(batch.column("seq"))
        if not isinstance(rows.values, np.ndarray):
            raise InputError(f"{path}: seq holds string tokens; map them to ids with `seqprep encode` first")
        steps.add(rows.values)
        lengths.append(np.diff(rows.offsets).astype(np.int64))
        for name in small:
            if name in batch.schema.names:
                small[name].append(batch.column(name))
    if steps.shape is None:  # no rows: the empty steps of the stored type
        empty = from_arrow(pa.array([], schema.field("seq").type)).values
        if not isinstance(empty, np.ndarray):
            raise InputError(f"{path}: seq holds string tokens; map them to ids with `seqprep encode` first")
        steps.add(empty)
    values = steps.finish()
    table = pa.table({name: pa.chunked_array(chunks, schema.field(name).type)
                      for name, chunks in small.items() if name in schema.names})
    length = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)
    if values.dtype.kind in "iu":
        vocab = _stated_vocab(encoding, path) or (steps.top + 1 if len(values) else 2)
    else:
        vocab = None
    classes, y, unknown = _labels(table, encoding, classes, path)
    offsets = np.concatenate([[0], np.cumsum(length)]).astype(np.int64)
    return Arrays(values, length, y, table.column("id").to_numpy().astype(np.int64), classes, vocab, "end",
                  offsets=offsets, unknown=unknown)


class Steps(Rows):
    """A variable-length split's steps (flat: ``(n,)`` ids or readings, ``(n, C)`` channels),
    gathered and checked as :class:`Rows` gathers padded rows; past ``IN_MEMORY_LIMIT`` bytes
    (or with ``stream=True``) written to an unlinked temporary file and mapped read-only from it
    (:func:`release` hands the pages a batch read back to the kernel)."""

    def check(self, x: np.ndarray) -> np.ndarray:
        if x.dtype.kind in "iu":
            return super().check(x.reshape(1, -1)).reshape(-1)  # int64; negative ids, ids past int64
        x = x.astype(np.float32, copy=False)
        self.nans += int(np.isnan(x).sum())
        self.infs += int(np.isinf(x).sum())
        return x

    def _from_file(self, dtype: np.dtype) -> np.ndarray:
        """The spilled steps, mapped read-only (no pages read until a batch asks)."""
        if not self.shape[0]:
            return np.zeros(self.shape, dtype=dtype)
        x = np.memmap(self.spill, dtype=dtype, mode="r", shape=self.shape)
        x.top = self.top  # the largest id, counted as the steps came: no second pass over the file
        return x


def largest(x) -> int:
    """The largest token id of ``x``: counted when steps were mapped from a file, else read."""
    top = getattr(x, "top", None) if isinstance(x, np.memmap) else None
    return int(top) if top is not None else int(x.max())


def release(x: np.ndarray) -> None:
    """Steps mapped from a file: drop the pages read so far from this process (they stay in
    the page cache), so memory holds a batch, not the split. In memory: nothing to do."""
    mm = getattr(x, "_mmap", None)
    if mm is not None and hasattr(mm, "madvise"):
        import mmap

        mm.madvise(mmap.MADV_DONTNEED)


def _as_model_input(x: np.ndarray, where: str) -> np.ndarray:
    rows = Rows(where, stream=False)
    rows.add(x)
    return rows.finish()


def no_nan(x: np.ndarray, where: str) -> np.ndarray:
    """Readings a model can read: a NaN or an infinity would turn every loss and weight into NaN."""
    no_nan_counts(int(np.isnan(x).sum()), int(np.isinf(x).sum()), where)
    return x


def no_nan_counts(nans: int, infs: int, where: str) -> None:
    if nans:
        raise InputError(f"{where}: {nans:,} readings are NaN (missing); replace them first: `seqprep fit` on the "
                         "training split, then `seqprep encode --normalize STATS` (NaN becomes --nan-value)")
    if infs:
        raise InputError(f"{where}: {infs:,} readings are infinite; a model cannot learn from them: fix or drop "
                         "those rows first")


def _vocab_size(x: np.ndarray, encoding: dict, where) -> int | None:
    """Token data: the encoding's vocabulary size, else the largest id + 1. Readings: None."""
    if x.dtype.kind == "f":
        return None
    return _stated_vocab(encoding, where) or (int(x.max()) + 1 if x.size else 2)


def _stated_vocab(encoding: dict, where) -> int | None:
    """The vocabulary size an encoding states, if it states one: a positive integer."""
    v = encoding.get("vocab_size")
    if v is not None and (type(v) is not int or v < 1):
        raise InputError(f"{where}: encoding vocab_size={v!r} must be a positive integer; encode the data again")
    return v


def check_fits(data: Arrays, vocab_size: int | None, channels: int, where: str) -> None:
    """One clear line when a dataset does not fit a model: token ids vs readings, vocabulary, channels."""
    if (vocab_size is None) != (data.vocab_size is None):
        kind = "token ids" if data.vocab_size is not None else "readings"
        raise InputError(f"{where}: holds {kind}, but the model was trained on "
                         f"{'readings' if vocab_size is None else 'token ids'}")
    if vocab_size is not None and data.x.size and largest(data.x) >= vocab_size:
        raise InputError(f"{where}: token id {largest(data.x)} is beyond the model's vocabulary of {vocab_size}; "
                         "encode it with the training split's stats")
    if vocab_size is None and data.channels != channels:
        raise InputError(f"{where}: {data.channels} channel(s), but the model was trained on {channels}")


def check_labels(data: Arrays, where: str) -> None:
    """Labels outside the classes would be left out of every score without a word: refused."""
    if data.unknown:
        label, rows = next(iter(data.unknown.items()))
        raise InputError(f"{where}: label {label!r} ({rows:,} rows) is not one of the model's classes "
                         f"{data.classes[:10]!r}; the model cannot score it")


def subset(a: Arrays, keep: np.ndarray) -> Arrays:
    """The rows of ``a`` where ``keep`` (a boolean mask) holds, in their order."""
    if isinstance(a.x, RowReader):
        x, offsets = a.x.subset(np.flatnonzero(keep)), None
    elif a.offsets is None:
        x = a.x[keep]
        offsets = None
    elif isinstance(a.x, np.memmap):  # steps in a file: the rows' starts in it, nothing read
        rows = np.flatnonzero(keep)
        x, offsets = a.x, np.append(a.offsets[rows], a.offsets[-1])
    else:
        from ..ragged import Ragged, segment_indices

        rows = np.flatnonzero(keep)
        lengths = a.lengths[rows]
        x = a.x[segment_indices(a.offsets[rows], lengths)]
        offsets = Ragged.from_lengths(x, lengths).offsets
    return Arrays(x, a.lengths[keep], a.y[keep], a.ids[keep], a.classes, a.vocab_size, a.pad_side, offsets=offsets,
                  unknown=a.unknown)


class TooFewToCarve(InputError):
    """DATA has too few labelled sequences for a validation split carved from it."""


def carve(a: Arrays, fraction: float, seed: int) -> tuple[Arrays, Arrays]:
    """``--val-fraction``: (train, validation) rows of ``a``, split by id so the windows or crops
    of one sequence stay together, stratified by class (each class's ids shuffled with ``seed``,
    round(fraction x its ids) of them held out; at least one where a class has two or more ids,
    never all of them)."""
    unique, first = np.unique(a.ids, return_index=True)
    label = a.y[first]
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(label):
        members = unique[label == c]
        members = members[rng.permutation(len(members))]
        n = len(members)
        k = min(max(1, round(fraction * n)), n - 1) if n >= 2 else 0
        held.append(members[:k])
    in_val = np.isin(a.ids, np.concatenate(held) if held else np.zeros(0, np.int64))
    return subset(a, ~in_val), subset(a, in_val)


IN_MEMORY_LIMIT = 1 << 30  # bytes of model input past which X.npy is read batch by batch, not held
SCAN_BYTES = 1 << 26  # the checks read X.npy this much at a time when it is not held


@dataclass(frozen=True)
class RawRows:
    """Rows stored one after another in a file: ``shape`` rows of ``dtype`` from ``offset``."""

    file: object  # an open binary file, read with os.pread (its position is never used)
    offset: int
    shape: tuple
    dtype: np.dtype
    where: str

    @classmethod
    def of(cls, mm: np.memmap) -> "RawRows":
        """X.npy's rows, from the file itself (not mapped: its pages never pile up in memory)."""
        return cls(open(mm.filename, "rb", buffering=0), int(mm.offset), mm.shape, mm.dtype, str(mm.filename))

    def __reduce__(self):  # a DataLoader worker started by spawn opens the file again
        name = getattr(self.file, "name", None)
        if not isinstance(name, str):
            raise TypeError(f"{self.where}: rows in a temporary file are read in the process that wrote them")
        return _reopen, (name, self.offset, self.shape, self.dtype, self.where)


def _reopen(name: str, offset: int, shape: tuple, dtype, where: str) -> RawRows:
    return RawRows(open(name, "rb", buffering=0), offset, shape, dtype, where)


class RowReader:
    """Rows read from a file when a batch asks for them (``os.pread``), so memory holds a
    batch, not the split: ``train`` on data larger than memory (X.npy of an export, or a
    Parquet split copied to a temporary file by :class:`Rows`). Rows come as the model takes
    them (token ids int64; readings float32 ``(L, C)``), exactly what the in-memory path holds,
    so both train the same. ``index`` maps rows to the file's rows (a subset, as
    ``--val-fraction`` carves)."""

    def __init__(self, source: "np.memmap | RawRows", index: np.ndarray | None = None, top: int | None = None):
        raw = source if isinstance(source, RawRows) else RawRows.of(source)
        self.raw = raw
        self.path, self.offset, self.file_shape, self.dtype = raw.where, raw.offset, raw.shape, raw.dtype
        self.row_bytes = int(np.prod(raw.shape[1:])) * raw.dtype.itemsize
        self.index = np.arange(raw.shape[0], dtype=np.int64) if index is None else index
        self.top = top  # the largest token id (found by the scan), for the vocabulary checks
        ids = raw.dtype.kind in "iu"
        dims = len(raw.shape)
        self.shape = (len(self.index),) + (raw.shape[1:] if ids or dims == 3 else raw.shape[1:] + (1,))
        self.ndim = len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def max(self) -> int:
        return self.top

    def subset(self, rows: np.ndarray) -> "RowReader":
        return RowReader(self.raw, self.index[rows], self.top)

    def _convert(self, raw: np.ndarray) -> np.ndarray:
        if raw.dtype.kind in "iu":
            return raw.astype(np.int64)
        raw = raw.astype(np.float32)
        return raw if raw.ndim == 3 else raw[:, :, None]

    def _read(self, into: np.ndarray, at: int, row: int | None) -> None:
        try:
            got = os.preadv(self.raw.file.fileno(), [into], at)
        except OSError as e:
            raise InputError(f"{self.path}: unreadable ({e.strerror or e})") from None
        if got != len(into):
            raise InputError(f"{self.path}: cut short{'' if row is None else f' at row {row}'}; export the data "
                             "again")

    def rows(self, rows) -> np.ndarray:
        """Rows ``rows`` (positions in this reader), in that order, as the model takes them."""
        file_rows = self.index[np.asarray(rows, dtype=np.int64)]
        raw = np.empty((len(file_rows),) + self.file_shape[1:], dtype=self.dtype)
        flat = raw.reshape(len(file_rows), -1).view(np.uint8)
        for i, r in enumerate(file_rows.tolist()):  # one read a row: rows are far apart
            self._read(flat[i], self.offset + r * self.row_bytes, r)
        return self._convert(raw)

    def block(self, start: int, stop: int) -> np.ndarray:
        """The file's rows ``start:stop`` as stored (dtype and shape of X.npy), in one read."""
        stop = min(stop, self.file_shape[0])
        raw = np.empty((max(0, stop - start),) + self.file_shape[1:], dtype=self.dtype)
        if raw.size:
            self._read(raw.reshape(-1).view(np.uint8), self.offset + start * self.row_bytes, None)
        return raw

    def chunks(self):
        """The file's rows in order, ``SCAN_BYTES`` at a time (as stored), for the checks."""
        per = max(1, SCAN_BYTES // max(1, self.row_bytes))
        for start in range(0, self.file_shape[0], per):
            yield self.block(start, start + per)


def streamed_input(x: np.memmap, where: str) -> RowReader:
    """X.npy too large to hold, checked as :func:`_as_model_input` checks one in memory (ids
    not negative; readings neither NaN nor infinite), reading it a chunk at a time."""
    reader = RowReader(x)
    checks = Rows(where, stream=True)
    for chunk in reader.chunks():
        checks.check(chunk)
    checks.verdict()
    reader.top = checks.top
    return reader
