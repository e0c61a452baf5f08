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
from .. import storage
from ..output import check_target, step_record
from ..sinks import open_sink
from .arrays import NPY_LAYOUT, export_layout, is_export, read_npy, read_table
from .common import IngestOptions, path_kind, regular_file, sniffed_stdin
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
INFO_READERS = {  # readers that note the columns they used and how they read them
    "parquet": partial(read_table, kind="parquet"),
    "arrow": partial(read_table, kind="arrow"),
    "jsonl": read_jsonl,
    "csv": read_csv,
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
    if any(path.glob("*/*.txt")) or any(path.glob("*.txt")) or any(path.glob("*/*/*.txt")):
        return "text"
    raise UsageError(f"{path}: cannot tell the format of this folder's files; pass --format ({', '.join(READERS)})")


def describe_layout(path: Path, fmt: str, options: IngestOptions = IngestOptions()) -> tuple[str, list | None]:
    """What ingest reads at ``path``, in words for the manifest's ``layout`` (and the files, for a
    folder of .txt files, whose layout is checked here, before anything is written)."""
    if path_kind(path) == "file":
        return f"one {fmt} file", None
    if fmt == "text":
        name, files = text_files(path, options.split, options.labels)
        return name, files
    if fmt == "npy":
        if is_export(path):
            return export_layout(path), None
        return "NPY folder: " + NPY_LAYOUT, None
    return f"FOLDER/*.{fmt} (files in name order)", None


DEFAULT_SEQ = {"jsonl": "text", "csv": "text", "parquet": "seq", "arrow": "seq"}


def describe_columns(fmt: str, info: dict, options: IngestOptions) -> str:
    """What the summary adds to the layout: what was read, and how, where it is not the long-standing
    default (the text column tokenized, the label from 'label', ids numbered 0..N-1)."""
    notes = []
    if info.get("wide"):
        notes.append(f"wide: {info['wide']} as {info['read']}")
    elif info.get("seq") is not None:
        read = info.get("read")
        seq = info["seq"]
        if read not in (None, "text tokens", "as stored") or seq != DEFAULT_SEQ.get(fmt, seq):
            notes.append(f"{seq!r} as {read}" if read not in (None, "as stored") else f"sequences from {seq!r}")
    if info.get("label") not in (None, "label"):
        notes.append(f"labels from {info['label']!r}")
    if info.get("id") is not None:
        notes.append(f"ids from {info['id']!r}")
    return "; ".join(notes)


def _recorded(batches: Iterator[pa.RecordBatch], info: dict, extra: dict, fmt: str, options: IngestOptions):
    """Pass the batches on; once read, note in the manifest the columns used and how."""
    yield from batches
    columns = {k: info[k] for k in ("seq", "label", "id") if info.get(k) is not None}
    if info.get("wide"):
        columns["seq"] = info["wide"]
    if info.get("read"):
        columns["read"] = info["read"]
    if columns:
        extra["columns"] = columns
    notes = describe_columns(fmt, info, options)
    if notes:
        extra["layout"] = f"{extra['layout']}, {notes}" if extra.get("layout") else notes


def _with_ids(batches: Iterator[pa.RecordBatch], where: str, step: pa.DataType) -> Iterator[pa.RecordBatch]:
    """Put ``id`` first: 0..N-1 in input order, or the named id column, checked unique and not null."""
    next_id = 0
    seen: list[np.ndarray] = []
    has_labels = any_label = yielded = False
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
        yielded = True
    if has_labels and next_id and not any_label:
        raise InputError(f"{where}: the label column has no values (every row is null); "
                         "fill in the labels, or name the right one with --label-column")
    if seen:
        all_ids = np.concatenate(seen)
        uniq, counts = np.unique(all_ids, return_counts=True)
        if len(uniq) != len(all_ids):
            raise InputError(f"{where}: id {int(uniq[counts > 1][0])} appears more than once; ids must be unique")
    if not yielded:  # no batch at all: the schema still needs one (a file of 0 rows gives its own)
        yield pa.RecordBatch.from_pylist([], schema=pa.schema([("id", pa.int64()), ("seq", pa.list_(step))]))


def ingest(src: str, out: str, *, options: IngestOptions = IngestOptions(), overwrite: bool = False,
           progress: Progress | None = None) -> dict:
    """Read ``src`` in its format and write the dataset ``out``; returns its manifest."""
    options.check()
    if options.format not in FORMATS:
        raise UsageError(f"--format {options.format!r} must be one of {', '.join(FORMATS)}")
    if src == "-":
        if options.format not in ("auto", *STDIN_FORMATS):
            raise UsageError(f"--format {options.format} cannot be read from stdin; stdin takes {', '.join(STDIN_FORMATS)}")
        with sniffed_stdin() as (_, sniffed, gz, empty):
            fmt = options.format
            if fmt == "auto":
                if sniffed is None:
                    what = "is empty" if empty else "does not start like an Arrow IPC stream (0xFFFFFFFF) or JSON lines ({)"
                    raise UsageError(f"stdin {what}{' once gunzipped' if gz and not empty else ''}; pass --format "
                                     f"({', '.join(STDIN_FORMATS)})")
                fmt = sniffed
            return _ingest(src, out, fmt, options, overwrite, progress,
                           stdin_note=("gzip, " if gz else "") + ("sniffed " if options.format == "auto" else ""))
    return _ingest(src, out, None, options, overwrite, progress)


def _ingest(src: str, out: str, fmt: str | None, options: IngestOptions, overwrite: bool,
            progress: Progress | None, stdin_note: str = "") -> dict:
    src = storage.local_only(src, "IN (a file or folder to ingest)")
    path = Path(src)
    if src != "-":
        kind = path_kind(path)  # a FIFO or a device is refused here, unopened
        fmt = detect_format(path) if options.format == "auto" else options.format
        if kind == "dir" and fmt in FILE_FORMATS:
            raise InputError(f"{src}: a folder, but --format {fmt} reads one file; give the file")
    if options.label_regex and fmt != "fasta":
        raise UsageError("--label-regex applies to FASTA input only")
    if options.labels and fmt not in ("fasta", "text"):
        raise UsageError("--labels applies to FASTA input and folders of .txt files only")
    if options.split is not None and fmt != "text":
        raise UsageError("--split applies to folders of .txt files (FOLDER/SPLIT/LABEL/*.txt) only")
    if options.labels:
        regular_file(Path(storage.local_only(options.labels, "--labels")), " (--labels)")
    layout = (f"{fmt} on stdin ({stdin_note.rstrip(', ')})" if stdin_note else f"{fmt} on stdin", None) \
        if src == "-" else describe_layout(path, fmt, options)
    check_target(out, inputs=(src,), overwrite=overwrite)
    params = {"source": src, **asdict(options), "format": fmt}
    params.pop("batch_rows")
    lineage = [step_record("ingest", params, input_sha256=None)]
    extra = {"layout": layout[0]}
    sink = open_sink(out, format="parquet", lineage=lineage, overwrite=overwrite, shard_rows=options.shard_rows,
                     extra=extra)
    info: dict = {}
    if fmt == "text" and layout[1] is not None:
        reader = read_text(path, options, layout=layout[1])
    elif fmt in INFO_READERS:
        reader = INFO_READERS[fmt](path, options, info=info)
    else:
        reader = READERS[fmt](path, options)
    batches = _with_ids(_recorded(reader, info, extra, fmt, options), src, EMPTY_STEP.get(fmt, pa.string()))
    try:
        return write_all(batches, sink, progress=progress)
    except InputError as e:
        if src == "-" and str(e).startswith("-:"):  # readers name their file; stdin has none
            raise InputError("stdin:" + str(e)[2:]) from None
        raise
