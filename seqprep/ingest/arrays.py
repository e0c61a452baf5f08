"""Columnar inputs: Parquet/Arrow files or folders with any column names, and NPY arrays."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..dataset import MANIFESTS, file_batches, file_kind, guard, read_schema
from ..errors import InputError
from .common import (BUFFER_LIMIT, EXPANSION_LIMIT, MAX_CHANNELS, MAX_SEQ_VALUES, IngestOptions,
                     check_lengths, fit_int64, float32_numpy, int64_numpy, int64_values, list_array, make_batch, path_kind,
                     regular_file, rows_of, stdin_binary, too_long)
from .text import tokenize


def step_type(t: pa.DataType, where: str) -> pa.DataType:
    """The contract's step type for an input step type: int32/int64, float32, string, or channels."""
    if pa.types.is_integer(t):
        return pa.int32() if t.bit_width < 32 or t == pa.int32() else pa.int64()
    if pa.types.is_floating(t):
        return pa.float32()
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pa.string()
    if pa.types.is_fixed_size_list(t) and (pa.types.is_floating(t.value_type) or pa.types.is_integer(t.value_type)):
        if t.list_size > MAX_CHANNELS:
            raise InputError(f"{where}: {t.list_size:,} channels per step, more than seqprep takes ({MAX_CHANNELS:,})")
        return pa.list_(pa.float32(), t.list_size)
    raise InputError(f"{where}: steps of type {t} are not supported (integers, floats, strings, or fixed-size lists of floats)")


def _flat_values(arr: pa.Array) -> pa.Array:
    """The leaf values of a list (or list of fixed-size lists) array, as stored."""
    values = arr.flatten()
    if pa.types.is_fixed_size_list(values.type):
        values = values.flatten()
    return values


def _step_row(arr: pa.Array, mask: np.ndarray, at) -> str:
    """The row holding the first flagged leaf value, for messages."""
    leaf = int(np.argmax(mask))
    width = arr.type.value_type.list_size if pa.types.is_fixed_size_list(arr.type.value_type) else 1
    offsets = np.asarray(arr.offsets) if not pa.types.is_fixed_size_list(arr.type) else \
        np.arange(len(arr) + 1) * arr.type.list_size
    return at(int(np.searchsorted(offsets[1:] - offsets[0], leaf // width, side="right")))


def check_steps(arr: pa.Array, target: pa.DataType, at) -> None:
    """Refuse, naming the row, a step that would change on the way to ``target``: a null step, a
    uint64 beyond int64, a float beyond float32, an integer a float32 channel would round."""
    values = _flat_values(arr)
    if values.null_count:
        mask = np.asarray(values.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        raise InputError(f"{_step_row(arr, mask, at)}: a step is null; fill it in (NaN marks a missing reading)")
    if not len(values):
        return
    to = target.value_type
    to = to.value_type if pa.types.is_fixed_size_list(to) else to
    x = values.to_numpy(zero_copy_only=False) if (pa.types.is_integer(values.type) or
                                                  pa.types.is_floating(values.type)) else None
    if x is None:
        return
    def value_at(i: int) -> str:
        return _step_row(arr, np.arange(len(x)) == i, at)

    if to == pa.int64():
        int64_numpy(x, "value", value_at)
    elif to == pa.float32():
        float32_numpy(x, value_at)


def normalize_seq(arr: pa.Array, where: str, opts: IngestOptions, at=None, column: str | None = None) -> pa.Array:
    at = at or rows_of(where)
    column = column or opts.seq_column or "seq"
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        seq = tokenize(arr.cast(pa.string()), tokenizer=opts.tokenizer, lowercase=opts.lowercase)
        check_lengths(seq, at)
        return seq
    if not (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)):
        raise InputError(f"{where}: column {column!r} has type {t}; each row must be a list of steps (or text)")
    target = pa.list_(step_type(t.value_type, where))
    check_lengths(arr, at)
    check_steps(arr, target, at)
    try:
        return arr.cast(target)
    except pa.ArrowException as e:
        raise InputError(f"{where}: column {column!r} cannot be read as {target} ({str(e).splitlines()[0]})") from None


def label_array(arr: pa.Array, where: str, column: str, at=None) -> pa.Array:
    at = at or rows_of(where)
    t = arr.type
    if pa.types.is_dictionary(t):
        return label_array(arr.dictionary_decode(), where, column, at)
    if pa.types.is_integer(t):
        return int64_values(arr, "label", at)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return arr.cast(pa.string())
    raise InputError(f"{where}: label column {column!r} has type {t}; labels must be integers or strings")


def id_array(arr: pa.Array, where: str, column: str, at) -> pa.Array:
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if not pa.types.is_integer(arr.type):
        raise InputError(f"{where}: id column {column!r} has type {arr.type}; ids must be integers (int64)")
    if arr.null_count:
        raise InputError(f"{where}: the id column has null values; every row needs an id")
    return int64_values(arr, "id", at)


# ------------------------------------------------------------------------------------- files and folders

TABLE_LAYOUT = "one {kind} file, or FOLDER/*.{kind} (files read in name order)"


def table_files(path: Path, kind: str) -> list[Path]:
    """The file, or the folder's ``*.parquet`` (``*.arrow``) files. Names starting with ``_`` or
    ``.`` are skipped (``_SUCCESS``, ``.crc``: not data, by the convention of Spark, Hive and
    Arrow) and so is a seqprep manifest; anything else (a subfolder, a file of another kind, a
    FIFO) is refused, never skipped."""
    if path_kind(path) == "file":
        return [path]
    try:
        entries = sorted(p for p in path.iterdir() if not p.name.startswith(("_", ".")) and p.name not in MANIFESTS)
    except OSError as e:
        raise InputError(f"{path}: cannot be listed ({e.strerror})") from None
    files = []
    for p in entries:
        if path_kind(p) == "dir":
            raise InputError(f"{path}: {p.name!r} is a folder; seqprep reads {TABLE_LAYOUT.format(kind=kind)}, not "
                             "partitioned folders: give each folder, or rewrite them as one")
        if file_kind(p) != kind:
            raise InputError(f"{path}: {p.name!r} is not a .{kind} file; seqprep reads "
                             f"{TABLE_LAYOUT.format(kind=kind)}: move it out")
        files.append(p)
    if not files:
        raise InputError(f"{path}: no {kind} files in this folder")
    return files


def table_sources(path: Path, kind: str, batch_rows: int):
    """(name, column names, batches) for each file, or for the Arrow stream on stdin."""
    if str(path) == "-":
        try:
            reader = pa.ipc.open_stream(stdin_binary())
        except (pa.ArrowException, OSError) as e:
            raise InputError(f"stdin: not an Arrow IPC stream ({str(e).splitlines()[0]})") from None
        yield "stdin", reader.schema.names, guard("stdin", iter(reader))
        return
    for f in table_files(path, kind):
        names = read_schema(f, kind).names
        yield f, names, guard(str(f), file_batches(f, kind, batch_rows))


TABLE_SEQ_NAMES = ("seq", "text")  # Parquet/Arrow: the sequence column by name, in this order


def read_table(path: Path, opts: IngestOptions, kind: str, info: dict | None = None) -> Iterator[pa.RecordBatch]:
    info = {} if info is None else info
    for f, names, batches in table_sources(path, kind, opts.batch_rows):
        label_col = opts.label_column or "label"
        seq_col = opts.seq_column or opts.text_column or next((n for n in TABLE_SEQ_NAMES if n in names), "seq")
        flag = "--seq-column" if opts.seq_column or not opts.text_column else "--text-column"
        id_col = opts.id_column if opts.id_column is not None else ("id" if "id" in names and not opts.row_ids else None)
        wanted = [(seq_col, flag), (id_col, "--id-column")]
        if opts.label_column is not None:
            wanted.append((opts.label_column, "--label-column"))
        for col, fl in wanted:
            if col is not None and col not in names:
                raise InputError(f"{f}: no column {col!r} (columns: {', '.join(names)}); name it with {fl}")
        for col in set(names):
            if names.count(col) > 1:
                raise InputError(f"{f}: {names.count(col)} columns are named {col!r}; rename them so each is named once")
        renames = {seq_col: "seq"}
        if id_col is not None:
            renames[id_col] = "id"
        if label_col in names:
            renames[label_col] = "label"
        for n in names:
            if n not in renames and n in ("seq", "id", "label"):
                hint = "drop --row-ids to keep those ids, or rename it" if n == "id" else \
                    f"rename it, or name it with --{n}-column"
                raise InputError(f"{f}: has a column {n!r} that is not the one ingest reads as {n}; {hint}")
        info.update(seq=seq_col, label=label_col if label_col in names else None, id=id_col)
        start = 0
        for batch in batches:
            at = rows_of(str(f), start)
            columns = {}
            for n, arr in zip(batch.schema.names, batch.columns):
                new = renames.get(n, n)
                if new == "seq":
                    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
                        info["read"] = "text tokens"
                    arr = normalize_seq(arr, str(f), opts, at, column=n)
                elif new == "label":
                    arr = label_array(arr, str(f), n, at)
                elif new == "id":
                    arr = id_array(arr, str(f), n, at)
                columns[new] = arr
            start += batch.num_rows
            seq, label = columns.pop("seq"), columns.pop("label", None)
            yield make_batch(seq, label, **columns)


# ------------------------------------------------------------------------------------- NPY

NPY_LAYOUT = "X.npy (N, T) or (N, T, C), or values.npy with offsets.npy; optional y.npy and ids.npy"


def load_npy(path: Path) -> np.ndarray:
    """Memory-mapped, never through pickle; only a regular file is opened."""
    regular_file(path)
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
    except (OSError, EOFError, TypeError, OverflowError, SyntaxError, MemoryError) as e:
        raise InputError(f"{path}: not a valid .npy file ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None


def npy_step_values(x: np.ndarray, where: Path, at=None) -> pa.Array:
    """Flat step values in the contract's types; ``at(i)`` names the row of value ``i``."""
    at = at or (lambda i: f"{where}: value {i + 1:,}")
    if x.dtype.kind == "f":
        return pa.array(float32_numpy(np.ascontiguousarray(x), at))
    if x.dtype.kind in "iu":
        if x.dtype.itemsize < 4 or x.dtype == np.int32:
            return pa.array(np.ascontiguousarray(x, dtype=np.int32))
        return pa.array(int64_numpy(np.ascontiguousarray(x), "value", at))
    if x.dtype.kind == "U":
        return pa.array(x.tolist(), pa.string())
    hint = "; save the real and imaginary parts as 2 channels" if x.dtype.kind == "c" else ""
    raise InputError(f"{where}: dtype {x.dtype} is not supported; save integers, floats or strings{hint}")


EXPORT_LAYOUT = "seqprep's NPY export: X.npy, lengths.npy, meta.json; optional y.npy, ids.npy"
EXPORT_FILES = {"X.npy", "lengths.npy", "meta.json", "y.npy", "ids.npy"}
META_LIMIT = 64 << 20  # bytes: a meta.json larger than this is not one seqprep wrote


def is_export(path: Path) -> bool:
    """A folder with meta.json: seqprep's own NPY export (checked when read)."""
    return path_kind(path) == "dir" and (path / "meta.json").exists()


def _export_meta(path: Path) -> dict:
    f = regular_file(path / "meta.json")
    if f.stat().st_size > META_LIMIT:
        raise InputError(f"{f}: larger than a meta.json is ({META_LIMIT:,} bytes); export the data again")
    try:
        meta = json.loads(f.read_bytes(), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except (ValueError, RecursionError) as e:
        raise InputError(f"{f}: not valid JSON ({str(e).splitlines()[0][:80]}); export the data again") from None
    if not isinstance(meta, dict) or meta.get("format") != "seqprep-npy":
        raise InputError(f"{f}: not a seqprep NPY export's meta.json (no \"format\": \"seqprep-npy\"); the folder "
                         f"reads as {NPY_LAYOUT} without it: move meta.json out")
    return meta


def _export_classes(meta: dict, where: Path) -> list | None:
    classes = meta.get("classes")
    if classes is None:
        return None
    ok = isinstance(classes, list) and (all(isinstance(c, str) for c in classes) or all(
        isinstance(c, int) and not isinstance(c, bool) for c in classes)) and len(set(classes)) == len(classes)
    if not ok:
        raise InputError(f"{where}: the class list {repr(classes)[:100]} must be distinct strings or distinct integers; "
                         "export the data again")
    for c in classes:
        if isinstance(c, int):
            fit_int64(c, str(where), "class")
    return classes


def _per_row(path: Path, name: str, n: int) -> np.ndarray | None:
    if not (path / name).exists():
        return None
    arr = load_npy(path / name)
    if arr.ndim != 1 or len(arr) != n or arr.dtype.kind not in "iu":
        raise InputError(f"{path / name}: {arr.dtype} of shape {arr.shape}, but X.npy has {n} rows: expected {n} "
                         "integers; export the data again")
    return arr


def export_layout(path: Path) -> str:
    meta = _export_meta(path)
    side = (meta.get("padding") or {}).get("side") if isinstance(meta.get("padding"), dict) else None
    how = f"padding at the {side} dropped by lengths.npy" if side else "no padding"
    present = [n for n in ("y.npy", "ids.npy") if (path / n).exists()]
    return f"seqprep NPY export (X.npy, lengths.npy, {', '.join(present + ['meta.json'])}; {how})"


def read_npy_export(path: Path, opts: IngestOptions) -> Iterator[pa.RecordBatch]:
    """seqprep's own NPY export back into a dataset: each row's real steps (lengths.npy, on the
    side meta.json's padding names), labels from y.npy through meta.json's classes (-1: none),
    ids from ids.npy. Every array is checked against X's shape first."""
    names = {p.name for p in path.iterdir() if not p.name.startswith(".")}
    stray = sorted(names - EXPORT_FILES)
    if stray:
        raise InputError(f"{path}: {', '.join(stray)} {'is' if len(stray) == 1 else 'are'} not part of {EXPORT_LAYOUT}; "
                         "move it out (seqprep does not guess what it means)")
    meta = _export_meta(path)
    x = load_npy(path / "X.npy")
    if x.ndim not in (2, 3) or x.dtype.kind not in "iuf" or (x.ndim == 3 and not 0 < x.shape[2] <= MAX_CHANNELS):
        raise InputError(f"{path / 'X.npy'}: {x.dtype} of shape {x.shape}, but an export is (N, L) or (N, L, C) "
                         "numbers; export the data again")
    n, width = x.shape[0], x.shape[1]
    if isinstance(meta.get("rows"), int) and meta["rows"] != n:
        raise InputError(f"{path / 'X.npy'}: shape {x.shape}, but meta.json says {meta['rows']} rows; export the data again")
    if not (path / "lengths.npy").exists():
        raise InputError(f"{path}: lengths.npy is missing; an export's rows are read by their lengths: export the "
                         "data again")
    lengths = _per_row(path, "lengths.npy", n).astype(np.int64)
    if n and (lengths.min() < 0 or lengths.max() > width):
        bad = int(lengths.min()) if lengths.min() < 0 else int(lengths.max())
        raise InputError(f"{path / 'lengths.npy'}: row {int(np.argmax((lengths < 0) | (lengths > width))) + 1:,}: "
                         f"length {bad} is outside 0..{width}; export the data again")
    padding = meta.get("padding")
    side = padding.get("side") if isinstance(padding, dict) else None
    if padding is not None and side not in ("start", "end"):
        raise InputError(f"{path / 'meta.json'}: padding {repr(padding)[:80]} names no side (start or end); export "
                         "the data again")
    if side is None and n and lengths.min() < width:
        raise InputError(f"{path / 'lengths.npy'}: row {int(np.argmin(lengths)) + 1:,} has {int(lengths.min())} real "
                         f"steps of {width}, but meta.json names no padding side; export the data again")
    classes = _export_classes(meta, path / "meta.json")
    y = _per_row(path, "y.npy", n)
    if y is not None:
        top = len(classes or [])
        if n and (y.min() < -1 or y.max() >= top):
            bad = int(y.min()) if y.min() < -1 else int(y.max())
            raise InputError(f"{path / 'y.npy'}: class index {bad} is outside -1..{top - 1} (meta.json lists {top} "
                             "classes); export the data again")
    ids = _per_row(path, "ids.npy", n)
    per_row = int(np.prod(x.shape[1:], dtype=np.int64))
    if per_row > MAX_SEQ_VALUES:
        raise too_long(per_row, f"{path / 'X.npy'}: shape {x.shape}")
    step = max(1, min(opts.batch_rows, BUFFER_LIMIT // max(per_row, 1)))
    label_type = None if classes is None else (pa.string() if classes and isinstance(classes[0], str) else pa.int64())
    for start in range(0, n, step):
        stop = min(n, start + step)
        at = rows_of(str(path / "X.npy"), start)
        rows = np.asarray(x[start:stop])
        lens = lengths[start:stop]
        pos = np.arange(width)
        keep = pos[None, :] < lens[:, None] if side != "start" else pos[None, :] >= (width - lens)[:, None]
        flat = rows[keep]
        row_of = lambda i, lens=lens, at=at: at(int(np.searchsorted(np.cumsum(lens), i, side="right")))  # noqa: E731
        if flat.ndim == 2:
            values = pa.FixedSizeListArray.from_arrays(
                pa.array(float32_numpy(np.ascontiguousarray(flat).reshape(-1),
                                       lambda i, c=flat.shape[1]: row_of(i // c))), flat.shape[1])
        else:
            values = npy_step_values(flat, path / "X.npy", row_of)
        label = None
        if y is not None and label_type is not None:
            idx = np.asarray(y[start:stop], dtype=np.int64)
            label = pa.array([classes[i] if i >= 0 else None for i in idx.tolist()], label_type)
        extra = {}
        if ids is not None:
            extra["id"] = pa.array(int64_numpy(np.asarray(ids[start:stop]), "id", rows_of(str(path / "ids.npy"), start)))
        yield make_batch(list_array(values, lens), label, **extra)
    if n == 0:
        t = pa.float32() if x.dtype.kind == "f" else (pa.int32() if x.dtype.itemsize < 4 or x.dtype == np.int32
                                                      else pa.int64())
        if x.ndim == 3:
            t = pa.list_(pa.float32(), x.shape[2])
        yield make_batch(pa.array([], pa.list_(t)), pa.array([], label_type) if label_type is not None else None,
                         **({"id": pa.array([], pa.int64())} if ids is not None else {}))


def _npy_folder(path: Path) -> tuple[Path, Path | None, Path | None, Path | None]:
    """X (or values), offsets, y and ids: exactly one of the layouts NPY_LAYOUT names, nothing else."""
    names = {p.name for p in path.iterdir() if not p.name.startswith(".")}
    layout = {"X.npy"} if "X.npy" in names else {"values.npy", "offsets.npy"}
    allowed = layout | {"y.npy", "ids.npy"}
    stray = sorted(names - allowed)
    if "X.npy" in names and "values.npy" in names:
        stray = ["values.npy"]
    if stray:
        what = "is" if len(stray) == 1 else "are"
        raise InputError(f"{path}: {', '.join(stray)} {what} not part of the layout seqprep reads ({NPY_LAYOUT}); "
                         "move it out (seqprep does not guess what it means)")
    missing = sorted(layout - names)
    if missing:
        raise InputError(f"{path}: expected X.npy, or values.npy with offsets.npy, in this folder ({NPY_LAYOUT}); "
                         f"{', '.join(missing)} is missing")
    x = path / ("X.npy" if "X.npy" in names else "values.npy")
    return (x, path / "offsets.npy" if "offsets.npy" in layout else None,
            path / "y.npy" if "y.npy" in names else None, path / "ids.npy" if "ids.npy" in names else None)


def read_npy(path: Path, opts: IngestOptions) -> Iterator[pa.RecordBatch]:
    """One (N, T) or (N, T, C) array; or a folder with X.npy (or values.npy + offsets.npy), y.npy, ids.npy."""
    if is_export(path):
        yield from read_npy_export(path, opts)
        return
    y = ids = offsets = None
    if path_kind(path) == "file":
        x_path = path
    else:
        x_path, o_path, y_path, ids_path = _npy_folder(path)
        offsets = load_npy(o_path) if o_path else None
        y = load_npy(y_path) if y_path else None
        ids = load_npy(ids_path) if ids_path else None
    x = load_npy(x_path)
    if offsets is not None:
        if offsets.ndim != 1 or offsets.dtype.kind not in "iu" or len(offsets) == 0 or offsets[0] != 0 \
                or np.any(np.diff(offsets.astype(np.int64)) < 0) or int(offsets[-1]) != len(x) \
                or (offsets.dtype.kind == "u" and int(offsets.max()) > 2**62):
            raise InputError(f"{path / 'offsets.npy'}: offsets must be 1-D integers from 0, never decreasing, "
                             f"ending at len(values) = {len(x)}")
        if x.ndim not in (1, 2):
            raise InputError(f"{x_path}: values must be 1-D, or 2-D (steps, channels); got shape {x.shape}")
        offsets = np.asarray(offsets, dtype=np.int64)
        n = len(offsets) - 1
    else:
        if x.ndim not in (2, 3):
            raise InputError(f"{x_path}: shape {x.shape}; expected (N, T) or (N, T, C)")
        n = x.shape[0]
    channels = x.shape[-1] if (offsets is None and x.ndim == 3) or (offsets is not None and x.ndim == 2) else 1
    if channels > MAX_CHANNELS or channels == 0 and x.ndim > 1 + (offsets is None):
        raise InputError(f"{x_path}: shape {x.shape}: {channels:,} channels; seqprep takes 1 to {MAX_CHANNELS:,}")
    for name, arr in (("y.npy", y), ("ids.npy", ids)):
        if arr is not None and (arr.ndim != 1 or len(arr) != n):
            raise InputError(f"{path / name}: shape {arr.shape}, but there are {n} sequences")
    if ids is not None and ids.dtype.kind not in "iu":
        raise InputError(f"{path / 'ids.npy'}: dtype {ids.dtype}; ids must be integers")
    if y is not None and y.dtype.kind not in "iuU":
        raise InputError(f"{path / 'y.npy'}: dtype {y.dtype}; labels must be integers or strings")
    if x.dtype.kind not in "fiuU":
        npy_step_values(x[:0].reshape(-1), x_path)  # refuses the dtype, naming it
    if channels > 1 and x.dtype.kind == "U":
        raise InputError(f"{x_path}: strings cannot be channels; save numbers for (N, T, C)")

    # Rows per batch from the shapes (metadata): a batch holds at most BUFFER_LIMIT values, plus one row.
    if offsets is None:
        per_row = int(np.prod(x.shape[1:], dtype=np.int64))
        if per_row > MAX_SEQ_VALUES:
            raise too_long(per_row, f"{x_path}: shape {x.shape}")
        step = max(1, min(opts.batch_rows, BUFFER_LIMIT // max(per_row, 1)))
        bounds = list(range(0, n, step)) + [n]
    else:
        lengths = np.diff(offsets) * channels
        if n and lengths.max() > MAX_SEQ_VALUES:
            raise too_long(int(lengths.max()), f"{path / 'offsets.npy'}: row {int(np.argmax(lengths)) + 1:,}")
        bounds = [0]
        while bounds[-1] < n:
            start = bounds[-1]
            limit = offsets[start] + BUFFER_LIMIT // channels
            stop = int(np.searchsorted(offsets, limit, side="right")) - 1
            bounds.append(min(max(stop, start + 1), start + opts.batch_rows, n))
    if n == 0:
        bounds = []
    for start, stop in zip(bounds, bounds[1:]):
        at = rows_of(str(x_path), start)
        if offsets is None:
            rows = x[start:stop]
            lengths = np.full(stop - start, x.shape[1], dtype=np.int64)
            flat = rows.reshape(-1, *x.shape[2:])
            row_of_value = lambda i, w=int(np.prod(x.shape[1:])): at(i // max(w, 1))  # noqa: E731
        else:
            lengths = np.diff(offsets[start:stop + 1])
            flat = x[offsets[start]:offsets[stop]]
            local = offsets[start:stop + 1] - offsets[start]
            row_of_value = lambda i, local=local, c=channels: at(int(np.searchsorted(local[1:], i // c, side="right")))  # noqa: E731
        if flat.ndim == 2:  # channels: float32 values, which must hold the integers exactly
            values = pa.array(float32_numpy(np.ascontiguousarray(flat).reshape(-1), row_of_value))
            values = pa.FixedSizeListArray.from_arrays(values, flat.shape[1])
        else:
            values = npy_step_values(flat.reshape(-1), x_path, row_of_value)
        label = None
        if y is not None:
            if y.dtype.kind == "U":
                label = pa.array(y[start:stop].tolist(), pa.string())
            else:
                label = pa.array(int64_numpy(np.asarray(y[start:stop]), "label", rows_of(str(path / "y.npy"), start)))
        extra = {}
        if ids is not None:
            extra["id"] = pa.array(int64_numpy(np.asarray(ids[start:stop]), "id", rows_of(str(path / "ids.npy"), start)))
        yield make_batch(list_array(values, lengths), label, **extra)
