"""Run a step over a dataset: each input shard's batches through a transform into a sink.

Shards are independent and visited in order, so the output does not depend on how the work
is scheduled. Memory stays bounded by the batch size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Protocol

import pyarrow as pa

from .dataset import BATCH_ROWS, Source
from .errors import InputError
from .output import Sink


class Progress(Protocol):
    def start(self, total: int | None) -> None: ...

    def advance(self, rows: int) -> None: ...


Transform = Callable[[pa.RecordBatch], pa.RecordBatch]


_DONE = object()


def prefetch(items: Iterator, depth: int = 2) -> Iterator:
    """``items``, produced by a background thread up to ``depth`` ahead, in the same order.

    Parquet decoding releases the GIL, so the next batch is read while this one is
    transformed and written. An error in the producer is raised here, in the consumer.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                q.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False  # the consumer has gone

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_DONE, None))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, which raises it
            put((_DONE, e))

    thread = threading.Thread(target=produce, name="seqprep-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, error = q.get()
            if item is _DONE:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        thread.join()


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
        progress: Progress | None = None) -> dict:
    """Stream every batch of ``source`` through ``transform`` into ``sink``; returns the manifest."""
    # Three stages overlap: the next batch is read (prefetch), this one transformed, the last
    # one written (Writer). Each stage keeps the order, so the output is the same as serial.
    with sink, Writer() as writer:
        if progress is not None:
            progress.start(source.rows)
        for name, batches in source.shard_batches(batch_rows):
            wrote = False
            for batch in prefetch(batches):
                writer.submit(sink.write, _apply(name, transform, batch))
                wrote = True
                if progress is not None:
                    progress.advance(batch.num_rows)
            if not wrote:  # an empty shard still carries the output schema
                writer.submit(sink.write, _apply(name, transform, empty_batch(source.schema)))
            writer.submit(sink.end_shard)
        writer.drain()
        return sink.finish()


def _apply(name: str, transform: Transform, batch: pa.RecordBatch) -> pa.RecordBatch:
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
