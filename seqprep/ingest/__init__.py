"""Turn the files users have into a dataset: Parquet shards with ``id``, ``seq``, ``label``.

Formats: Parquet/Arrow (any column names), JSON lines and CSV of documents, folders of
``.txt`` files, FASTA, the ``.ts`` time-series format, and NPY.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..engine import Progress, write_all
from ..errors import InputError, UsageError
from ..output import check_target, open_sink, step_record
from .arrays import NPY_LAYOUT, read_npy, read_table
from .common import IngestOptions, path_kind, regular_file
from .fasta import read_fasta
from .text import read_csv, read_jsonl, read_text, text_files
from .ts import read_ts

__all__ = ["FORMATS", "IngestOptions", "detect_format", "ingest"]

READERS = {
    "parquet": partial(read_table, kind="parquet"),
    "arrow": partial(read_table, kind="arrow"),
    "jsonl": read_jsonl,
    "csv": read_csv,
    "text": read_text,
    "fasta": read_fasta,
    "ts": read_ts,
    "npy": read_npy,
}
FORMATS = ("auto", *READERS)
SUFFIXES = {
    ".parquet": "parquet", ".pq": "parquet",
    ".arrow": "arrow", ".feather": "arrow", ".ipc": "arrow", ".arrows": "arrow",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".csv": "csv", ".tsv": "csv",
    ".txt": "text",
    ".fasta": "fasta", ".fa": "fasta", ".fna": "fasta", ".fas": "fasta", ".ffn": "fasta",
    ".ts": "ts",
    ".npy": "npy",
}
STDIN_FORMATS = ("arrow", "jsonl", "csv", "fasta", "ts")
FILE_FORMATS = ("jsonl", "csv", "fasta", "ts")  # one file each; the others also read a folder
EMPTY_STEP = {"ts": pa.float32(), "npy": pa.float32()}  # the step type of an input with no rows


def detect_format(path: Path) -> str:
    """The input format from a file's suffix (``.gz`` looked through) or a folder's contents."""
    if path_kind(path) == "file":
        suffixes = [s.lower() for s in path.suffixes]
        if suffixes and suffixes[-1] == ".gz":
            suffixes.pop()
        fmt = SUFFIXES.get(suffixes[-1]) if suffixes else None
        if fmt is None:
            raise UsageError(f"{path}: cannot tell the format from its name; pass --format ({', '.join(READERS)})")
        return fmt
    if any(path.glob("*.parquet")):
        return "parquet"
    if any(path.glob("*.arrow")) or any(path.glob("*.feather")):
        return "arrow"
    if (path / "X.npy").exists() or (path / "values.npy").exists():
        return "npy"
    if any(path.glob("*/*.txt")) or any(path.glob("*.txt")):
        return "text"
    raise UsageError(f"{path}: cannot tell the format of this folder's files; pass --format ({', '.join(READERS)})")


def describe_layout(path: Path, fmt: str) -> tuple[str, list | None]:
    """What ingest reads at ``path``, in words for the manifest's ``layout`` (and the files, for a
    folder of .txt files, whose layout is checked here, before anything is written)."""
    if path_kind(path) == "file":
        return f"one {fmt} file", None
    if fmt == "text":
        name, files = text_files(path)
        return name, files
    if fmt == "npy":
        return "NPY folder: " + NPY_LAYOUT, None
    return f"FOLDER/*.{fmt} (files in name order)", None


def _with_ids(batches: Iterator[pa.RecordBatch], where: str, step: pa.DataType) -> Iterator[pa.RecordBatch]:
    """Put ``id`` first: 0..N-1 in input order, or the named id column, checked unique and not null."""
    next_id = 0
    seen: list[np.ndarray] = []
    has_labels = any_label = False
    for batch in batches:
        names = batch.schema.names
        if "label" in names:
            has_labels = True
            any_label = any_label or batch.column("label").null_count < batch.num_rows
        if "id" in names:
            col = batch.column("id")
            if col.null_count:
                raise InputError(f"{where}: the id column has null values; every row needs an id")
            if col.type != pa.int64():
                raise InputError(f"{where}: the id column has type {col.type}; ids must be int64")
            ids = col
            seen.append(ids.to_numpy())
        else:
            ids = pa.array(np.arange(next_id, next_id + batch.num_rows, dtype=np.int64))
        next_id += batch.num_rows
        rest = [n for n in names if n != "id"]
        yield pa.RecordBatch.from_arrays([ids] + [batch.column(n) for n in rest], names=["id"] + rest)
    if has_labels and next_id and not any_label:
        raise InputError(f"{where}: the label column has no values (every row is null); "
                         "fill in the labels, or name the right one with --label-column")
    if seen:
        all_ids = np.concatenate(seen)
        uniq, counts = np.unique(all_ids, return_counts=True)
        if len(uniq) != len(all_ids):
            raise InputError(f"{where}: id {int(uniq[counts > 1][0])} appears more than once; ids must be unique")
    if next_id == 0:
        yield pa.RecordBatch.from_pylist([], schema=pa.schema([("id", pa.int64()), ("seq", pa.list_(step))]))


def ingest(src: str, out: str, *, options: IngestOptions = IngestOptions(), overwrite: bool = False,
           progress: Progress | None = None) -> dict:
    """Read ``src`` in its format and write the dataset ``out``; returns its manifest."""
    options.check()
    if options.format not in FORMATS:
        raise UsageError(f"--format {options.format!r} must be one of {', '.join(FORMATS)}")
    path = Path(src)
    if src == "-":
        fmt = "arrow" if options.format == "auto" else options.format
        if fmt not in STDIN_FORMATS:
            raise UsageError(f"--format {fmt} cannot be read from stdin; stdin takes {', '.join(STDIN_FORMATS)}")
    else:
        kind = path_kind(path)  # a FIFO or a device is refused here, unopened
        fmt = detect_format(path) if options.format == "auto" else options.format
        if kind == "dir" and fmt in FILE_FORMATS:
            raise InputError(f"{src}: a folder, but --format {fmt} reads one file; give the file")
    if (options.labels or options.label_regex) and fmt != "fasta":
        raise UsageError("--labels and --label-regex apply to FASTA input only")
    if options.labels:
        regular_file(Path(options.labels), " (--labels)")
    layout = None if src == "-" else describe_layout(path, fmt)
    check_target(out, inputs=(src,), overwrite=overwrite)
    params = {"source": src, **asdict(options), "format": fmt}
    params.pop("batch_rows")
    lineage = [step_record("ingest", params, input_sha256=None)]
    extra = {"layout": layout[0]} if layout else None
    sink = open_sink(out, format="parquet", lineage=lineage, overwrite=overwrite, shard_rows=options.shard_rows,
                     extra=extra)
    reader = READERS[fmt](path, options) if fmt != "text" or layout is None or layout[1] is None \
        else read_text(path, options, layout=layout[1])
    batches = _with_ids(reader, src, EMPTY_STEP.get(fmt, pa.string()))
    try:
        return write_all(batches, sink, progress=progress)
    except InputError as e:
        if src == "-" and str(e).startswith("-:"):  # readers name their file; stdin has none
            raise InputError("stdin:" + str(e)[2:]) from None
        raise
