"""seqprep benchmarks: ratios measured side by side in one run, never timed tests.

    python bench/bench.py            # the foundation data: 100,000 sequences, ~91M int32 tokens
    python bench/bench.py --quick    # a tenth of that, for smoke runs
    python bench/bench.py --parts workers,scale   # some of the tables only
    python bench/bench.py --parts storage         # object storage: an S3 server (moto) on loopback

For each data command: its end-to-end time (the CLI as a user runs it, in a fresh process)
over the floor (pyarrow alone reading the same shards and writing the same result with the
same writer settings); the keras pipeline; --workers 2, two forced processes and a Dask
LocalCluster against one worker; then every data command's and fit's time and peak RSS on
the 1x data and on a dataset 10x larger; truncate with IN and OUT in object storage (an S3
server on loopback: moto, in memory) against the same on local disk.
"""

from __future__ import annotations

import argparse
import compileall
import json
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

from seqprep.dataset import BATCH_ROWS, READ_VALUES
from seqprep.output import DatasetSink
from seqprep.parquet import parquet_writer

from floor import floor, hold

ROOT = Path(__file__).resolve().parent.parent
SHARD_ROWS = 10_000


def cached(out: Path) -> bool:
    """Whether ``out`` holds data made earlier with the shard writer seqprep has now (else
    remake it): the same compression and encodings as a shard written now."""
    if not any((out / m).exists() for m in ("_seqprep.json", "seqprep.json")):
        return False
    shard = pq.ParquetFile(next(out.glob("part-*.parquet")))

    def layout(pf: pq.ParquetFile) -> list:
        rg = pf.metadata.row_group(0)
        return [(rg.column(i).compression, sorted(rg.column(i).encodings))
                for i in range(rg.num_columns)]

    probe = out.parent / ".probe.parquet"
    with parquet_writer(probe, shard.schema_arrow) as w:
        w.write_batch(next(shard.iter_batches(batch_size=1)))
    same = layout(shard) == layout(pq.ParquetFile(probe))
    probe.unlink()
    if not same:
        shutil.rmtree(out)
    return same


def make_data(out: Path, rows: int, seed: int = 0) -> Path:
    """Lengths lognormal(6.5, 0.8) clipped to [1, 20000]; Zipf-like int32 tokens below 50,000."""
    if cached(out):
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


def make_float_data(out: Path, like: Path) -> Path:
    """Float32 readings with the same lengths as ``like`` (for --paa)."""
    if cached(out):
        return out
    rng = np.random.default_rng(2)
    with DatasetSink(str(out), lineage=[{"command": "bench-float-data"}], shard_rows=SHARD_ROWS) as sink:
        for shard in sorted(like.glob("part-*.parquet")):
            for batch in pq.ParquetFile(shard).iter_batches(batch_size=BATCH_ROWS, columns=["id", "seq", "label"]):
                seq = batch.column("seq")
                values = rng.standard_normal(len(seq.values), dtype=np.float32)
                sink.write(pa.RecordBatch.from_arrays(
                    [batch.column("id"), pa.ListArray.from_arrays(seq.offsets, pa.array(values)), batch.column("label")],
                    names=["id", "seq", "label"]))
        sink.finish()
    return out


def make_string_data(out: Path, like: Path) -> Path:
    """The same sequences with each token id written as a string token ("w123")."""
    if cached(out):
        return out
    names = pa.array([f"w{i}" for i in range(50_000)])
    with DatasetSink(str(out), lineage=[{"command": "bench-string-data"}], shard_rows=SHARD_ROWS) as sink:
        for shard in sorted(like.glob("part-*.parquet")):
            for batch in pq.ParquetFile(shard).iter_batches(batch_size=BATCH_ROWS, columns=["id", "seq", "label"]):
                seq = batch.column("seq")
                sink.write(pa.RecordBatch.from_arrays(
                    [batch.column("id"), pa.ListArray.from_arrays(seq.offsets, names.take(seq.values)),
                     batch.column("label")], names=["id", "seq", "label"]))
        sink.finish()
    return out


def run_child(args: list[str], cores: int | None = None, env: dict | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one seqprep process (see peak.py for why not wait4);
    ``cores``: the SEQPREP_CORES it is told (default: its own count of spare cores); ``env``:
    more environment variables."""
    peak_file = ROOT / "bench_out" / ".peak"
    env = {**os.environ, **({"SEQPREP_CORES": str(cores)} if cores else {}), **(env or {})}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(Path(__file__).parent / "peak.py"), str(peak_file), *args],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"benchmark command failed: seqprep {' '.join(args)}\n{proc.stderr.decode()}")
    return seconds, int(peak_file.read_text()) * 1024


def seqprep(command: list[str], data: Path, out: Path, cores: int | None = None) -> tuple[float, int]:
    shutil.rmtree(out, ignore_errors=True)
    return run_child([command[0], str(data), str(out), *command[1:]], cores)


def floor_process(data: Path, arrow: Path, scratch: Path) -> float:
    """The floor in a fresh process of its own, as seqprep runs: its wall time."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, str(Path(__file__).parent / "floor.py"), str(data), str(arrow), str(scratch)],
                   check=True)
    return time.perf_counter() - t0


def versus_floor(name: str, command: list[str], data: Path, work: Path, repeat: int) -> tuple[float, float, int]:
    """Median seqprep CLI time, median floor time, and peak RSS; runs alternate. Also the
    floor in a fresh process of its own (Python's start and pyarrow's import included)."""
    out = work / "out"
    seqprep(command, data, out)  # warm the page cache, and make the result the floor writes
    held = hold(out, work / "result")
    floors, fresh, ours, rss = [], [], [], []
    for _ in range(repeat):
        floors.append(floor(data, held, work / "floor"))
        fresh.append(floor_process(data, work / "result", work / "floor"))
        seconds, peak = seqprep(command, data, out)
        ours.append(seconds)
        rss.append(peak)
    shutil.rmtree(out, ignore_errors=True)
    for scratch in ("floor", "result"):
        shutil.rmtree(work / scratch, ignore_errors=True)
    f, p, s = statistics.median(floors), statistics.median(fresh), statistics.median(ours)
    print(f"  {name:<40} {f:7.2f} s {s:9.2f} s {s / f:8.2f}x {p:9.2f} s {s / p:8.2f}x", flush=True)
    return s, f, max(rss)


KERAS_SCRIPT = r"""
import sys, time
from pathlib import Path
import numpy as np, pyarrow.parquet as pq
import keras
data, out, length = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
t0 = time.perf_counter()
xs = []
for shard in sorted(data.glob("part-*.parquet")):
    seqs = pq.read_table(shard, columns=["seq"]).column("seq").to_pylist()
    xs.append(keras.utils.pad_sequences(seqs, maxlen=length))
np.save(out, np.concatenate(xs))
print(time.perf_counter() - t0)
"""


def versus_keras(data: Path, work: Path, repeat: int) -> None:
    """What users do today, in a fresh Python (its imports not timed): pyarrow -> Python lists
    -> keras.utils.pad_sequences -> np.save, against seqprep truncate --format npy (same arrays)."""
    env = {**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "torch")}
    probe = subprocess.run([sys.executable, "-c", "import keras"], env=env, capture_output=True)
    if probe.returncode != 0:
        print("  keras pipeline: skipped, keras does not import here (`make bench` installs it)")
        return
    theirs, ours = [], []
    x_keras = work / "keras-X.npy"
    for _ in range(repeat):
        r = subprocess.run([sys.executable, "-c", KERAS_SCRIPT, str(data), str(x_keras), "500"], env=env,
                           capture_output=True, text=True, check=True)
        theirs.append(float(r.stdout.split()[-1]))
        seconds, _ = seqprep(["truncate", "--length", "500", "--format", "npy"], data, work / "npy")
        ours.append(seconds)
    same = np.array_equal(np.load(x_keras, mmap_mode="r"), np.load(work / "npy" / "X.npy", mmap_mode="r"))
    x_keras.unlink()
    shutil.rmtree(work / "npy", ignore_errors=True)
    k, s = statistics.median(theirs), statistics.median(ours)
    print(f"  {'keras pad_sequences (their imports untimed)':<44} {k:7.2f} s {s:9.2f} s {k / s:8.2f}x"
          f"   same X: {same}", flush=True)


def versus_workers(name: str, command: list[str], data: Path, work: Path, repeat: int, cluster: str | None) -> None:
    """One worker; --workers 2 as seqprep chooses (no more than the spare cores keep busy);
    two worker processes forced (SEQPREP_CORES=4); a Dask LocalCluster of two workers."""
    runs: dict[str, list] = {"one": [], "chosen": [], "forced": [], "dask": []}
    for _ in range(repeat):
        runs["one"].append(seqprep(command, data, work / "out")[0])
        runs["chosen"].append(seqprep(command + ["--workers", "2"], data, work / "out")[0])
        runs["forced"].append(seqprep(command + ["--workers", "2"], data, work / "out", cores=4)[0])
        if cluster:
            runs["dask"].append(seqprep(command + ["--scheduler", cluster], data, work / "out")[0])
    shutil.rmtree(work / "out", ignore_errors=True)
    m = {k: statistics.median(v) if v else float("nan") for k, v in runs.items()}
    print(f"  {name:<40} {m['one']:7.2f} s {m['chosen']:7.2f} s {m['one'] / m['chosen']:6.2f}x "
          f"{m['forced']:7.2f} s {m['one'] / m['forced']:6.2f}x {m['dask']:7.2f} s {m['one'] / m['dask']:6.2f}x",
          flush=True)


# Every allocator hands freed memory back at once: peak RSS is then what was live at the peak
# (and the process's own pages), not what allocators kept for reuse.
NO_REUSE = {"ARROW_DEFAULT_MEMORY_POOL": "system", "MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}


def scale_table(commands: list, data: Path, data10: Path, work: Path) -> None:
    """Each command's time and peak RSS on the 1x and the 10x data (one run each), and an
    estimate of its live data at the peak: its peak RSS on the 1x data with NO_REUSE, less
    its peak RSS on an empty dataset with NO_REUSE (the process, its imports, no data)."""
    empty = work / "scale-empty"
    shutil.rmtree(empty, ignore_errors=True)
    with DatasetSink(str(empty), lineage=[{"command": "bench-empty"}]) as sink:
        sink.write(pa.RecordBatch.from_pylist([], schema=pq.read_schema(next(data.glob("part-*.parquet")))))
        sink.finish()

    def run(command, src, env=None):
        if command[0] == "fit":
            out = work / "scale-stats.json"
            out.unlink(missing_ok=True)
            cell = run_child(["fit", str(src), str(out), *command[1:]], env=env)
            out.unlink(missing_ok=True)
        else:
            shutil.rmtree(work / "scale-out", ignore_errors=True)
            cell = run_child([command[0], str(src), str(work / "scale-out"), *command[1:]], env=env)
            shutil.rmtree(work / "scale-out", ignore_errors=True)
        return cell

    print(f"  {'command':<34} {'1x':>8} {'10x':>9} {'ratio':>7} {'RSS 1x':>9} {'RSS 10x':>9} {'ratio':>7} {'live':>9}")
    for name, command in commands:
        (t1, r1), (t10, r10) = run(command, data), run(command, data10)
        live = run(command, data, NO_REUSE)[1] - run(command, empty, NO_REUSE)[1]
        print(f"  {name:<34} {t1:6.2f} s {t10:7.2f} s {t10 / t1:6.2f}x {r1 / 2**20:5.0f} MiB {r10 / 2**20:5.0f} MiB "
              f"{r10 / r1:6.2f}x {live / 2**20:5.0f} MiB", flush=True)
    shutil.rmtree(empty, ignore_errors=True)
    print("  targets: time ratio <= 11x; RSS ratio <= 1.1x; RSS <= 220 MiB (issue 19)")
    print("  live: peak RSS on 1x with every allocator returning freed memory at once, less that on an empty dataset")


def start_cluster():
    """A Dask LocalCluster of two single-threaded worker processes, or None without dask."""
    try:
        import distributed
    except ImportError:
        return None
    return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                    dashboard_address=None, silence_logs=50)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the data")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=str(ROOT / "bench_out"))
    parser.add_argument("--parts", default="floor,keras,workers,scale,storage",
                        help="comma-separated: floor, keras, workers, scale, storage (default: all)")
    args = parser.parse_args()
    rows = 10_000 if args.quick else 100_000
    work = Path(args.dir)
    # As an installed seqprep runs: from bytecode. Where PYTHONDONTWRITEBYTECODE is set (as on
    # some CI machines) every child would otherwise compile seqprep's sources again (~25 ms).
    compileall.compile_dir(ROOT / "seqprep", quiet=1)
    work.mkdir(exist_ok=True)

    print(f"making data: {rows:,} sequences, and {10 * rows:,} for the scale table (cached in {work})", flush=True)
    data = make_data(work / f"data-{rows}", rows)
    values = json.loads(next(p for p in (data / "_seqprep.json", data / "seqprep.json") if p.exists()).read_text())["lengths"]["total"]

    stats = work / f"stats-{rows}.json"
    if not stats.exists():
        run_child(["fit", str(data), str(stats)])
    floats = make_float_data(work / f"floats-{rows}", data)
    strings = make_string_data(work / f"strings-{rows}", data)
    string_stats = work / f"string-stats-{rows}.json"
    if not string_stats.exists():
        run_child(["fit", str(strings), str(string_stats)])

    parts = set(args.parts.split(","))
    if "floor" in parts:
        floor_table(data, work, args.repeat, rows, values, stats, floats, strings, string_stats)
    if "keras" in parts:
        print("\nthe same arrays the usual way / seqprep truncate --length 500 --format npy")
        print(f"  {'':<44} {'usual':>9} {'seqprep':>11} {'speed-up':>9}")
        versus_keras(data, work, args.repeat)
    if "workers" in parts:
        workers_table(work, args.repeat, floats, strings, string_stats)
    if "scale" in parts:
        data10 = make_data(work / f"data-{10 * rows}", 10 * rows, seed=1)
        print(f"\ntime and peak RSS on 1x and 10x the data ({rows:,} and {10 * rows:,} sequences; one run each; "
              f"a batch holds at most {BATCH_ROWS:,} rows and about {READ_VALUES * 4 / 2**20:.0f} MiB of tokens)")
        scale_table([
            ("truncate --length 500", ["truncate", "--length", "500"]),
            ("truncate --length 500 --format npy", ["truncate", "--length", "500", "--format", "npy"]),
            ("summarize --drop-top 50", ["summarize", "--stats", str(stats), "--drop-top", "50"]),
            ("sample --length 500", ["sample", "--length", "500", "--seed", "1"]),
            ("split --length 500", ["split", "--length", "500"]),
            ("fit", ["fit"]),
        ], data, data10, work)
    if "storage" in parts:
        storage_table(data, work, args.repeat)


def floor_table(data, work, repeat, rows, values, stats, floats, strings, string_stats) -> None:
    print(f"\n{rows:,} sequences, {values / 1e6:.1f}M steps, {len(list(data.glob('part-*.parquet')))} shards; "
          f"median of {repeat}, runs alternating")
    print(f"  {'':<40} {'':>9} {'':>11} {'':>9} {'floor in its':>11}")
    print(f"  {'command':<40} {'floor':>9} {'seqprep':>11} {'ratio':>9} {'own process':>11} {'ratio':>9}")
    versus_floor("truncate --length 500", ["truncate", "--length", "500"], data, work, repeat)
    for name, command, src in [
        ("summarize --drop-top 50", ["summarize", "--stats", str(stats), "--drop-top", "50"], data),
        ("sample --length 500 (steps)", ["sample", "--length", "500", "--seed", "1"], data),
        ("sample --mode crop --copies 2", ["sample", "--length", "500", "--seed", "1", "--mode", "crop", "--copies", "2"], data),
        ("split --length 500", ["split", "--length", "500"], data),
        ("summarize --paa 100 (float32)", ["summarize", "--paa", "100"], floats),
        ("encode --stats --length 500 (strings)", ["encode", "--stats", str(string_stats), "--length", "500"], strings),
    ]:
        versus_floor(name, command, src, work, repeat)
    print("  targets: truncate <= 1.30x; summarize, sample, split, --paa <= 1.50x; encode <= 2.00x")


def workers_table(work, repeat, floats, strings, string_stats) -> None:
    print(f"\n--workers 2 against one worker (this machine: {os.cpu_count()} cores)")
    print("  --workers 2 as seqprep chooses (no more than the spare cores keep busy); two processes forced\n"
          "  (SEQPREP_CORES=4); a Dask LocalCluster of two single-threaded workers. Time, speed-up over one:")
    print(f"  {'command':<40} {'1 worker':>9} {'--workers 2':>17} {'2 forced':>17} {'Dask 2':>17}")
    cluster = start_cluster()
    try:
        address = cluster.scheduler_address if cluster is not None else None
        versus_workers("summarize --paa 100 (float32)", ["summarize", "--paa", "100"], floats, work, repeat,
                       address)
        versus_workers("encode --stats --length 500 (strings)",
                       ["encode", "--stats", str(string_stats), "--length", "500"], strings, work, repeat, address)
    finally:
        if cluster is not None:
            cluster.close()
    print("  target: --workers 2 as chosen never more than 10% slower than one worker (>= 0.91x)")


def storage_table(data: Path, work: Path, repeat: int) -> None:
    """truncate --length 500 with IN and/or OUT at s3:// URIs on a moto server on loopback,
    against local disk; time and peak RSS, median of ``repeat``."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        print("\nobject storage: skipped (moto[server], a test dependency, is not installed)")
        return
    import logging

    import pyarrow.fs as pafs

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    s3 = pafs.S3FileSystem(endpoint_override=endpoint, allow_bucket_creation=True, region="us-east-1")
    s3.create_dir("bench")
    pafs.copy_files(str(data), "bench/in", destination_filesystem=s3)
    size = sum(f.stat().st_size for f in data.iterdir()) / 2**20
    print(f"\nobject storage: truncate --length 500, {size:.0f} MiB of shards, an S3 server on loopback (moto, "
          f"in memory, one Python process: it bounds what is measured); median of {repeat}")
    print(f"  {'IN -> OUT':<40} {'time':>9} {'vs local':>9} {'peak RSS':>9}")
    command = ["truncate", "--length", "500"]
    cluster = start_cluster()
    runs = [("local -> local", str(data), str(work / "out"), []),
            ("local -> s3://", str(data), "s3://bench/out", ["--overwrite"]),
            ("s3:// -> local", "s3://bench/in", str(work / "out"), []),
            ("s3:// -> s3://", "s3://bench/in", "s3://bench/out", ["--overwrite"])]
    if cluster is not None:
        runs.append(("s3:// -> s3://, Dask LocalCluster of 2", "s3://bench/in", "s3://bench/out",
                     ["--overwrite", "--scheduler", cluster.scheduler_address]))
    try:
        base = None
        for name, src, out, extra in runs:
            times, peaks = [], []
            for _ in range(repeat):
                shutil.rmtree(work / "out", ignore_errors=True)
                t, rss = run_child([command[0], src, out, *command[1:], *extra])
                times.append(t)
                peaks.append(rss)
            t = statistics.median(times)
            base = base or t
            print(f"  {name:<40} {t:7.2f} s {t / base:8.2f}x {statistics.median(peaks) / 2**20:5.0f} MiB", flush=True)
    finally:
        shutil.rmtree(work / "out", ignore_errors=True)
        if cluster is not None:
            cluster.close()
        server.stop()


if __name__ == "__main__":
    main()
