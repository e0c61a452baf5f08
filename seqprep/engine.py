"""Run a step over a dataset: each input shard's batches through a transform into a sink.

Shards are independent and visited in order, so the output does not depend on how the work
is scheduled. Memory stays bounded by the batch size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import pyarrow as pa

from .dataset import BATCH_ROWS, Source
from .errors import InputError
from .output import Sink


class Progress(Protocol):
    def start(self, total: int | None) -> None: ...

    def advance(self, rows: int) -> None: ...


Transform = Callable[[pa.RecordBatch], pa.RecordBatch]


def empty_batch(schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=schema)


def run(source: Source, sink: Sink, transform: Transform, *, batch_rows: int = BATCH_ROWS,
        progress: Progress | None = None) -> dict:
    """Stream every batch of ``source`` through ``transform`` into ``sink``; returns the manifest."""
    with sink:
        if progress is not None:
            progress.start(source.rows)
        for name, batches in source.shard_batches(batch_rows):
            wrote = False
            for batch in batches:
                sink.write(_apply(name, transform, batch))
                wrote = True
                if progress is not None:
                    progress.advance(batch.num_rows)
            if not wrote:  # an empty shard still carries the output schema
                sink.write(_apply(name, transform, empty_batch(source.schema)))
            sink.end_shard()
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
