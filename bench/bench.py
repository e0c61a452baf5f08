"""seqprep benchmarks: ratios measured side by side in one run, never timed tests.

    python bench/bench.py            # the foundation data: 100,000 sequences, ~91M int32 tokens
    python bench/bench.py --quick    # a tenth of that, for smoke runs

Prints, for truncate --length 500: seqprep's end-to-end time (the CLI as a user runs it, in
a fresh process) over the floor (pyarrow alone reading the same shards and writing the same
fixed-size result with the same writer settings); and seqprep's peak RSS on a dataset 10x
larger over its peak RSS on the 1x dataset.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from seqprep.dataset import shard_name
from seqprep.output import DatasetSink, parquet_writer

ROOT = Path(__file__).resolve().parent.parent
SHARD_ROWS = 10_000
BATCH_ROWS = 4096


def make_data(out: Path, rows: int, seed: int = 0) -> Path:
    """Lengths lognormal(6.5, 0.8) clipped to [1, 20000]; Zipf-like int32 tokens below 50,000."""
    if (out / "seqprep.json").exists():
        return out
    rng = np.random.default_rng(seed)
    with DatasetSink(str(out), lineage=[{"command": "bench-data", "rows": rows, "seed": seed}],
                     shard_rows=SHARD_ROWS) as sink:
        for start in range(0, rows, BATCH_ROWS):
            n = min(BATCH_ROWS, rows - start)
            lengths = np.clip(np.rint(rng.lognormal(6.5, 0.8, n)), 1, 20_000).astype(np.int64)
            tokens = ((rng.zipf(1.3, int(lengths.sum())) - 1) % 50_000).astype(np.int32)
            offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
            sink.write(pa.RecordBatch.from_arrays(
                [pa.array(np.arange(start, start + n, dtype=np.int64)),
                 pa.ListArray.from_arrays(pa.array(offsets), pa.array(tokens)),
                 pa.array(rng.integers(0, 2, n))],
                names=["id", "seq", "label"]))
        sink.finish()
    return out


def run_child(args: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"benchmark command failed: {' '.join(args)}\n{proc.stderr.read().decode()}")
    proc.stderr.close()
    return seconds, usage.ru_maxrss * 1024


def seqprep_truncate(data: Path, out: Path) -> tuple[float, int]:
    shutil.rmtree(out, ignore_errors=True)
    return run_child([sys.executable, "-m", "seqprep", "truncate", str(data), str(out), "--length", "500"])


def floor(data: Path, result: list[pa.Table], scratch: Path) -> float:
    """pyarrow alone: read every input shard, write the same fixed-size result."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the data")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=str(ROOT / "bench_out"))
    args = parser.parse_args()
    rows = 10_000 if args.quick else 100_000
    work = Path(args.dir)
    work.mkdir(exist_ok=True)

    print(f"making data: {rows:,} and {10 * rows:,} sequences (cached in {work})", flush=True)
    data = make_data(work / f"data-{rows}", rows)
    data10 = make_data(work / f"data-{10 * rows}", 10 * rows, seed=1)
    tokens = sum(pq.ParquetFile(p).metadata.num_rows for p in data.glob("part-*.parquet"))
    values = int(__import__("json").loads((data / "seqprep.json").read_text())["lengths"]["total"])

    out = work / "truncated"
    seqprep_truncate(data, out)  # warm the page cache, and make the result the floor writes
    result = [pq.read_table(p) for p in sorted(out.glob("part-*.parquet"))]
    floors, ours, rss = [], [], []
    for _ in range(args.repeat):  # alternate, so both see the same machine state
        floors.append(floor(data, result, work / "floor"))
        seconds, peak = seqprep_truncate(data, out)
        ours.append(seconds)
        rss.append(peak)
    _, rss10 = seqprep_truncate(data10, work / "truncated10")
    shutil.rmtree(work / "truncated10", ignore_errors=True)

    f, s = statistics.median(floors), statistics.median(ours)
    print(f"\ntruncate --length 500 on {tokens:,} sequences, {values / 1e6:.1f}M int32 tokens, "
          f"{len(result)} shards (median of {args.repeat})")
    print(f"  pyarrow read + write floor   {f:7.2f} s")
    print(f"  seqprep truncate (CLI)       {s:7.2f} s")
    print(f"  time ratio                   {s / f:7.2f}x   (target <= 1.30x)")
    print(f"  peak RSS, 1x data            {max(rss) / 2**20:7.0f} MiB")
    print(f"  peak RSS, 10x data           {rss10 / 2**20:7.0f} MiB")
    print(f"  peak RSS ratio 10x / 1x      {rss10 / max(rss):7.2f}x   (target <= 1.20x)")


if __name__ == "__main__":
    main()
