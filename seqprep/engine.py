"""Run a step over a dataset: each input shard's batches through a transform into a sink.

Shards are independent: here they are visited in order, in worker processes or on a Dask
cluster they run at once and their outputs are added in order, so the output does not depend
on how the work is scheduled. Memory stays bounded by the batch size (per worker).
"""

from __future__ import annotations

import collections
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from .dataset import BATCH_ROWS, ShardFiles, Source
from .errors import InputError
from .output import Sink, Stats, conform
from .sinks import open_part
from .storage import Uri
from .workers import open_pool


class Progress(Protocol):
    def start(self, total: int | None) -> None: ...

    def advance(self, rows: int) -> None: ...


Transform = Callable[[pa.RecordBatch], tuple[pa.RecordBatch, dict]]
"""A step's batch transform: the output batch, and what it counted (ints by name, added up by
the runner). A plain-picklable object (a dataclass of options), so workers get it by pickle."""


_DONE = object()


class Ahead:
    """``items``, produced by a background thread of its own (started at once) up to ``depth``
    ahead, in the same order; an error in the producer is raised in the consumer. ``close``
    stops the thread (after the item it is producing). Parquet decoding releases the GIL, so
    the next batches are read while this one is transformed and written."""

    def __init__(self, items: Iterator, depth: int = 2):
        self.q: queue.Queue = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._produce, args=(items,), name="seqprep-prefetch", daemon=True)
        self.thread.start()

    def _put(self, entry) -> bool:
        while not self.stop.is_set():
            try:
                self.q.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False  # the consumer has gone

    def _produce(self, items: Iterator) -> None:
        try:
            for item in items:
                if not self._put((item, None)):
                    return
            self._put((_DONE, None))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, which raises it
            self._put((_DONE, e))

    def __iter__(self) -> Iterator:
        while True:
            item, error = self.q.get()
            if item is _DONE:
                if error is not None:
                    raise error
                return
            yield item

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


class Writer:
    """Runs calls one at a time, in order, on a background thread (the sink's writes).

    At most ``depth`` calls wait; an error in one is raised by the next ``submit`` or by
    ``drain``, and later calls are skipped.
    """

    def __init__(self, depth: int = 2):
        self.q: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="seqprep-writer", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        while True:
            call = self.q.get()
            if call is None:
                return
            if self.error is None:
                try:
                    call[0](*call[1:])
                except BaseException as e:  # noqa: BLE001 - raised in the caller
                    self.error = e

    def _raise(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def submit(self, fn, *args) -> None:
        self._raise()
        self.q.put((fn, *args))

    def drain(self) -> None:
        """Wait for every submitted call; raise the first error."""
        self.close()
        self._raise()

    def close(self) -> None:
        if self.thread.is_alive():
            self.q.put(None)
            self.thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def empty_batch(schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=schema)


def run(source: Source, sink: Sink, transform: Transform, *, batch_rows: int = BATCH_ROWS,
        progress: Progress | None = None, workers: int = 1, scheduler: str | None = None) -> dict:
    """Stream every batch of ``source`` through ``transform`` into ``sink``; returns the manifest.

    With ``workers`` > 1 (processes) or a Dask ``scheduler``, shards run in parallel, each
    written by a worker; the output is byte-identical. A stream, or output to one, runs here.
    """
    with sink:
        # The output schema comes from the step, not from whichever batch is first, so every
        # worker writes the same one.
        sink.expect(_apply(source.path, transform, empty_batch(source.schema))[0].schema)
        if progress is not None:
            progress.start(source.rows)
        parallel = not source.in_process and sink.part_kind is not None and (
            scheduler is not None or (workers > 1 and len(source.shards) > 1))
        if parallel:
            _run_parts(source, sink, transform, batch_rows, progress, workers, scheduler)
        else:
            _run_here(source, sink, transform, batch_rows, progress)
        return sink.finish()


def _run_here(source: Source, sink: Sink, transform: Transform, batch_rows: int, progress: Progress | None) -> None:
    # Three stages overlap: the next batches are read (Ahead, two shards at once), this one
    # transformed, the last one written (Writer). Each stage keeps the order, so the output is
    # the same as serial.
    with Writer() as writer:
        for name, batches in _read_ahead(source, batch_rows):
            for (out, counts), rows_in in _outputs(name, batches, transform, source.schema):
                writer.submit(sink.write, _conformed(name, out, sink.schema))
                sink.count(counts)
                if progress is not None:
                    progress.advance(rows_in)
            writer.submit(sink.end_shard)
        writer.drain()


SHARDS_AHEAD = 2  # shards read at once, each by a thread of its own


def _read_ahead(source: Source, batch_rows: int) -> Iterator[tuple[str, Iterator[pa.RecordBatch]]]:
    """``source.shard_batches`` in order, each shard read by a background thread of its own, the
    next shard's started with this one's: two shards are decoded at once (Parquet decoding of
    one shard keeps about one core busy; the bench data's shards were read in 0.74 s this way
    against 1.31 s one after another), and the reader does not wait at each shard's end for the
    consumer, nor the consumer at each shard's start for the reader. Each holds a couple of
    batches ahead. An error in a shard is raised when the consumer reaches it."""
    shards = iter(source.shard_batches(batch_rows))
    started: collections.deque = collections.deque()

    def start() -> None:
        shard = next(shards, None)
        if shard is not None:
            started.append((shard[0], Ahead(shard[1])))

    try:
        for _ in range(SHARDS_AHEAD):
            start()
        while started:
            name, ahead = started[0]
            yield name, iter(ahead)
            started.popleft()
            ahead.close()
            start()
    finally:
        for _, ahead in started:
            ahead.close()


def _outputs(name: str, batches, transform: Transform, source_schema: pa.Schema):
    """Each batch of a shard through the transform, with its input rows. An empty shard gives
    the transform of an empty batch: its output shard still carries the schema."""
    empty = True
    for batch in batches:
        yield _apply(name, transform, batch), batch.num_rows
        empty = False
    if empty:
        yield _apply(name, transform, empty_batch(source_schema)), 0


@dataclass
class ShardJob:
    """What a worker needs to write output shards from input shards (plain-picklable)."""

    files: ShardFiles
    source_schema: pa.Schema
    transform: Transform
    schema: pa.Schema  # the output's
    part_kind: str
    tmp: str | Uri  # the output's temporary directory (or prefix, in object storage)


def write_shard(job: ShardJob, i: int, name: str, batches) -> tuple[dict, Stats, dict, int]:
    """Shard ``i`` through the transform into a part (in a worker); returns the part, its stats,
    what the transform counted (summed over the shard's batches) and the input rows."""
    part = open_part(job.part_kind, job.tmp if isinstance(job.tmp, Uri) else Path(job.tmp), i, job.schema)
    stats = Stats()
    counted: dict = {}
    rows_in = 0
    try:
        for (out, counts), rows in _outputs(name, batches, job.transform, job.source_schema):
            out = _conformed(name, out, job.schema)  # as Sink.write does
            stats.add(out)
            part.write(out)
            for key, value in counts.items():
                counted[key] = counted.get(key, 0) + value
            rows_in += rows
        done = part.close()
    except BaseException:
        part.abort()
        raise
    return done, stats, counted, rows_in


def _run_parts(source: Source, sink: Sink, transform: Transform, batch_rows: int, progress: Progress | None,
               workers: int, scheduler: str | None) -> None:
    job = ShardJob(files=source.shard_files(batch_rows), source_schema=source.schema, transform=transform,
                   schema=sink.schema, part_kind=sink.part_kind,
                   tmp=sink.dir.tmp if isinstance(sink.dir.tmp, Uri) else str(sink.dir.tmp.resolve()))
    for part, stats, counted, rows_in in map_shards(source, write_shard, job, batch_rows=batch_rows,
                                                    workers=workers, scheduler=scheduler):
        sink.add_part(part, stats)
        sink.count(counted)
        if progress is not None:
            progress.advance(rows_in)


def map_shards(source: Source, fn: Callable, job, *, batch_rows: int = BATCH_ROWS, workers: int = 1,
               scheduler: str | None = None) -> Iterator:
    """``fn(job, i, name, batches)`` for every shard ``i`` of ``source``, the results in shard
    order, whether the shards run here (read ahead on a thread), in worker processes or on a
    Dask cluster: the one way steps and ``fit`` map over shards before merging in order.
    ``fn`` is a module-level function and ``job`` picklable; a stream or NPY export runs here."""
    pool = None if source.in_process else open_pool(workers, scheduler, shards=len(source.shards))
    if pool is None:
        for i, (name, batches) in enumerate(_read_ahead(source, batch_rows)):
            yield fn(job, i, name, batches)
        return
    files = source.shard_files(batch_rows)
    with pool:
        yield from pool.map(_on_shard, (fn, job, files), len(files.paths))


def _on_shard(work: tuple, i: int):
    fn, job, files = work
    return fn(job, i, files.names[i], files.batches(i))


def _conformed(name: str, batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """The batch with the output's schema; a shard whose types differ is named."""
    try:
        return conform(batch, schema)
    except InputError as e:
        raise InputError(f"{name}: {e}") from None


def _apply(name: str, transform: Transform, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, dict]:
    try:
        return transform(batch)
    except InputError as e:
        raise InputError(f"{name}: {e}") from None


def write_all(batches, sink: Sink, *, progress: Progress | None = None) -> dict:
    """Write batches that come from a reader rather than a dataset (ingest); returns the manifest."""
    with sink:
        if progress is not None:
            progress.start(None)
        for batch in batches:
            sink.write(batch)
            if progress is not None:
                progress.advance(batch.num_rows)
        return sink.finish()
