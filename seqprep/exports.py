"""Reading an NPY export back (X.npy, lengths.npy, y.npy, ids.npy, meta.json): every array is
checked against the others before use, since an export is untrusted input like any other.
Writing one: :mod:`seqprep.npy`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .dataset import MANIFEST_LIMIT, regular_file
from .errors import InputError


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
