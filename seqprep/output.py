"""Writing datasets: Parquet shards + manifest, or an Arrow IPC stream (NPY arrays: npy.py).

Every sink writes into a temporary directory beside OUT and puts it in place at the end
(:mod:`seqprep.atomic`), so an interrupted or failed run leaves the old OUT, or none. A sink
is a context manager: leaving it by an exception removes what it wrote.
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import __version__
from .dataset import FORMAT_VERSION, MANIFEST, META_LINEAGE, shard_name
from .padding import PadSpec, with_padding
from .atomic import AtomicDir, check_target  # noqa: F401 - re-exported: where the output goes
from .objectstore import open_dir
from .errors import InputError
from .parquet import ParquetPart

# ---------------------------------------------------------------------------------------------
# What every sink records


def describe_steps(schema: pa.Schema) -> dict:
    """The step type of ``seq``: value type, channels, fixed length."""
    if "seq" not in schema.names:
        return {"type": None, "channels": None, "fixed_length": None}
    t = schema.field("seq").type
    fixed = t.list_size if pa.types.is_fixed_size_list(t) else None
    step = t.value_type
    channels = None
    if pa.types.is_fixed_size_list(step):
        channels, step = step.list_size, step.value_type
    return {"type": str(step), "channels": channels, "fixed_length": fixed}


class LengthCounts:
    """How many rows have each length: what a length summary needs, in memory that grows with
    the number of distinct lengths, not of rows (a list of every row's length took 8 bytes a
    row, and twice that when it was joined to be summarized)."""

    def __init__(self):
        self.values = np.zeros(0, dtype=np.int64)
        self.counts = np.zeros(0, dtype=np.int64)
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []

    def add(self, lengths: np.ndarray) -> None:
        self.add_counts(*np.unique(np.asarray(lengths, dtype=np.int64), return_counts=True))

    def add_counts(self, values: np.ndarray, counts: np.ndarray) -> None:
        self._pending.append((values, counts.astype(np.int64)))
        if len(self._pending) >= 64:
            self._merge()

    def _merge(self) -> None:
        if self._pending:
            values = np.concatenate([self.values, *(v for v, _ in self._pending)])
            counts = np.concatenate([self.counts, *(c for _, c in self._pending)])
            self.values, where = np.unique(values, return_inverse=True)
            self.counts = np.bincount(where, weights=counts, minlength=len(self.values)).astype(np.int64)
            self._pending = []

    def merged(self) -> tuple[np.ndarray, np.ndarray]:
        """Each distinct length, ascending, and its number of rows."""
        self._merge()
        return self.values, self.counts


class Stats:
    """Row count, length counts and label counts, accumulated batch by batch."""

    def __init__(self):
        self.rows = 0
        self.lengths = LengthCounts()
        self.labels: dict = {}
        self.null_labels = 0
        self.label_type: str | None = None

    def add(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        self.lengths.add(row_lengths(batch))
        if "label" in batch.schema.names:
            col = batch.column("label")
            self.label_type = "string" if pa.types.is_string(col.type) else "int64"
            self.null_labels += col.null_count
            for item in pc.value_counts(col.drop_null()).to_pylist():
                self.labels[item["values"]] = self.labels.get(item["values"], 0) + item["counts"]

    def merge(self, other: "Stats") -> None:
        """Add the counts of ``other`` (the rows that come after these)."""
        self.rows += other.rows
        self.lengths.add_counts(*other.lengths.merged())
        for k, v in other.labels.items():
            self.labels[k] = self.labels.get(k, 0) + v
        self.null_labels += other.null_labels
        self.label_type = self.label_type or other.label_type

    def summary(self) -> dict:
        if len({type(k) for k in self.labels}) > 1:
            raise InputError("labels of more than one type (int64 and string); every shard must have one label type")
        return {
            "lengths": counted_length_summary(*self.lengths.merged()),
            "labels": None
            if self.label_type is None
            else {
                "type": self.label_type,
                "counts": {str(k): v for k, v in sorted(self.labels.items())},
                "nulls": self.null_labels,
            },
        }


def row_lengths(batch: pa.RecordBatch) -> np.ndarray:
    """Real steps per row: the ``length`` column of padded data, else the list lengths."""
    if "length" in batch.schema.names:
        return batch.column("length").to_numpy(zero_copy_only=False).astype(np.int64)
    if "seq" not in batch.schema.names:
        return np.zeros(batch.num_rows, dtype=np.int64)
    return pc.list_value_length(batch.column("seq")).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)


def length_summary(lengths: np.ndarray) -> dict:
    return counted_length_summary(*np.unique(np.asarray(lengths, dtype=np.int64), return_counts=True))


def counted_length_summary(values: np.ndarray, counts: np.ndarray) -> dict:
    """min, median, mean, p95 and p99 (numpy's "inverted_cdf": the first length at or past that
    share of rows), max and total of the lengths ``values`` (ascending, distinct) seen
    ``counts`` times each."""
    n = int(counts.sum())
    if n == 0:
        return {"min": None, "median": None, "mean": None, "p95": None, "p99": None, "max": None, "total": 0}
    total = int((values * counts).sum())
    return {
        "min": int(values[0]),
        "median": (_kth(values, counts, (n - 1) // 2) + _kth(values, counts, n // 2)) / 2,
        "mean": round(total / n, 3),
        "p95": counted_quantile(values, counts, 0.95),
        "p99": counted_quantile(values, counts, 0.99),
        "max": int(values[-1]),
        "total": total,
    }


def _kth(values: np.ndarray, counts: np.ndarray, k: int) -> int:
    """The k-th length (0-based) in ascending order."""
    return int(values[np.searchsorted(np.cumsum(counts), k, side="right")])


def counted_quantile(values: np.ndarray, counts: np.ndarray, q: float) -> int:
    """``np.quantile(lengths, q, method="inverted_cdf")`` of the lengths ``values`` seen ``counts`` times."""
    n = int(counts.sum())
    return _kth(values, counts, min(max(math.ceil(n * q) - 1, 0), n - 1))


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """The batch with the sink's schema (the first batch's); a type that cannot be cast is an error."""
    if batch.schema.equals(schema, check_metadata=False):
        return batch
    if batch.schema.names != schema.names:
        raise InputError(f"columns changed between batches: {batch.schema.names} after {schema.names}")
    for f in schema:
        t = batch.schema.field(f.name).type
        if not (pa.types.is_null(t) or pa.types.is_null(f.type)) and _is_text(t) != _is_text(f.type):  # a cast would turn numbers into text or fail on text
            raise InputError(f"column {f.name!r} is {t} here but {f.type} before; every shard must have the same "
                             "column types (re-ingest, or cast the column)")
    try:
        table = pa.Table.from_batches([batch]).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        changed = [f for f in schema if batch.schema.field(f.name).type != f.type]
        what = (f"column {changed[0].name!r} is {batch.schema.field(changed[0].name).type} here but "
                f"{changed[0].type} before" if changed else "column types changed between batches")
        raise InputError(f"{what} ({str(e).splitlines()[0]}); every shard must have the same column types") from None
    batches = table.combine_chunks().to_batches()
    return batches[0] if batches else pa.RecordBatch.from_pylist([], schema=schema)


def _is_text(t: pa.DataType) -> bool:
    while pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        t = t.value_type
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t)


# ---------------------------------------------------------------------------------------------
# Sinks


class Sink:
    """Receives batches shard by shard; ``finish()`` returns the manifest (or meta) it wrote.

    Run in parallel, each input shard's rows are written by a worker as a *part* (see
    :meth:`part_kind`, :func:`open_part`) and added here in shard order (:meth:`add_part`);
    the bytes are the same as written here one batch at a time.
    """

    part_kind: str | None = None  # "parquet" | "npy": what a worker writes; None: no parallel writing
    counts_into: str | None = None  # the entry of ``extra`` that what the step counted is added into

    def __init__(self, *, lineage: list, padding: PadSpec | None, extra: dict | None = None):
        self.lineage = lineage
        self.padding = padding
        self.extra = extra if extra is not None else {}  # read at finish
        self.schema: pa.Schema | None = None
        self.stats = Stats()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.abort()
        return False

    def count(self, counts: dict) -> None:
        """Add what the step counted (the runner calls it in input order) into the manifest."""
        if counts and self.counts_into is not None:
            entry = self.extra.setdefault(self.counts_into, {})
            for key, value in counts.items():
                entry[key] = entry.get(key, 0) + value

    def expect(self, schema: pa.Schema) -> pa.Schema:
        """Fix the output schema before any batch (else the first batch's is taken)."""
        self.schema = with_padding(schema, self.padding)
        return self.schema

    def write(self, batch: pa.RecordBatch) -> None:
        if self.schema is None:
            self.schema = with_padding(batch.schema, self.padding)
        batch = conform(batch, self.schema)
        self.stats.add(batch)
        self._write(batch)

    def add_part(self, part: dict, stats: Stats) -> None:
        """A shard's rows, written by a worker into this sink's temporary directory."""
        raise NotImplementedError

    def end_shard(self) -> None:
        """The input shard ended; sinks that mirror shards start a new one."""

    def _write(self, batch: pa.RecordBatch) -> None:
        raise NotImplementedError

    def finish(self) -> dict:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError


class DatasetSink(Sink):
    """A directory of Parquet shards, then ``_seqprep.json`` last.

    Shards mirror the input's (``end_shard``); with ``shard_rows`` a shard is also cut after
    that many rows, for sources without shards (streams, ingest).
    """

    part_kind = "parquet"

    def __init__(self, out: str, *, lineage: list, padding: PadSpec | None = None, overwrite: bool = False,
                 shard_rows: int | None = None, extra: dict | None = None):
        super().__init__(lineage=lineage, padding=padding, extra=extra)
        self.dir = open_dir(out, overwrite=overwrite)
        self.shard_rows = shard_rows
        self.shards: list[dict] = []
        self._part: ParquetPart | None = None

    def _write(self, batch: pa.RecordBatch) -> None:
        while True:
            if self._part is None:
                self._part = ParquetPart(self.dir.tmp / shard_name(len(self.shards)), self.schema)
            room = batch.num_rows if self.shard_rows is None else self.shard_rows - self._part.rows
            part, batch = batch.slice(0, room), batch.slice(room)
            self._part.write(part)
            if batch.num_rows == 0:
                return
            self.end_shard()

    def end_shard(self) -> None:
        if self._part is None:
            return
        self.shards.append(self._part.close())
        self._part = None

    def add_part(self, part: dict, stats: Stats) -> None:
        self.shards.append(part)
        self.stats.merge(stats)

    def finish(self) -> dict:
        self.end_shard()
        if self.schema is None:
            raise InputError("the input holds no schema to write (no batches at all)")
        if not self.shards:  # no rows: one empty shard still carries the schema for readers
            self._part = ParquetPart(self.dir.tmp / shard_name(0), self.schema)
            self.end_shard()
        manifest = {
            "format": "seqprep-dataset",
            "version": FORMAT_VERSION,
            "rows": self.stats.rows,
            "schema": [{"name": f.name, "type": str(f.type)} for f in self.schema],
            "steps": describe_steps(self.schema),
            "padding": self.padding.to_dict() if self.padding is not None else None,
            "shards": self.shards,
            **self.stats.summary(),
            **self.extra,
            "lineage": self.lineage,
        }
        self.dir.put(MANIFEST, (json.dumps(manifest, indent=2, sort_keys=False) + "\n").encode())
        self.dir.commit()
        return manifest

    def abort(self) -> None:
        if self._part is not None:
            self._part.abort()
        self.dir.abort()


class StreamSink(Sink):
    """An Arrow IPC stream on stdout; the lineage and padding travel in the schema metadata."""

    def __init__(self, *, lineage: list, padding: PadSpec | None = None, stream=None):
        super().__init__(lineage=lineage, padding=padding)
        self.stream = stream if stream is not None else sys.stdout.buffer
        self._writer = None

    def _open(self) -> None:
        meta = dict(self.schema.metadata or {})
        meta[META_LINEAGE] = json.dumps(self.lineage, sort_keys=True).encode()
        self._writer = pa.ipc.new_stream(self.stream, self.schema.with_metadata(meta))

    def _write(self, batch: pa.RecordBatch) -> None:
        if self._writer is None:
            self._open()
        self._writer.write_batch(batch)

    def finish(self) -> dict:
        if self._writer is None and self.schema is not None:
            self._open()  # no rows: still a whole stream, schema and end-of-stream marker
        if self._writer is not None:
            self._writer.close()
        self.stream.flush()
        return {"rows": self.stats.rows, "lineage": self.lineage, **self.stats.summary()}

    def abort(self) -> None:
        """A stream cannot be unwritten, and a reader would take one that just stops as complete.
        So end it with the start of a message that never comes: the reader fails instead."""
        if self._writer is None:
            return  # nothing written: the reader fails on an empty stream
        try:
            self.stream.write(POISON)
            self.stream.flush()
        except OSError:
            pass  # the reader is gone already


# A continuation marker and a metadata length, then too few bytes: an unfinished IPC message.
POISON = b"\xff\xff\xff\xff" + (64).to_bytes(4, "little") + b"\0" * 8


def step_record(command: str, params: dict, *, input_sha256: str | None, seed: int | None = None) -> dict:
    """One lineage entry: the command, its full parameters and seed, and what it read."""
    return {
        "command": command,
        "params": params,
        "seed": seed,
        "input_sha256": input_sha256,
        "seqprep_version": __version__,
    }
