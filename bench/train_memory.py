"""Peak memory of `seqprep train` on data larger than the memory it may use.

    python bench/train_memory.py [--gib 6] [--format npy|parquet|ragged] [--dir bench_out/train-memory]

Writes an NPY export of about --gib GiB (float32 readings, N x 100 steps x 750 channels, two
classes told apart by the mean of the last steps), or with ``--format parquet`` the same rows
as a padded Parquet dataset (written through seqprep's own dataset sink), or with ``--format
ragged`` as a variable-length (unpadded) one, then trains one epoch
on it in a fresh process (`seqprep train ... --epochs 1`) and reports that process's peak RSS.
An export is read batch by batch from X.npy (rows by pread, after one pass of checks a chunk at
a time); a Parquet dataset is read shard by shard into an unlinked temporary file in TMPDIR,
then read the same way; a variable-length one's steps are copied to such a file and mapped,
each batch's pages handed back once read. The peak must stay bounded (target: under 1.5 GB for 6 GB) instead of
holding X.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

STEPS, CHANNELS = 100, 750


def write_export(out: Path, rows: int) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, rows)
    x = np.lib.format.open_memmap(out / "X.npy", mode="w+", dtype=np.float32, shape=(rows, STEPS, CHANNELS))
    for start in range(0, rows, 1000):
        part = rng.standard_normal((min(1000, rows - start), STEPS, CHANNELS), dtype=np.float32)
        part[:, -10:, :] += y[start:start + len(part), None, None] * 0.5
        x[start:start + len(part)] = part
    x.flush()
    del x
    np.save(out / "lengths.npy", np.full(rows, STEPS, dtype=np.int32))
    np.save(out / "ids.npy", np.arange(rows, dtype=np.int64))
    np.save(out / "y.npy", y.astype(np.int64))
    meta = {"format": "seqprep-npy", "version": 1, "rows": rows, "shape": [rows, STEPS, CHANNELS],
            "dtype": "float32", "classes": ["a", "b"], "padding": None, "encoding": {}, "lineage": []}
    (out / "meta.json").write_text(json.dumps(meta))


def write_parquet(out: Path, export: Path, padded: bool = True) -> None:
    """The export's rows as a padded Parquet dataset (id, seq, length, label), 1,000 rows a
    batch; ``padded=False``: as variable-length rows (id, seq, label)."""
    import pyarrow as pa

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from seqprep.output import DatasetSink
    from seqprep.padding import PadSpec

    if out.exists():
        shutil.rmtree(out)
    x = np.load(export / "X.npy", mmap_mode="r")
    y = np.load(export / "y.npy")
    with DatasetSink(str(out), lineage=[{"command": "bench/train_memory.py"}],
                     padding=PadSpec(STEPS, "start", 0.0) if padded else None) as sink:
        for start in range(0, len(x), 1000):
            part = np.ascontiguousarray(x[start:start + 1000])
            steps = pa.FixedSizeListArray.from_arrays(pa.array(part.reshape(-1)), CHANNELS)
            n = len(part)
            if not padded:
                offsets = pa.array(np.arange(n + 1, dtype=np.int32) * STEPS)
                sink.write(pa.RecordBatch.from_pydict({
                    "id": pa.array(np.arange(start, start + n, dtype=np.int64)),
                    "seq": pa.ListArray.from_arrays(offsets, steps),
                    "label": pa.array(["ab"[int(v)] for v in y[start:start + n]])}))
                continue
            sink.write(pa.RecordBatch.from_pydict({
                "id": pa.array(np.arange(start, start + n, dtype=np.int64)),
                "seq": pa.FixedSizeListArray.from_arrays(steps, STEPS),
                "length": pa.array(np.full(n, STEPS, dtype=np.int32)),
                "label": pa.array(["ab"[int(v)] for v in y[start:start + n]])}))
        sink.finish()


def peak_rss(cmd: list[str]) -> int:
    """Run ``cmd``; its peak RSS in bytes (exits with its status if it fails)."""
    child = subprocess.Popen(cmd)
    peak = 0
    while child.poll() is None:
        # VmHWM: the child's own peak since exec. (getrusage's RUSAGE_CHILDREN would count the
        # pages a forked child shares with this process, which wrote the 6 GiB file, before exec.)
        try:
            for line in Path(f"/proc/{child.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) * 1024)
        except OSError:
            pass
        time.sleep(0.1)
    if child.returncode:
        sys.exit(child.returncode)
    return peak


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--gib", type=float, default=6.0)
    p.add_argument("--format", choices=("npy", "parquet", "ragged"), default="npy")
    p.add_argument("--dir", default="bench_out/train-memory")
    a = p.parse_args()
    out = Path(a.dir)
    rows = int(a.gib * 2**30 / (STEPS * CHANNELS * 4))
    started = time.perf_counter()
    write_export(out / "export", rows)
    size = (out / "export" / "X.npy").stat().st_size
    print(f"export: {rows:,} rows x {STEPS} steps x {CHANNELS} channels, X.npy {size / 2**30:.2f} GiB "
          f"(written in {time.perf_counter() - started:.0f} s)", flush=True)
    data = out / "export"
    if a.format in ("parquet", "ragged"):
        started = time.perf_counter()
        data = out / a.format
        write_parquet(data, out / "export", padded=a.format == "parquet")
        shutil.rmtree(out / "export")  # the disk holds the dataset and train's temporary copy
        on_disk = sum(f.stat().st_size for f in data.iterdir())
        print(f"{a.format}: {on_disk / 2**30:.2f} GiB on disk (written in {time.perf_counter() - started:.0f} s)",
              flush=True)
    seqprep = str(Path(sys.executable).with_name("seqprep"))
    started = time.perf_counter()
    peak = peak_rss([seqprep, "train", str(data), str(out / "run"), "--epochs", "1", "--hidden", "16", "--embed",
                     "16", "--batch-size", "64", "--overwrite"])
    print(f"seqprep train, one epoch: {time.perf_counter() - started:.0f} s, peak RSS {peak / 2**30:.2f} GiB "
          f"for {size / 2**30:.2f} GiB of model input as {a.format} (target < 1.5 GB)")


if __name__ == "__main__":
    main()
