"""Where a step's rows go: the sink for OUT (a dataset, an NPY export or a stream) and the part a
worker writes one shard into. Apart from :mod:`seqprep.output` and :mod:`seqprep.npy`, which
both build on output's Sink, so neither imports the other."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from .padding import PadSpec
from .dataset import shard_name
from .errors import UsageError
from .npy import NpyPart, NpySink
from .output import DatasetSink, Sink, StreamSink
from .parquet import ParquetPart


def open_sink(out: str, *, format: str, lineage: list, padding: PadSpec | None = None, overwrite: bool = False,
              shard_rows: int | None = None, extra: dict | None = None, classes: list | None = None,
              counts_into: str | None = None) -> Sink:
    """``extra`` is merged into the manifest (or meta.json) at the end, with what the step
    counted added into ``extra[counts_into]``; ``classes`` fixes what y.npy's indices mean. A
    stream carries neither (only lineage and padding)."""
    if out == "-":
        if format == "npy":
            raise UsageError("--format npy writes a directory; give OUT as a path, not '-'")
        sink = StreamSink(lineage=lineage, padding=padding)
    elif format == "npy":
        sink = NpySink(out, lineage=lineage, padding=padding, overwrite=overwrite, extra=extra, classes=classes)
    else:
        sink = DatasetSink(out, lineage=lineage, padding=padding, overwrite=overwrite, shard_rows=shard_rows,
                           extra=extra)
    sink.counts_into = counts_into
    return sink



def open_part(kind: str, tmp: Path, index: int, schema: pa.Schema):
    """What a worker writes shard ``index``'s rows into (see :meth:`Sink.add_part`)."""
    if kind == "npy":
        return NpyPart(tmp / f"X.part-{index:05d}")
    return ParquetPart(tmp / shard_name(index), schema)
