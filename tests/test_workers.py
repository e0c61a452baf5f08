"""--workers and --scheduler: shards run at once in other processes, to the same bytes."""

import json
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from seqprep.errors import SeqprepError, UsageError
from seqprep.fit import fit
from seqprep.ingest import IngestOptions, ingest
from seqprep.steps import Padding, encode, sample, split, summarize, truncate

from .conftest import listing, make_dataset, read_table


def files(path) -> dict:
    """Every file of a dataset (or a stats file) and its bytes."""
    from pathlib import Path

    p = Path(path)
    if p.is_file():
        return {"file": p.read_bytes()}
    return {f.name: f.read_bytes() for f in sorted(p.iterdir())}


def token_runs(raw: str, d):
    stats = str(d / "stats.json")
    return {
        "fit": lambda o, **w: fit(raw, o + ".json", **w),
        "truncate": lambda o, **w: truncate(raw, o, length=10, keep="both", head=3, **w),
        "truncate-nopad": lambda o, **w: truncate(raw, o, length=10, padding=Padding(pad=False), **w),
        "summarize": lambda o, **w: summarize(raw, o, stats=stats, drop_top=2, **w),
        "sample-steps": lambda o, **w: sample(raw, o, length=6, seed=5, **w),
        "sample-crop": lambda o, **w: sample(raw, o, length=6, seed=5, mode="crop", copies=3, overlap=False, **w),
        "split": lambda o, **w: split(raw, o, length=4, stride=3, last="drop", **w),
        "encode": lambda o, **w: encode(raw, o, stats=stats, length=8, **w),
        "encode-npy": lambda o, **w: encode(raw, o, stats=stats, length=8, format="npy", **w),
        "encode-hash": lambda o, **w: encode(raw, o, hash=64, **w),
    }


def test_determinism_matrix_shard_sizes_by_workers(tmp_path):
    """Shard sizes 1, 7, 1000 x --workers 1, 2: the same rows for every command; for one shard
    size, --workers 2 writes the same bytes as --workers 1."""
    rng = np.random.default_rng(3)
    lines = []
    for i in range(31):
        words = rng.choice(["a", "b", "c", "d", "e", "f"], size=rng.integers(0, 25)).tolist()
        lines.append(json.dumps({"text": " ".join(words), "label": ["x", "y"][i % 2]}))
    (tmp_path / "d.jsonl").write_text("\n".join(lines) + "\n")
    rows: dict = {}
    for shard_rows in (1, 7, 1000):
        d = tmp_path / f"s{shard_rows}"
        raw = str(d / "raw")
        ingest(str(tmp_path / "d.jsonl"), raw, options=IngestOptions(shard_rows=shard_rows))
        fit(raw, str(d / "stats.json"))
        for workers in (1, 2):
            for name, run in token_runs(raw, d).items():
                run(str(d / f"{name}-w{workers}"), workers=workers)
        for name in token_runs(raw, d):
            suffix = ".json" if name == "fit" else ""
            one, two = files(str(d / f"{name}-w1") + suffix), files(str(d / f"{name}-w2") + suffix)
            assert one == two, (shard_rows, name)
            if name == "fit":
                got = json.loads(one["file"])
                got = (got["tokens"], got["counts"], got["classes"], got["rows"], got["steps"])
            elif name == "encode-npy":
                got = np.load(d / f"{name}-w1" / "X.npy").tolist()
            else:
                got = read_table(d / f"{name}-w1").to_pylist()
            rows.setdefault(name, []).append(got)
    for name, got in rows.items():
        assert got[0] == got[1] == got[2], name


def test_numeric_steps_and_counts_with_workers(tmp_path):
    """Floats with NaN over 5 shards: --paa, --normalize (its NaN count adds up across
    workers), npy export and the fitted moments are the same bytes with 1 and 3 workers."""
    rng = np.random.default_rng(0)
    seqs = []
    for i in range(23):
        x = rng.standard_normal(int(rng.integers(0, 40))).astype(np.float32)
        x[rng.random(len(x)) < 0.1] = np.nan
        seqs.append(x.tolist())
    src = make_dataset(tmp_path / "src", seqs, labels=[i % 3 for i in range(23)], seq_type=pa.float32(), shard_rows=5)
    fit(str(src), str(tmp_path / "stats.json"))
    runs = {
        "fit.json": lambda o, **w: fit(str(src), o, **w),
        "paa": lambda o, **w: summarize(str(src), o, paa=4, **w),
        "factor": lambda o, **w: summarize(str(src), o, factor=3, agg="max", **w),
        "normalize": lambda o, **w: encode(str(src), o, normalize_with=str(tmp_path / "stats.json"), length=12, **w),
        "npy": lambda o, **w: truncate(str(src), o, length=12, format="npy", **w),
        "split-features": lambda o, **w: split(str(src), o, length=8, features=True, **w),
    }
    for name, run in runs.items():
        one = run(str(tmp_path / f"w1-{name}"), workers=1)
        three = run(str(tmp_path / f"w3-{name}"), workers=3)
        assert files(tmp_path / f"w1-{name}") == files(tmp_path / f"w3-{name}"), name
        assert json.dumps(one, sort_keys=True, default=str) == json.dumps(three, sort_keys=True, default=str)
    meta = json.loads((tmp_path / "w3-normalize" / "_seqprep.json").read_text())
    nans = sum(int(np.isnan(np.asarray(s[-12:], dtype=np.float32)).sum()) for s in seqs)  # the kept steps
    assert nans > 0 and meta["encoding"]["nan_replaced"] == nans


def test_a_bad_shard_in_a_worker_is_one_line_and_leaves_nothing(tmp_path):
    src = make_dataset(tmp_path / "src", [[1, 2, 3]] * 40, seq_type=pa.int32(), shard_rows=5)
    shard = src / "part-00004.parquet"  # damaged in place, same size: found by the worker reading it
    shard.write_bytes(b"PAR1" + b"x" * (shard.stat().st_size - 8) + b"PAR1")
    before = listing(tmp_path)
    r = subprocess.run([sys.executable, "-m", "seqprep", "truncate", str(src), str(tmp_path / "out"), "-l", "2",
                        "--workers", "2"], capture_output=True, text=True)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "part-00004.parquet" in lines[0] and "Traceback" not in r.stderr
    assert listing(tmp_path) == before


@pytest.mark.parametrize("kwargs, message", [
    ({"workers": 0}, "workers=0 must be at least 1"),
    ({"workers": 2, "scheduler": "tcp://127.0.0.1:1"}, "not both"),
])
def test_bad_worker_options(tmp_path, kwargs, message):
    src = make_dataset(tmp_path / "src", [[1, 2]], seq_type=pa.int32())
    with pytest.raises(UsageError, match=message):
        truncate(str(src), str(tmp_path / "out"), length=2, **kwargs)
    with pytest.raises(UsageError, match=message):
        fit(str(src), str(tmp_path / "out.json"), **kwargs)
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.json").exists()


def test_a_stream_with_workers_runs_in_one_process(tmp_path):
    src = make_dataset(tmp_path / "src", [[1, 2, 3], [4], []] * 3, seq_type=pa.int32(), shard_rows=2)
    run = [sys.executable, "-m", "seqprep"]
    stream = subprocess.run(run + ["truncate", str(src), "-", "-l", "2"], capture_output=True, check=True).stdout
    outs = {}
    for w in ("1", "2"):
        r = subprocess.run(run + ["truncate", "-", str(tmp_path / f"o{w}"), "-l", "1", "--workers", w],
                           input=stream, capture_output=True)
        assert r.returncode == 0, r.stderr
        outs[w] = files(tmp_path / f"o{w}")
    assert outs["1"] == outs["2"]


# ---------------------------------------------------------------------------------------------
# Dask


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as c:
        yield c.scheduler_address


def test_dask_cluster_gives_the_same_bytes(tmp_path, cluster):
    rng = np.random.default_rng(1)
    seqs = [rng.integers(0, 30, int(rng.integers(0, 50))).tolist() for _ in range(40)]
    src = make_dataset(tmp_path / "src", seqs, labels=["a", "b"] * 20, seq_type=pa.int32(), shard_rows=6)
    stats = str(tmp_path / "stats.json")
    fit(str(src), stats)
    runs = {
        "fit.json": lambda o, **w: fit(str(src), o, **w),
        "truncate": lambda o, **w: truncate(str(src), o, length=10, **w),
        "sample": lambda o, **w: sample(str(src), o, length=5, seed=2, mode="crop", copies=2, **w),
        "encode-npy": lambda o, **w: encode(str(src), o, stats=stats, length=12, format="npy", **w),
    }
    for name, run in runs.items():
        run(str(tmp_path / f"here-{name}"))
        run(str(tmp_path / f"dask-{name}"), scheduler=cluster)
        assert files(tmp_path / f"here-{name}") == files(tmp_path / f"dask-{name}"), name
    from distributed import Client

    with Client(cluster) as client:  # the shards did run as tasks there
        ran = client.run_on_scheduler(lambda dask_scheduler: sorted(dask_scheduler.task_prefixes))
    assert "run_blob" in ran


def test_dask_task_error_is_the_step_error(tmp_path, cluster):
    src = make_dataset(tmp_path / "src", [[1, 2, 3]] * 12, seq_type=pa.int32(), shard_rows=3)
    shard = src / "part-00002.parquet"  # damaged in place, same size: found by the task reading it
    shard.write_bytes(b"x" * shard.stat().st_size)
    with pytest.raises(SeqprepError, match="part-00002.parquet: cannot be read"):
        truncate(str(src), str(tmp_path / "out"), length=2, scheduler=cluster)
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["src"]


# ---------------------------------------------------------------------------------------------
# How many workers start: no more than the spare cores keep busy


@pytest.fixture
def machine(monkeypatch):
    """A machine of ``cores`` cores at ``load`` (1-minute load average), no cgroup quota."""
    import seqprep.workers as w

    monkeypatch.delenv("SEQPREP_CORES")

    def set_(cores: int, load: float, quota: int | None = None):
        monkeypatch.setattr(w.os, "sched_getaffinity", lambda pid: set(range(cores)))
        monkeypatch.setattr(w.os, "getloadavg", lambda: (load, load, load))
        monkeypatch.setattr(w, "_cgroup_cores", lambda: quota)
    return set_


@pytest.mark.parametrize("cores, load, quota, asked, shards, started", [
    (2, 0.0, None, 2, 10, 1),   # 2 cores: one worker keeps 1.5 busy, a second would slow it
    (4, 0.0, None, 4, 10, 2),
    (8, 0.0, None, 4, 10, 4),   # enough cores: as asked
    (8, 0.0, None, 4, 3, 3),    # fewer shards than workers: one per shard, no note
    (8, 4.7, None, 4, 10, 2),   # 4 cores busy elsewhere: 4 spare
    (8, 0.0, 3, 4, 10, 2),      # a cgroup quota of 3 cores
    (1, 3.0, None, 2, 10, 1),
])
def test_workers_never_outnumber_the_spare_cores(machine, cores, load, quota, asked, shards, started):
    from seqprep.workers import worker_count

    machine(cores, load, quota)
    n, note = worker_count(asked, shards)
    assert n == started
    assert (note is not None) == (started < min(asked, shards))
    if note:
        assert note.startswith(f"--workers {asked}: running {started}, as ") and "the output is the same" in note


def test_fewer_workers_are_said_once_and_write_the_same_bytes(tmp_path):
    src = make_dataset(tmp_path / "src", [[1, 2, 3], [4], []] * 4, seq_type=pa.int32(), shard_rows=2)
    run = [sys.executable, "-m", "seqprep", "truncate", str(src)]
    env = {**os.environ, "SEQPREP_CORES": "1"}
    one = subprocess.run(run + [str(tmp_path / "a"), "-l", "1"], env=env, capture_output=True, text=True)
    two = subprocess.run(run + [str(tmp_path / "b"), "-l", "1", "--workers", "2"], env=env, capture_output=True,
                         text=True)
    assert one.returncode == two.returncode == 0, two.stderr
    notes = [line for line in two.stderr.splitlines() if line.startswith("seqprep: --workers 2: running 1")]
    assert len(notes) == 1 and "Warning" not in two.stderr
    assert files(tmp_path / "a") == files(tmp_path / "b")


@pytest.mark.parametrize("value", ["0", "two", "-1", "2.5"])
def test_a_bad_core_count_is_refused_before_any_work(tmp_path, value):
    src = make_dataset(tmp_path / "src", [[1, 2]] * 4, seq_type=pa.int32(), shard_rows=2)
    r = subprocess.run([sys.executable, "-m", "seqprep", "truncate", str(src), str(tmp_path / "out"), "-l", "1",
                        "--workers", "2"], env={**os.environ, "SEQPREP_CORES": value}, capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "SEQPREP_CORES" in r.stderr
    assert not (tmp_path / "out").exists()
