"""Model-ready export: X.npy (N, L) or (N, L, C), y.npy, lengths.npy, ids.npy, meta.json.

Written as batches arrive, with X's row count filled into its header at the end, so a
stream of unknown length can be exported; ``np.load(..., mmap_mode="r")`` works on every file.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .padding import PadSpec
from .dataset import FORMAT_VERSION, sha256_file
from .errors import InputError, UsageError
from .labels import class_order
from .output import AtomicDir, Sink, open_dir, row_lengths

NPY_HEADER_BYTES = 256  # reserved so N can be filled in at the end, when a stream's row count is known


def npy_header(dtype: np.dtype, shape: tuple) -> bytes:
    d = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": tuple(shape)}
    body = repr(d).encode("latin1")
    pad = NPY_HEADER_BYTES - 10 - len(body) - 1
    if pad < 0:
        raise ValueError(f"npy header for shape {shape} does not fit in {NPY_HEADER_BYTES} bytes")
    return b"\x93NUMPY\x01\x00" + (len(body) + pad + 1).to_bytes(2, "little") + body + b" " * pad + b"\n"


def x_values(batch: pa.RecordBatch) -> tuple[np.ndarray, tuple]:
    """The flat values of a batch's fixed-length ``seq`` and the shape of one row."""
    seq = batch.column("seq")
    t = seq.type
    if not pa.types.is_fixed_size_list(t):
        raise UsageError("--format npy needs fixed-length rows; drop --no-pad")
    values = seq.flatten()
    if pa.types.is_fixed_size_list(values.type):
        row_shape = (t.list_size, values.type.list_size)
        values = values.flatten()
    else:
        row_shape = (t.list_size,)
    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        raise UsageError(f"--format npy needs numbers, but seq holds {values.type}; map tokens to ids first")
    return values.to_numpy(zero_copy_only=False), row_shape


def int64_ids(ids: pa.Array) -> np.ndarray:
    """The ``id`` column as ids.npy holds it (int64), refusing any id that int64 cannot hold
    rather than letting it wrap."""
    if not pa.types.is_integer(ids.type):
        raise InputError(f"column 'id' is {ids.type}, but ids are int64 integers")
    if ids.null_count:
        raise InputError(f"column 'id' has a null at row {ids.to_pylist().index(None)}; every row needs an id")
    values = ids.to_numpy(zero_copy_only=False)
    if values.dtype == np.uint64 and len(values) and values.max() >= 2**63:
        row = int(np.argmax(values >= 2**63))
        raise InputError(f"row {row}: id {int(values[row])} does not fit int64 (ids.npy holds int64); renumber the "
                         "ids (`seqprep ingest` numbers rows 0..N-1)")
    return values.astype(np.int64)


class NpyPart:
    """Rows of X as raw values: a worker's share of X.npy, or (after ``reserve`` bytes for the
    header) X.npy itself. Each row's id, length and label code go to files of their own beside
    it as batches arrive (held in memory, they grew with the rows: 1.15x the peak RSS for 10x
    the rows); labels are coded in the order first seen, and ordered into classes at the end."""

    def __init__(self, path: Path, reserve: int = 0):
        self.path = path
        self.x = open(path, "wb")
        self.x.write(b"\0" * reserve)
        self.ids = open(_beside(path, "ids"), "wb")
        self.lengths = open(_beside(path, "lengths"), "wb")
        self.codes = open(_beside(path, "labels"), "wb")
        self.dtype = self.row_shape = None
        self.label_type: pa.DataType | None = None  # None: no label column
        self.seen: dict = {}  # each label, by its code

    def write(self, batch: pa.RecordBatch) -> None:
        arr, self.row_shape = x_values(batch)
        self.dtype = arr.dtype
        arr.tofile(self.x)
        int64_ids(batch.column("id")).tofile(self.ids)
        row_lengths(batch).astype(np.int32).tofile(self.lengths)
        if "label" in batch.schema.names:
            labels = batch.column("label")
            self.label_type = labels.type
            if pa.types.is_null(labels.type):
                np.full(len(labels), -1, dtype=np.int32).tofile(self.codes)
                return
            coded = pc.dictionary_encode(labels)
            table = self._table(coded.dictionary.to_pylist())
            table[pc.fill_null(coded.indices, len(table) - 1).to_numpy(zero_copy_only=False)].tofile(self.codes)

    def _table(self, labels: list) -> np.ndarray:
        """The codes here of ``labels``, then -1 (a null label's)."""
        return np.array([self.seen.setdefault(label, len(self.seen)) for label in labels] + [-1], dtype=np.int32)

    def append(self, part: dict) -> None:
        """Another part's rows after these (its files are removed)."""
        for name, to in (("x", self.x), ("ids", self.ids), ("lengths", self.lengths)):
            with open(part[name], "rb") as f:
                shutil.copyfileobj(f, to, 1 << 22)
            os.unlink(part[name])
        if part["row_shape"] is not None:
            self.dtype, self.row_shape = part["dtype"], part["row_shape"]
        if part["label_type"] is not None:
            self.label_type = part["label_type"]
            _recode(Path(part["labels"]), self.codes, self._table(part["seen"]), np.int32)
        os.unlink(part["labels"])

    def close(self) -> dict:
        for f in (self.x, self.ids, self.lengths, self.codes):
            f.close()
        return {"x": str(self.path), "ids": self.ids.name, "lengths": self.lengths.name, "labels": self.codes.name,
                "dtype": self.dtype, "row_shape": self.row_shape, "label_type": self.label_type,
                "seen": list(self.seen)}

    def abort(self) -> None:
        for f in (self.x, self.ids, self.lengths, self.codes):
            f.close()


def _beside(path: Path, what: str) -> Path:
    return path.with_name(f".{path.name}.{what}")


def _recode(src: Path, to, table: np.ndarray, dtype) -> None:
    """``table[code]`` for each int32 code in the file ``src`` (-1 picks the table's last entry),
    as ``dtype``, written to the open file ``to`` a million at a time."""
    with open(src, "rb") as f:
        while len(codes := np.fromfile(f, dtype=np.int32, count=1 << 20)):
            table[codes].astype(dtype).tofile(to)


def _npy_of(src: Path, dst: Path, dtype, n: int, table: np.ndarray | None = None) -> None:
    """dst.npy: ``n`` values of ``dtype`` from the raw file ``src`` (recoded through ``table``),
    the same bytes as ``np.save`` of them."""
    dtype = np.dtype(dtype)
    with open(dst, "wb") as out:
        np.lib.format.write_array_header_1_0(
            out, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (n,)})
        expected = out.tell() + n * dtype.itemsize
        if table is not None:
            _recode(src, out, table, dtype)
        else:
            with open(src, "rb") as f:
                shutil.copyfileobj(f, out, 1 << 22)
        if out.tell() != expected:
            raise RuntimeError(f"{dst.name}: not {n:,} values; this is a bug in seqprep")
    src.unlink()


class NpySink(Sink):
    """Model-ready arrays: X.npy (N, L) or (N, L, C), y.npy, lengths.npy, ids.npy, meta.json.

    X is written as batches arrive; y (class indices, -1 for a null label), lengths and ids are
    small (one value per row) and written at the end, with the classes sorted.
    """

    part_kind = "npy"

    def __init__(self, out: str, *, lineage: list, padding: PadSpec | None, overwrite: bool = False,
                 extra: dict | None = None, classes: list | None = None):
        super().__init__(lineage=lineage, padding=padding, extra=extra)
        self.classes = classes  # fitted classes: y then means the same in every split
        self.dir = open_dir(out, overwrite=overwrite, staged=True)
        if not isinstance(self.dir, AtomicDir):  # built in a local staging folder, in this process
            self.part_kind = None
        self._rows = NpyPart(self.dir.tmp / "X.npy", reserve=NPY_HEADER_BYTES)

    def _write(self, batch: pa.RecordBatch) -> None:
        self._rows.write(batch)

    def add_part(self, part: dict, stats) -> None:
        """A worker's X rows (a file in the temporary directory), ids and labels, appended."""
        self._rows.append(part)
        self.stats.merge(stats)

    def finish(self) -> dict:
        rows = self._rows
        dtype, row_shape = rows.dtype, rows.row_shape
        if row_shape is None:  # no batches: an empty array of the padded length
            dtype, row_shape = np.dtype(np.int32), (self.padding.length if self.padding is not None else 0,)
        n = self.stats.rows
        rows.x.seek(0)
        rows.x.write(npy_header(dtype, (n,) + row_shape))
        done = rows.close()
        tmp = self.dir.tmp
        _npy_of(Path(done["lengths"]), tmp / "lengths.npy", np.int32, n)
        _npy_of(Path(done["ids"]), tmp / "ids.npy", np.int64, n)
        classes = None
        if rows.label_type is None:
            Path(done["labels"]).unlink()
        else:
            if pa.types.is_null(rows.label_type):  # no row has a label
                classes = self.classes if self.classes is not None else []
                table = np.array([-1], dtype=np.int64)
            else:
                classes = self.classes if self.classes is not None else class_order(done["seen"])
                try:
                    value_set = pa.array(classes, rows.label_type)
                except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
                    raise InputError(f"the labels are {rows.label_type}, but the fitted classes are not "
                                     f"({', '.join(map(str, classes[:5]))}); fit and encode data with the same "
                                     "label type") from None
                index = pc.index_in(pa.array(done["seen"], rows.label_type), value_set=value_set).fill_null(-1)
                table = np.append(index.to_numpy(zero_copy_only=False).astype(np.int64), -1)
            _npy_of(Path(done["labels"]), tmp / "y.npy", np.int64, n, table)
        meta = {
            "format": "seqprep-npy",
            "version": FORMAT_VERSION,
            "rows": n,
            "shape": [n, *row_shape],
            "dtype": str(dtype),
            "classes": classes,
            "padding": self.padding.to_dict() if self.padding is not None else None,
            **self.stats.summary(),
            **self.extra,
            # What `seqprep verify` checks the arrays against.
            "files": {f.name: {"bytes": f.stat().st_size, "sha256": sha256_file(f)} for f in sorted(tmp.glob("*.npy"))},
            "lineage": self.lineage,
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        self.dir.commit()
        return meta

    def abort(self) -> None:
        self._rows.abort()
        self.dir.abort()
