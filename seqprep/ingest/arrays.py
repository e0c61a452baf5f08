"""Columnar inputs: Parquet/Arrow files or folders with any column names, and NPY arrays."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..dataset import file_batches, file_kind, guard, read_schema
from ..errors import InputError
from .common import IngestOptions, list_array, make_batch
from .text import tokenize


def step_type(t: pa.DataType, where: str) -> pa.DataType:
    """The contract's step type for an input step type: int32/int64, float32, string, or channels."""
    if pa.types.is_integer(t):
        return pa.int32() if t.bit_width < 32 or t == pa.int32() else pa.int64()
    if pa.types.is_floating(t):
        return pa.float32()
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pa.string()
    if pa.types.is_fixed_size_list(t) and pa.types.is_floating(t.value_type):
        return pa.list_(pa.float32(), t.list_size)
    if pa.types.is_fixed_size_list(t) and pa.types.is_integer(t.value_type):
        return pa.list_(pa.float32(), t.list_size)
    raise InputError(f"{where}: steps of type {t} are not supported (integers, floats, strings, or fixed-size lists of floats)")


def normalize_seq(arr: pa.Array, where: str, opts: IngestOptions) -> pa.Array:
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return tokenize(arr.cast(pa.string()), tokenizer=opts.tokenizer, lowercase=opts.lowercase)
    if not (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)):
        raise InputError(f"{where}: column {opts.seq_column!r} has type {t}; each row must be a list of steps (or text)")
    return arr.cast(pa.list_(step_type(t.value_type, where)))


def label_array(arr: pa.Array, where: str, column: str) -> pa.Array:
    t = arr.type
    if pa.types.is_integer(t):
        return arr.cast(pa.int64())
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
        return arr.cast(pa.string())
    raise InputError(f"{where}: label column {column!r} has type {t}; labels must be integers or strings")


def table_files(path: Path, kind: str) -> list[Path]:
    if path.is_file():
        return [path]
    files = sorted(f for f in path.iterdir() if f.is_file() and file_kind(f) == kind)
    if not files:
        raise InputError(f"{path}: no {kind} files in this folder")
    return files


def table_sources(path: Path, kind: str, batch_rows: int):
    """(name, column names, batches) for each file, or for the Arrow stream on stdin."""
    if str(path) == "-":
        try:
            reader = pa.ipc.open_stream(sys.stdin.buffer)
        except (pa.ArrowException, OSError) as e:
            raise InputError(f"stdin: not an Arrow IPC stream ({str(e).splitlines()[0]})") from None
        yield "stdin", reader.schema.names, guard("stdin", iter(reader))
        return
    for f in table_files(path, kind):
        yield f, read_schema(f, kind).names, guard(str(f), file_batches(f, kind, batch_rows))


def read_table(path: Path, opts: IngestOptions, kind: str) -> Iterator[pa.RecordBatch]:
    for f, names, batches in table_sources(path, kind, opts.batch_rows):
        label_col = opts.label_column or "label"
        wanted = [(opts.seq_column, "--seq-column"), (opts.id_column, "--id-column")]
        if opts.label_column is not None:
            wanted.append((opts.label_column, "--label-column"))
        for col, flag in wanted:
            if col is not None and col not in names:
                raise InputError(f"{f}: no column {col!r} (columns: {', '.join(names)}); name it with {flag}")
        renames = {opts.seq_column: "seq"}
        if opts.id_column is not None:
            renames[opts.id_column] = "id"
        if label_col in names:
            renames[label_col] = "label"
        for n in names:
            if n not in renames and n in ("seq", "id", "label"):
                hint = "pass --id-column id to keep those ids" if n == "id" else f"rename it, or name it with --{n}-column"
                raise InputError(f"{f}: has a column {n!r} that is not the one ingest reads as {n}; {hint}")
        for batch in batches:
            columns = {}
            for n, arr in zip(batch.schema.names, batch.columns):
                new = renames.get(n, n)
                if new == "seq":
                    arr = normalize_seq(arr, str(f), opts)
                elif new == "label":
                    arr = label_array(arr, str(f), n)
                columns[new] = arr
            seq, label = columns.pop("seq"), columns.pop("label", None)
            yield make_batch(seq, label, **columns)


def load_npy(path: Path) -> np.ndarray:
    """Memory-mapped, never through pickle."""
    try:
        with open(path, "rb") as f:
            if f.read(6) != b"\x93NUMPY":
                raise InputError(f"{path}: not a valid .npy file (it does not start with the NPY magic bytes)")
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except ValueError as e:
        if "pickle" in str(e) or "Python objects" in str(e) or "object" in str(e):
            raise InputError(f"{path}: holds Python objects (pickled data), which seqprep never loads; save a numeric array") from None
        raise InputError(f"{path}: not a valid .npy file ({str(e).splitlines()[0]})") from None
    except (OSError, EOFError) as e:
        raise InputError(f"{path}: not a valid .npy file ({e})") from None


def npy_step_values(x: np.ndarray, where: Path) -> pa.Array:
    if x.dtype.kind == "f":
        return pa.array(np.ascontiguousarray(x, dtype=np.float32))
    if x.dtype.kind in "iu":
        return pa.array(np.ascontiguousarray(x, dtype=np.int32 if x.dtype.itemsize < 4 or x.dtype == np.int32 else np.int64))
    if x.dtype.kind == "U":
        return pa.array(x.tolist(), pa.string())
    raise InputError(f"{where}: dtype {x.dtype} is not supported; save integers, floats or strings")


def read_npy(path: Path, opts: IngestOptions) -> Iterator[pa.RecordBatch]:
    """One (N, T) or (N, T, C) array; or a folder with X.npy (or values.npy + offsets.npy), y.npy, ids.npy."""
    y = ids = offsets = None
    if path.is_file():
        x_path = path
    else:
        x_path = path / "X.npy" if (path / "X.npy").exists() else path / "values.npy"
        if not x_path.exists():
            raise InputError(f"{path}: expected X.npy, or values.npy with offsets.npy, in this folder")
        if x_path.name == "values.npy":
            offsets = load_npy(path / "offsets.npy")
        y = load_npy(path / "y.npy") if (path / "y.npy").exists() else None
        ids = load_npy(path / "ids.npy") if (path / "ids.npy").exists() else None
    x = load_npy(x_path)
    if offsets is not None:
        if offsets.ndim != 1 or offsets.dtype.kind not in "iu" or len(offsets) == 0 or offsets[0] != 0 \
                or np.any(np.diff(offsets) < 0) or offsets[-1] != len(x):
            raise InputError(f"{path / 'offsets.npy'}: offsets must be 1-D integers from 0, never decreasing, "
                             f"ending at len(values) = {len(x)}")
        if x.ndim not in (1, 2):
            raise InputError(f"{x_path}: values must be 1-D, or 2-D (steps, channels); got shape {x.shape}")
        n = len(offsets) - 1
    else:
        if x.ndim not in (2, 3):
            raise InputError(f"{x_path}: shape {x.shape}; expected (N, T) or (N, T, C)")
        n = x.shape[0]
    for name, arr in (("y.npy", y), ("ids.npy", ids)):
        if arr is not None and (arr.ndim != 1 or len(arr) != n):
            raise InputError(f"{path / name}: shape {arr.shape}, but there are {n} sequences")
    if ids is not None and ids.dtype.kind not in "iu":
        raise InputError(f"{path / 'ids.npy'}: dtype {ids.dtype}; ids must be integers")
    if y is not None and y.dtype.kind not in "iuU":
        raise InputError(f"{path / 'y.npy'}: dtype {y.dtype}; labels must be integers or strings")
    for start in range(0, n, opts.batch_rows):
        stop = min(start + opts.batch_rows, n)
        if offsets is None:
            rows = x[start:stop]
            lengths = np.full(stop - start, x.shape[1], dtype=np.int64)
            flat = rows.reshape(-1, *x.shape[2:])
        else:
            lengths = np.diff(offsets[start:stop + 1]).astype(np.int64)
            flat = x[offsets[start]:offsets[stop]]
        values = npy_step_values(flat.reshape(-1), x_path)
        if flat.ndim == 2:
            values = pa.FixedSizeListArray.from_arrays(values.cast(pa.float32()), flat.shape[1])
        label = None
        if y is not None:
            label = pa.array(y[start:stop].tolist(), pa.string() if y.dtype.kind == "U" else pa.int64())
        extra = {"id": pa.array(np.asarray(ids[start:stop], dtype=np.int64))} if ids is not None else {}
        yield make_batch(list_array(values, lengths), label, **extra)
