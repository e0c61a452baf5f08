"""The floor a data command is measured against: pyarrow alone, reading every shard of a
dataset and writing a given result (the command's own output) with seqprep's writer settings.

    python bench/floor.py DATA ARROW SCRATCH

runs it in a process of its own, as a user's pyarrow script would run: its wall time counts
Python's start and pyarrow's import, as seqprep's does. The result comes from ARROW (see
:func:`hold`), mapped, not decoded. bench.py also calls :func:`floor` in its own, warm
process, with the result held in memory.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from seqprep.dataset import BATCH_ROWS, shard_name
from seqprep.parquet import parquet_writer


def floor(data: Path, result: list[pa.Table], scratch: Path) -> float:
    """pyarrow alone: read every input shard, write the same result; returns the seconds."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    shards = sorted(data.glob("part-*.parquet"))
    t0 = time.perf_counter()
    for i, (shard, table) in enumerate(zip(shards, result)):
        pq.read_table(shard)
        with parquet_writer(scratch / shard_name(i), table.schema) as w:
            for batch in table.to_batches(max_chunksize=BATCH_ROWS):
                w.write_batch(batch)
    return time.perf_counter() - t0


def hold(result: Path, arrow: Path) -> list[pa.Table]:
    """The result's shards, read once; also saved as uncompressed Arrow files in ``arrow``,
    which a fresh process maps without decoding (so nothing of that is part of its floor)."""
    tables = [pq.read_table(p) for p in sorted(result.glob("part-*.parquet"))]
    shutil.rmtree(arrow, ignore_errors=True)
    arrow.mkdir(parents=True)
    for i, table in enumerate(tables):
        with pa.ipc.new_file(arrow / f"{i:05d}.arrow", table.schema) as w:
            w.write_table(table)
    return tables


def main() -> None:
    data, arrow, scratch = map(Path, sys.argv[1:4])
    maps = [pa.ipc.open_file(pa.memory_map(str(p))).read_all() for p in sorted(arrow.glob("*.arrow"))]
    floor(data, maps, scratch)


if __name__ == "__main__":
    main()
