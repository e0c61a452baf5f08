"""Reading an NPY export back (X.npy, lengths.npy, y.npy, ids.npy, meta.json), as arrays or as a
dataset every reader takes (:func:`open_export`), and verifying it: every array is
checked against the others before use, since an export is untrusted input like any other.
Writing one: :mod:`seqprep.npy`."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from .dataset import (FORMAT_VERSION, MANIFEST_LIMIT, Source, is_count, regular_file,
                      sha256_file)
from .errors import InputError
from .padding import PadSpec


def is_export(p: Path) -> bool:
    """Whether directory ``p`` looks like an NPY export (its meta.json and X.npy are there)."""
    return (p / "X.npy").exists() and (p / "meta.json").exists()


def npy_array(p: Path, name: str, **kw) -> np.ndarray:
    """One array of an NPY export, never unpickled, refused with one line if unreadable."""
    try:
        return np.load(regular_file(p / name, str(p / name)), allow_pickle=False, **kw)
    except (ValueError, OSError, EOFError) as e:
        raise InputError(f"{p / name}: not a readable .npy file ({str(e).splitlines()[0] if str(e) else 'cut short'}); "
                         "export the data again") from None


def per_row(p: Path, name: str, a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``a``: one integer per row of X (lengths, ids, class indices), as int64."""
    if a.shape != (len(x),) or a.dtype.kind not in "iu":
        raise InputError(f"{p / name}: shape {a.shape} of {a.dtype}, but X.npy has {len(x)} rows (shape {x.shape}); "
                         f"it needs one integer per row; export the data again")
    if a.dtype.kind == "u" and a.size and int(a.max()) > np.iinfo(np.int64).max:
        raise InputError(f"{p / name}: value {int(a.max())} does not fit int64; export the data again")
    return a.astype(np.int64)


def load_npy(p: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict]:
    """X (memory-mapped), lengths, y (or None) and meta of an NPY export, their shapes checked
    against each other (a damaged or crafted export is refused, not half-read)."""
    meta = _json(regular_file(p / "meta.json", str(p / "meta.json")))
    x = npy_array(p, "X.npy", mmap_mode="r")
    if x.ndim not in (2, 3) or x.dtype.kind not in "iufb" or 0 in x.shape[1:]:
        raise InputError(f"{p / 'X.npy'}: {x.dtype} of shape {x.shape}, but an export is (N, L) token ids or "
                         "(N, L, C) readings, L and C at least 1; export the data again")
    if not x.flags.c_contiguous:  # rows are read from the file one after another
        raise InputError(f"{p / 'X.npy'}: stored in Fortran (column-major) order, but an export's rows are stored "
                         "one after another; save it as np.save(path, np.ascontiguousarray(x))")
    if isinstance(meta.get("rows"), int) and meta["rows"] != len(x):
        raise InputError(f"{p / 'X.npy'}: shape {x.shape}, but meta.json says {meta['rows']} rows; export the data "
                         "again")
    lengths = per_row(p, "lengths.npy", npy_array(p, "lengths.npy"), x)
    if len(lengths) and (lengths.min() < 0 or lengths.max() > x.shape[1]):
        bad = int(lengths.min()) if lengths.min() < 0 else int(lengths.max())
        raise InputError(f"{p / 'lengths.npy'}: length {bad} is outside 0..{x.shape[1]}; export the data again")
    y = None
    if (p / "y.npy").exists():
        y = per_row(p, "y.npy", npy_array(p, "y.npy"), x)
        classes = meta.get("classes") or []
        if len(y) and (y.min() < -1 or y.max() >= len(classes)):
            bad = int(y.min()) if y.min() < -1 else int(y.max())
            raise InputError(f"{p / 'y.npy'}: class index {bad} is outside -1..{len(classes) - 1} (meta.json lists "
                             f"{len(classes)} classes); export the data again")
    return x, lengths, y, meta


def _json(path: Path) -> dict:
    if path.stat().st_size > MANIFEST_LIMIT:
        raise InputError(f"{path}: larger than a meta.json is ({MANIFEST_LIMIT:,} bytes); export the data again")
    try:
        meta = json.loads(path.read_bytes())
    except (ValueError, RecursionError):
        meta = None
    if not isinstance(meta, dict) or meta.get("format") != "seqprep-npy" or not isinstance(meta.get("classes") or [], list):
        raise InputError(f"{path}: not a seqprep NPY export's meta.json; export the data again")
    return meta


def open_export(p: Path) -> Source:
    """An NPY export as a dataset :class:`~seqprep.dataset.Source` that every reader takes."""
    export = NpyExport(p)
    return Source(path=str(p), schema=export.schema, manifest=None, lineage=export.lineage,
                  input_sha256=hashlib.sha256((p / "meta.json").read_bytes()).hexdigest(), _npy=export)


class NpyExport:
    """An NPY export (X.npy, lengths.npy, ids.npy, y.npy, meta.json) read as a dataset: the
    contract's columns, ``seq`` padded as the export is, in batches from the memory-mapped X."""

    def __init__(self, p: Path):
        self.name = str(p / "X.npy")
        self.x, self.lengths, self.y, meta = load_npy(p)
        self.ids = per_row(p, "ids.npy", npy_array(p, "ids.npy"), self.x)
        self.classes = list(meta.get("classes") or [])
        where = p / "meta.json"
        if len({type(c) for c in self.classes}) > 1 or not all(isinstance(c, (str, int)) for c in self.classes) \
                or isinstance(self.classes[0] if self.classes else None, bool):
            raise InputError(f"{where}: classes must be all strings or all integers; export the data again")
        if len(set(self.classes)) != len(self.classes):
            raise InputError(f"{where}: the class list names a class twice; export the data again")
        version = meta.get("version")
        if not is_count(version) or not 1 <= version <= FORMAT_VERSION:
            raise InputError(f"{where}: version {version!r} is not one this seqprep reads ({FORMAT_VERSION}); "
                             "export the data again or upgrade seqprep")
        for name in ("X.npy", "lengths.npy", "ids.npy", "y.npy"):
            if os.path.lexists(p / name) and (p / name).is_symlink():
                raise InputError(f"{p / name}: a link; an export's arrays are its own files")
        stated = (meta.get("shape"), meta.get("dtype"), meta.get("rows"))
        if stated != (list(self.x.shape), str(self.x.dtype), len(self.x)):
            raise InputError(f"{where}: says shape {stated[0]}, {stated[1]}, {stated[2]} rows, but X.npy is "
                             f"{list(self.x.shape)} of {self.x.dtype}; export the data again")
        if meta.get("padding") is None and len(self.lengths) and (self.lengths != self.x.shape[1]).any():
            raise InputError(f"{where}: names no padding, but lengths.npy has rows shorter than X.npy's "
                             f"{self.x.shape[1]} steps; export the data again")
        lineage = meta.get("lineage", [])
        self.lineage = lineage if isinstance(lineage, list) else []
        step = pa.from_numpy_dtype(self.x.dtype)
        if self.x.ndim == 3:
            step = pa.list_(step, self.x.shape[2])
        fields = [("id", pa.int64()), ("seq", pa.list_(step, self.x.shape[1]))]
        if self.y is not None:
            fields.append(("label", pa.string() if self.classes and isinstance(self.classes[0], str) else pa.int64()))
        fields.append(("length", pa.int32()))
        padding = PadSpec.from_dict(meta.get("padding"), str(p / "meta.json"))  # checked like any padding
        self.schema = pa.schema(fields, metadata=padding.metadata() if padding is not None else None)

    def batches(self, batch_rows: int) -> Iterator[pa.RecordBatch]:
        n, width = self.x.shape[0], self.x.shape[1]
        for start in range(0, n, batch_rows):
            stop = min(start + batch_rows, n)
            x = np.ascontiguousarray(self.x[start:stop])
            flat = pa.array(x.reshape(-1))
            if x.ndim == 3:
                flat = pa.FixedSizeListArray.from_arrays(flat, x.shape[2])
            columns = [pa.array(self.ids[start:stop]), pa.FixedSizeListArray.from_arrays(flat, width)]
            if self.y is not None:
                y = self.y[start:stop]
                labels = [self.classes[i] if i >= 0 else None for i in y.tolist()]
                columns.append(pa.array(labels, self.schema.field("label").type))
            columns.append(pa.array(self.lengths[start:stop], pa.int32()))
            yield pa.RecordBatch.from_arrays(columns, schema=self.schema)


def verify_export(p: Path, export: "NpyExport") -> dict:
    """An NPY export's arrays against each other (opening it checked their shapes) and against
    the sizes and sha256 its meta.json lists (exports written before it listed them: shapes only)."""
    files = json.loads((p / "meta.json").read_bytes()).get("files")
    if files is not None:
        if not isinstance(files, dict) or not all(isinstance(v, dict) for v in files.values()):
            raise InputError(f"{p / 'meta.json'}: its list of files is damaged; export the data again")
        present = {n for n in ("X.npy", "lengths.npy", "ids.npy", "y.npy") if os.path.lexists(p / n)}
        if present - set(files):
            raise InputError(f"{p / 'meta.json'}: lists no size or sha256 for {sorted(present - set(files))[0]}; "
                             "export the data again")
        for name, entry in files.items():
            if not isinstance(name, str) or "/" in name or name.startswith(".") or not name.endswith(".npy"):
                raise InputError(f"{p / 'meta.json'}: file {name!r} is not an array of the export")
            f = regular_file(p / name, str(p / name))
            if f.stat().st_size != entry.get("bytes"):
                raise InputError(f"{f}: {f.stat().st_size:,} bytes, but meta.json says {entry.get('bytes')}; the "
                                 "array changed after it was written: export the data again")
            if sha256_file(f) != entry.get("sha256"):
                raise InputError(f"{f}: sha256 differs from meta.json (the array changed after it was written); "
                                 "export the data again")
    return {"shards": 1, "rows": len(export.x), "against": "meta.json"}
