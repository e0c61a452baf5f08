"""Reliability: verify, SIGKILL, very long rows (the shard-size x --workers matrix: test_workers.py)."""

import random
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pytest

from seqprep.dataset import verify
from seqprep.errors import InputError
from seqprep.steps import Padding, sample, split, truncate

from .conftest import listing, make_dataset, read_table


def test_verify(tmp_path, cli):
    src = make_dataset(tmp_path / "d", [[1, 2], [3]] * 5, seq_type=pa.int32(), shard_rows=4)
    assert verify(str(src)) == {"shards": 3, "rows": 10, "against": "_seqprep.json"}
    result = cli("verify", src)
    assert result.exit_code == 0 and result.stdout.strip() == f"{src}: 10 rows in 3 shards match _seqprep.json"
    shard = src / "part-00001.parquet"
    raw = bytearray(shard.read_bytes())
    raw[10] ^= 0xFF
    shard.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="part-00001.parquet: sha256 differs from _seqprep.json"):
        verify(str(src))
    result = cli("verify", src)
    assert result.exit_code == 1 and "part-00001.parquet: sha256 differs" in result.stderr
    shard.unlink()
    assert cli("verify", src).stderr.startswith(f"Error: {shard}: shard listed in _seqprep.json is missing")


def test_sigkill_leaves_the_old_output_or_none(tmp_path):
    rng = np.random.default_rng(0)
    rows = [rng.integers(0, 1000, n).tolist() for n in rng.integers(1, 1500, 6000)]
    src = make_dataset(tmp_path / "src", rows, seq_type=pa.int32(), shard_rows=500)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "seqprep", "truncate", str(src), str(out), "--length", "300", "--overwrite"]
    subprocess.run(cmd, check=True, capture_output=True)
    previous = read_table(out).to_pylist()
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    full = time.perf_counter() - t0
    chooser = random.Random(1)
    for _ in range(10):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(chooser.uniform(0.05, full))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # The previous dataset, or (killed after its commit) the same new one: never none, as
        # --overwrite swaps the two at once (renameat2; the two-rename fallback: test_atomic.py).
        assert verify(str(out))["rows"] == 6000
        assert read_table(out).to_pylist() == previous
    subprocess.run(cmd, check=True, capture_output=True)  # the next run removes what kills left
    assert [p for p in listing(tmp_path) if "seqprep-tmp" in p] == []
    assert read_table(out).to_pylist() == previous


def canonical(path) -> list:
    """A dataset's rows, whatever its sharding."""
    return read_table(path).to_pylist()


def test_one_sequence_of_ten_million_steps(tmp_path):
    from seqprep.output import DatasetSink

    n = 10_000_000
    values = np.arange(n, dtype=np.int32)
    batch = pa.RecordBatch.from_arrays(
        [pa.array([7], pa.int64()), pa.ListArray.from_arrays(pa.array([0, n], pa.int32()), pa.array(values))],
        names=["id", "seq"])
    with DatasetSink(str(tmp_path / "big"), lineage=[]) as sink:
        sink.write(batch)
        sink.finish()
    big = str(tmp_path / "big")
    truncate(big, str(tmp_path / "t"), length=4, keep="both", head=2)
    assert read_table(tmp_path / "t").column("seq").to_pylist() == [[0, 1, n - 2, n - 1]]
    sample(big, str(tmp_path / "s"), length=1000, seed=1)
    kept = read_table(tmp_path / "s").column("seq").to_pylist()[0]
    assert len(set(kept)) == 1000 and kept == sorted(kept)
    split(big, str(tmp_path / "w"), length=1_000_000, padding=Padding(pad=False), last="keep")
    assert read_table(tmp_path / "w").column("part").to_pylist() == list(range(10))


def test_rows_too_long_for_a_batch_are_read_in_smaller_batches(tmp_path, monkeypatch):
    """A batch stops near READ_VALUES values: a row group of very long rows is read a few rows
    at a time (from its average row), and the rows come out the same."""
    import seqprep.dataset as dataset

    rows = [list(range(60))] * 5 + [[1, 2]] * 3  # one row group: 8 rows, 306 values
    src = make_dataset(tmp_path / "src", rows, seq_type=pa.int32())
    shard = src / "part-00000.parquet"
    assert [b.num_rows for b in dataset.file_batches(shard, "parquet", 4096)] == [8]
    truncate(str(src), str(tmp_path / "before"), length=3)
    monkeypatch.setattr(dataset, "READ_VALUES", 100)
    assert [b.num_rows for b in dataset.file_batches(shard, "parquet", 4096)] == [2, 2, 2, 2]  # 100 * 8 // 306
    monkeypatch.setattr(dataset, "READ_VALUES", 10)
    assert [b.num_rows for b in dataset.file_batches(shard, "parquet", 4096)] == [1] * 8
    truncate(str(src), str(tmp_path / "after"), length=3)
    assert canonical(tmp_path / "after") == canonical(tmp_path / "before")


def test_a_shard_is_read_row_group_by_row_group(tmp_path):
    """A batch never spans two row groups, and the rows come out as written."""
    import pyarrow.parquet as pq

    import seqprep.dataset as dataset

    rows = [[i, i + 1] for i in range(10)]
    src = make_dataset(tmp_path / "src", rows, seq_type=pa.int32())
    shard = tmp_path / "groups.parquet"
    pq.write_table(pq.read_table(src / "part-00000.parquet"), shard, row_group_size=4)
    by_group = list(dataset.file_batches(shard, "parquet", 3))
    assert [b.num_rows for b in by_group] == [3, 1, 3, 1, 2]
    assert [r["seq"] for b in by_group for r in b.to_pylist()] == rows


@pytest.mark.slow
def test_a_shard_of_more_than_2_31_values(tmp_path):
    """129 rows of 2**24 one-byte tokens (MAX_SEQ_VALUES, the longest sequence seqprep reads) in
    one Parquet shard (large_list offsets): 2.2e9 values. Read a row at a time, they truncate
    (about 45 s and 5 GB, most of it writing the shard)."""
    import pyarrow.parquet as pq

    from seqprep.dataset import MAX_SEQ_VALUES

    per, n = MAX_SEQ_VALUES, 129
    schema = pa.schema([("id", pa.int64()), ("seq", pa.large_list(pa.int8())), ("label", pa.string())])
    seq = pa.LargeListArray.from_arrays(pa.array([0, per], pa.int64()), pa.array(np.zeros(per, dtype=np.int8)))
    with pq.ParquetWriter(tmp_path / "big.parquet", schema) as w:
        for i in range(n):
            w.write_table(pa.table({"id": [i], "seq": seq, "label": ["ab"[i % 2]]}, schema=schema))
    del seq
    r = subprocess.run([sys.executable, "-m", "seqprep", "truncate", str(tmp_path / "big.parquet"), str(tmp_path / "t"), "-l", "3", "--keep", "start"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    t = read_table(tmp_path / "t")
    assert t.column("id").to_pylist() == list(range(n)) and t.column("seq").to_pylist() == [[0, 0, 0]] * n
    assert t.column("length").to_pylist() == [3] * n and per * n > 2**31
