"""Datasets and streams as untrusted input: nothing partial is committed, nothing outside a
dataset is read, and killed or interrupted runs leave the old output or none."""

import copy
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from seqprep.dataset import verify

from .conftest import listing, make_dataset, read_table


def one_line(result, code, message):
    err = result.stderr.strip()
    assert result.exit_code == code, err
    assert len(err.splitlines()) == 1 and err.startswith("Error: ") and "Traceback" not in err, err
    assert message in err, err


def stream_of(cli, src, *args) -> bytes:
    result = cli("truncate", src, "-", "--length", "3", *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout_bytes


def message_ends(raw: bytes) -> list[int]:
    """Where each IPC message of a stream ends."""
    ends, reader = [], pa.BufferReader(raw)
    while True:
        message = pa.ipc.read_message(reader) if reader.tell() < len(raw) - 8 else None
        if message is None:
            return ends
        ends.append(reader.tell())


# ---------------------------------------------------------------------------------------------
# Streams


def test_a_stream_cut_at_any_point_is_refused(cli, tmp_path):
    src = make_dataset(tmp_path / "src", [[1, 2, 3, 4]] * 30, labels=["a"] * 30, seq_type=pa.int32(), shard_rows=7)
    raw = stream_of(cli, src)
    assert raw.endswith(b"\xff\xff\xff\xff\x00\x00\x00\x00")
    ends = message_ends(raw)
    assert len(ends) >= 6  # schema + 5 batches
    cuts = sorted(set(ends) | set(range(0, len(raw), 37)))
    out = tmp_path / "out"
    for cut in cuts:
        result = cli("truncate", "-", out, "--length", "2", input=raw[:cut])
        assert result.exit_code == 1, (cut, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
        assert not out.exists() and listing(tmp_path) == listing(tmp_path)
    assert "stream ended without its end-of-stream marker" in cli(
        "truncate", "-", out, "--length", "2", input=raw[:ends[3]]).stderr
    result = cli("truncate", "-", out, "--length", "2", input=raw)
    assert result.exit_code == 0 and read_table(out).num_rows == 30


def test_an_empty_dataset_streams_a_whole_stream(cli, tmp_path):
    src = make_dataset(tmp_path / "src", [[1]], seq_type=pa.int32())
    empty = tmp_path / "empty"
    one_line_ok = cli("truncate", "-", empty, "--length", "1",
                      input=cli("truncate", src, "-", "--length", "1").stdout_bytes[:0] or None)
    assert one_line_ok.exit_code == 1  # no stream at all is not an empty stream
    with pq.ParquetWriter(tmp_path / "zero.parquet", pa.schema([("id", pa.int64()), ("seq", pa.list_(pa.int32()))])):
        pass
    raw = cli("truncate", tmp_path / "zero.parquet", "-", "--length", "2").stdout_bytes
    result = cli("truncate", "-", empty, "--length", "1", input=raw)
    assert result.exit_code == 0, result.stderr
    assert verify(str(empty))["rows"] == 0


def test_a_killed_upstream_commits_nothing(tmp_path):
    """`a | b` with `a` killed mid-stream: `b` must fail, not commit the rows it saw."""
    rng = np.random.default_rng(0)
    rows = [rng.integers(0, 100, 300).tolist() for _ in range(12000)]
    src = make_dataset(tmp_path / "src", rows, seq_type=pa.int32(), shard_rows=1500)
    seqprep = [sys.executable, "-m", "seqprep"]
    up = subprocess.Popen(seqprep + ["sample", str(src), "-", "--length", "200", "--seed", "1"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    down = subprocess.Popen(seqprep + ["truncate", "-", str(tmp_path / "out"), "--length", "5"],
                            stdin=up.stdout, stderr=subprocess.PIPE)
    up.stdout.close()  # held by `down` now
    time.sleep(1.5)
    up.kill()
    up.wait()
    _, err = down.communicate(timeout=120)
    if down.returncode == 0:  # the upstream had already finished: then every row is there
        assert verify(str(tmp_path / "out"))["rows"] == 12000
    else:
        assert down.returncode == 1 and err.startswith(b"Error: stdin: ") and err.count(b"\n") == 1, err
        assert not (tmp_path / "out").exists()


def test_an_arrow_stream_file_without_its_end_is_refused(cli, tmp_path):
    src = make_dataset(tmp_path / "src", [[1, 2]] * 3, seq_type=pa.int32())
    raw = stream_of(cli, src)
    (tmp_path / "whole.arrows").write_bytes(raw)
    (tmp_path / "cut.arrows").write_bytes(raw[:message_ends(raw)[-1]])
    assert cli("truncate", tmp_path / "whole.arrows", tmp_path / "a", "--length", "1").exit_code == 0
    one_line(cli("truncate", tmp_path / "cut.arrows", tmp_path / "b", "--length", "1"), 1,
             "an Arrow stream without its end-of-stream marker")


# ---------------------------------------------------------------------------------------------
# Manifests


@pytest.fixture
def ds(tmp_path):
    return make_dataset(tmp_path / "ds", [[1, 2], [3], [4, 5, 6]] * 2, labels=["a", "b", "a"] * 2,
                        seq_type=pa.int32(), shard_rows=2)


def edit(ds, change):
    m = json.loads((ds / "_seqprep.json").read_text())
    change(m)
    (ds / "_seqprep.json").write_text(json.dumps(m))


MANIFEST_CASES = [
    ("absolute path", lambda m, t: m["shards"][0].update(path=str(t / "secret.parquet")), "is not a plain file name"),
    ("dot-dot path", lambda m, t: m["shards"][0].update(path="../secret.parquet"), "is not a plain file name"),
    ("subfolder", lambda m, t: m["shards"][0].update(path="sub/part.parquet"), "is not a plain file name"),
    ("hidden name", lambda m, t: m["shards"][0].update(path=".part.parquet"), "is not a plain file name"),
    ("listed twice", lambda m, t: m["shards"].append(dict(m["shards"][0])), "is listed twice"),
    ("rows disagree", lambda m, t: m.update(rows=7), "its shards hold 6 rows, but it says 7"),
    ("version string", lambda m, t: m.update(version="1"), "version '1' is not a positive integer"),
    ("version bool", lambda m, t: m.update(version=True), "version True is not a positive integer"),
    ("version newer", lambda m, t: m.update(version=99), "format version 99 is newer"),
    ("lineage number", lambda m, t: m.update(lineage=5), "lineage is not a list"),
    ("shards dict", lambda m, t: m.update(shards={}), "no list of shards"),
    ("shard rows string", lambda m, t: m["shards"][0].update(rows="2"), "shard 0 is not {path, rows, sha256}"),
    ("shard rows negative", lambda m, t: m["shards"][0].update(rows=-1), "shard 0 is not {path, rows, sha256}"),
    ("shard missing", lambda m, t: m["shards"][0].update(path="part-00099.parquet"), "is missing"),
    ("other format", lambda m, t: m.update(format="something"), "format 'something'"),
    ("rows huge", lambda m, t: m.update(rows=2**70), "rows 1180591620717411303424 is not a count"),
]


@pytest.mark.parametrize("name, change, message", MANIFEST_CASES, ids=[c[0] for c in MANIFEST_CASES])
@pytest.mark.parametrize("command", ["verify", "truncate", "inspect"])
def test_a_crafted_manifest_is_refused(cli, tmp_path, ds, name, change, message, command):
    pq.write_table(pa.table({"id": [9], "seq": [[9]]}), tmp_path / "secret.parquet")
    edit(ds, lambda m: change(m, tmp_path))
    args = [ds] if command != "truncate" else [ds, tmp_path / "out", "--length", "1"]
    one_line(cli(command, *args), 1, message)
    assert not (tmp_path / "out").exists()


def test_a_deeply_nested_manifest_is_one_line(cli, ds):
    (ds / "_seqprep.json").write_text("[" * 100000 + "]" * 100000)
    one_line(cli("verify", ds), 1, "not a valid manifest")


def test_a_link_out_of_the_dataset_is_refused(cli, tmp_path, ds):
    shard = ds / "part-00000.parquet"
    outside = tmp_path / "elsewhere.parquet"
    shard.rename(outside)
    os.symlink(outside, shard)
    one_line(cli("verify", ds), 1, "a link to a file outside the dataset")
    one_line(cli("truncate", ds, tmp_path / "out", "--length", "1"), 1, "a link to a file outside the dataset")


def test_a_link_inside_the_dataset_is_read(cli, tmp_path, ds):
    shard = ds / "part-00000.parquet"
    shard.rename(ds / "real.parquet")
    os.symlink("real.parquet", shard)
    assert cli("verify", ds).exit_code == 0


def without_sizes(m):
    for e in m["shards"]:
        del e["bytes"]


def test_a_shard_of_another_size_is_refused_before_reading(cli, tmp_path, ds):
    size = (ds / "part-00001.parquet").stat().st_size
    with open(ds / "part-00001.parquet", "ab") as f:
        f.write(b"\0")
    one_line(cli("truncate", ds, tmp_path / "out", "--length", "1"), 1,
             f"part-00001.parquet: {size + 1:,} bytes, but _seqprep.json says {size:,}")


def test_a_replaced_shard_fails_the_run(cli, tmp_path, ds):
    """A shard swapped for one with other rows (the manifest of a version that listed no sizes):
    the read stops before anything is committed."""
    edit(ds, without_sizes)
    pq.write_table(pa.table({"id": pa.array([0], pa.int64()), "seq": pa.array([[1]], pa.list_(pa.int32())),
                             "label": ["a"]}), ds / "part-00001.parquet")
    one_line(cli("truncate", ds, tmp_path / "out", "--length", "1"), 1,
             "part-00001.parquet: 1 rows, but _seqprep.json says 2")
    one_line(cli("truncate", ds, tmp_path / "out", "--length", "1", "--workers", "2"), 1,
             "part-00001.parquet: 1 rows, but _seqprep.json says 2")
    one_line(cli("fit", ds, tmp_path / "out.json"), 1, "part-00001.parquet: 1 rows, but _seqprep.json says 2")
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.json").exists()


def test_a_shard_with_more_rows_fails_the_run(cli, tmp_path, ds):
    edit(ds, without_sizes)
    pq.write_table(pa.table({"id": pa.array([0, 1, 2], pa.int64()), "seq": pa.array([[1]] * 3, pa.list_(pa.int32())),
                             "label": ["a"] * 3}), ds / "part-00001.parquet")
    one_line(cli("truncate", ds, tmp_path / "out", "--length", "1"), 1, "more than 2 rows, but _seqprep.json says 2")


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("command", [["truncate", "--length", "1"], ["split", "--length", "1"],
                                     ["sample", "--length", "1", "--seed", "1"]])
def test_shards_with_labels_of_two_types_are_refused(cli, tmp_path, command, workers):
    """Casting int labels to text (or failing on text) would change what a label is: refused."""
    a = make_dataset(tmp_path / "a", [[1], [2]], labels=["x", "y"], seq_type=pa.int32())
    b = make_dataset(tmp_path / "b", [[1], [2]], labels=[1, 2], seq_type=pa.int32())
    (b / "part-00000.parquet").rename(a / "part-00001.parquet")
    m = json.loads((a / "_seqprep.json").read_text())
    entry = dict(json.loads((b / "_seqprep.json").read_text())["shards"][0], path="part-00001.parquet")
    m["shards"].append(entry)
    m["rows"] = 4
    (a / "_seqprep.json").write_text(json.dumps(m))
    one_line(cli(command[0], a, tmp_path / "out", *command[1:], "--workers", workers), 1,
             "part-00001.parquet: column 'label' is int64 here but string before")
    assert not (tmp_path / "out").exists()


def test_bad_padding_metadata_is_one_line(cli, tmp_path):
    schema = pa.schema([("id", pa.int64()), ("seq", pa.list_(pa.int32()))],
                       metadata={b"seqprep.padding": b'{"length": "x", "side": "up", "value": 0}'})
    pq.write_table(pa.table({"id": [0], "seq": [[1]]}, schema=schema), tmp_path / "p.parquet")
    one_line(cli("truncate", tmp_path / "p.parquet", tmp_path / "out", "--length", "1"), 1,
             "padding metadata (seqprep.padding) is damaged")


@pytest.mark.parametrize("columns, message", [
    ({"id": pa.array([2**63], pa.uint64()), "seq": [[1]]}, "column 'id' is uint64, but ids are int64"),
    ({"id": ["a"], "seq": [[1]]}, "column 'id' is string, but ids are int64"),
    ({"id": pa.array([None, 1], pa.int64()), "seq": [[1], [2]]}, "1 rows have no id (null)"),
    ({"id": [0], "seq": [1]}, "column 'seq' is int64, not a list of steps"),
    ({"id": [0], "seq": [[1]], "label": [1.5]}, "column 'label' is double, but labels are int64 or string"),
    ({"id": [0], "seq": [[1]], "label": pa.array([2**63], pa.uint64())}, "column 'label' is uint64"),
])
def test_columns_a_step_cannot_carry_are_refused(cli, tmp_path, columns, message):
    pq.write_table(pa.table(columns), tmp_path / "x.parquet")
    one_line(cli("truncate", tmp_path / "x.parquet", tmp_path / "out", "--length", "1"), 1, message)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", ["shard", "manifest", "file"])
def test_a_fifo_is_refused_not_opened(cli, tmp_path, ds, where):
    if where == "shard":
        (ds / "part-00001.parquet").unlink()
        os.mkfifo(ds / "part-00001.parquet")
        target = ds
    elif where == "manifest":
        (ds / "_seqprep.json").unlink()
        os.mkfifo(ds / "_seqprep.json")
        target = ds
    else:
        os.mkfifo(tmp_path / "f.parquet")
        target = tmp_path / "f.parquet"
    for args in (["inspect", target], ["verify", target], ["truncate", target, tmp_path / "out", "--length", "1"]):
        if args[0] == "verify" and where == "file":
            continue
        result = cli(*args)  # a FIFO opened for reading would block here forever
        one_line(result, 1, "not a regular file")


# ---------------------------------------------------------------------------------------------
# Memory: a small file that claims a huge sequence is refused before it is decoded


def bomb(path, n, rows=1):
    offsets = [0, n] + [n + i for i in range(1, rows)]
    seq = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(np.zeros(n + rows - 1, np.int32)))
    pq.write_table(pa.table({"id": pa.array(range(rows), pa.int64()), "seq": seq}), path, compression="zstd")
    return path


@pytest.mark.parametrize("command", [["truncate", "OUT", "--length", "5"], ["fit", "OUT"], ["inspect"],
                                     ["summarize", "OUT", "--drop-top", "1", "--stats", "STATS"]])
def test_a_decompression_bomb_is_refused_from_its_metadata(cli, tmp_path, command, monkeypatch):
    import seqprep.dataset as dataset

    monkeypatch.setattr(dataset, "MAX_SEQ_VALUES", 1000)  # the same checks, at a size a test affords
    make_dataset(tmp_path / "small", [[1, 2]], seq_type=pa.int32())
    cli("fit", tmp_path / "small", tmp_path / "stats.json")
    args = [a.replace("OUT", str(tmp_path / "out")).replace("STATS", str(tmp_path / "stats.json")) for a in command]
    one = bomb(tmp_path / "one.parquet", 5000)
    assert one.stat().st_size < 2000
    one_line(cli(args[0], one, *args[1:]), 1, "row group 0 column 'seq.list.element' holds 5,000 values in 1 rows, "
                                              "so a row holds more than seqprep takes in one sequence (1,000)")
    monkeypatch.setattr(dataset, "BATCH_VALUES", 100_000)
    two = bomb(tmp_path / "two.parquet", 200_000, rows=3000)
    one_line(cli(args[0], two, *args[1:]), 1, "more than 1024-fold; seqprep does not read such data")
    assert not (tmp_path / "out").exists()


def test_a_long_sequence_that_shows_only_when_decoded_is_refused(cli, tmp_path, monkeypatch):
    import seqprep.dataset as dataset

    monkeypatch.setattr(dataset, "MAX_SEQ_VALUES", 1000)
    rng = np.random.default_rng(0)
    make_dataset(tmp_path / "d", [rng.integers(0, 9, 10).tolist()] * 300 + [rng.integers(0, 9, 1500).tolist()],
                 seq_type=pa.int32())
    one_line(cli("truncate", tmp_path / "d", tmp_path / "out", "--length", "5"), 1,
             "a sequence of 1,500 steps, more than seqprep takes in one sequence (1,000)")


# ---------------------------------------------------------------------------------------------
# Fuzz: a manifest's fields retyped, shards' bytes flipped


RETYPES = [None, "x", -1, 0, 1.5, [], {}, True, 2**70, [1], {"path": "x"}]


def test_manifest_fields_retyped(cli, tmp_path, ds):
    reference = read_table(ds).to_pylist()
    original = json.loads((ds / "_seqprep.json").read_text())
    paths = [(k,) for k in original] + [("shards", 0, k) for k in original["shards"][0]]
    for path in paths:
        for value in RETYPES:
            m = copy.deepcopy(original)
            node = m
            for k in path[:-1]:
                node = node[k]
            node[path[-1]] = value
            (ds / "_seqprep.json").write_text(json.dumps(m))
            out = tmp_path / "out"
            result = cli("truncate", ds, out, "--length", "3", "--no-pad")
            if result.exit_code == 0:
                assert read_table(out).column("seq").to_pylist() == [r["seq"] for r in reference]
                assert verify(str(out))["rows"] == len(reference)
                shutil.rmtree(out)
            else:
                assert result.exit_code in (1, 2), (path, value, result.stderr)
                err = result.stderr.strip()
                assert len(err.splitlines()) == 1 and "Traceback" not in err, (path, value, err)
                assert not out.exists()


def test_shard_bytes_flipped(cli, tmp_path, ds):
    rnd = random.Random(0)
    shard = ds / "part-00001.parquet"
    good = shard.read_bytes()
    reference = read_table(ds).column("seq").to_pylist()
    for _ in range(40):
        raw = bytearray(good)
        for _ in range(rnd.randint(1, 4)):
            raw[rnd.randrange(len(raw))] ^= 1 << rnd.randrange(8)
        shard.write_bytes(bytes(raw))
        out = tmp_path / "out"
        result = cli("truncate", ds, out, "--length", "3", "--no-pad")
        if result.exit_code == 0:  # a flip in a page's unused bytes or statistics
            assert read_table(out).column("seq").to_pylist() == reference
            shutil.rmtree(out)
        else:
            err = result.stderr.strip()
            assert result.exit_code == 1 and len(err.splitlines()) == 1 and "Traceback" not in err, err
            assert not out.exists()
        assert cli("verify", ds).exit_code == 1  # the sha256 catches every flip


# ---------------------------------------------------------------------------------------------
# Processes


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def big(tmp_path):
    rng = np.random.default_rng(0)
    rows = [rng.integers(0, 1000, 400).tolist() for _ in range(40000)]
    return make_dataset(tmp_path / "big", rows, seq_type=pa.int32(), shard_rows=2000)


def start(big, tmp_path, *extra):
    return subprocess.Popen([sys.executable, "-m", "seqprep", "sample", str(big), str(tmp_path / "out"), "--length",
                             "100", "--seed", "1", *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_for_workers(proc, n: int) -> list[int]:
    for _ in range(600):
        kids = [k for k in children_of(proc.pid) if "resource_tracker" not in open(f"/proc/{k}/cmdline").read()]
        if len(kids) >= n:
            return kids
        time.sleep(0.05)
    raise AssertionError("the workers did not start")


def test_workers_die_with_their_parent(big, tmp_path):
    proc = start(big, tmp_path, "--workers", "2")
    kids = wait_for_workers(proc, 2)
    proc.kill()
    proc.wait()
    deadline = time.time() + 5
    while any(alive(k) for k in kids) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(alive(k) for k in kids)


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_signal_is_one_line_and_leaves_nothing(big, tmp_path, sig, code, workers):
    proc = start(big, tmp_path, "--workers", workers)
    if workers == "2":
        wait_for_workers(proc, 2)
    for _ in range(600):  # the run has begun writing (its handlers are set long before)
        if any("seqprep-tmp" in p.name for p in tmp_path.iterdir()) or proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    err = err.decode().strip()
    if proc.returncode == 0:  # it had finished
        return
    assert proc.returncode == code, err
    assert err.splitlines() == [f"Error: interrupted by {signal.Signals(sig).name}; no output was committed"], err
    assert not (tmp_path / "out").exists()
    assert [p for p in listing(tmp_path) if "seqprep-tmp" in p] == []


def test_bytes_after_the_end_of_a_stream_are_refused(cli, tmp_path):
    src = make_dataset(tmp_path / "src", [[1, 2, 3]] * 5, seq_type=pa.int32())
    raw = stream_of(cli, src)
    one_line(cli("truncate", "-", tmp_path / "o1", "--length", "2", input=raw + raw), 1,
             "data after the end-of-stream marker (two streams joined?)")
    one_line(cli("truncate", "-", tmp_path / "o2", "--length", "2", input=raw + b"garbage\n"), 1,
             "data after the end-of-stream marker")
    (tmp_path / "two.arrows").write_bytes(raw + raw)
    one_line(cli("truncate", tmp_path / "two.arrows", tmp_path / "o3", "--length", "2"), 1,
             "bytes after the end-of-stream marker (two streams joined?)")
    assert not any((tmp_path / o).exists() for o in ("o1", "o2", "o3"))


def test_string_tokens_are_sized_before_they_are_decoded(cli, tmp_path, monkeypatch):
    """A few stored bytes may name one long string many times (dictionary encoding): refused
    from the dictionary, before the strings are copied out."""
    import seqprep.dataset as dataset

    monkeypatch.setattr(dataset, "MAX_TOKEN_BYTES", 1000)
    monkeypatch.setattr(dataset, "MAX_BATCH_TEXT_BYTES", 50_000)
    pq.write_table(pa.table({"id": [0], "seq": pa.array([["x" * 2000] * 3], pa.list_(pa.string()))}),
                   tmp_path / "long.parquet", compression="zstd")
    one_line(cli("truncate", tmp_path / "long.parquet", tmp_path / "out", "--length", "1"), 1,
             "a string token of 2,000 bytes, more than a token holds (1,000)")
    pq.write_table(pa.table({"id": [0, 1], "seq": pa.array([["y" * 900] * 60, ["z"]], pa.list_(pa.string()))}),
                   tmp_path / "many.parquet", compression="zstd")
    one_line(cli("inspect", tmp_path / "many.parquet"), 1, "2 rows whose tokens decode to 54,001 bytes")
    assert not (tmp_path / "out").exists()
    monkeypatch.setattr(dataset, "MAX_BATCH_TEXT_BYTES", 60_000)
    assert cli("truncate", tmp_path / "many.parquet", tmp_path / "out", "--length", "1").exit_code == 0
    assert read_table(tmp_path / "out").column("seq").to_pylist() == [["y" * 900], ["z"]]


def test_an_empty_dataset_keeps_its_schema_in_one_empty_shard(cli, tmp_path):
    (tmp_path / "e.jsonl").write_text("")
    (tmp_path / "one.jsonl").write_text('{"text": "a b", "label": "x"}\n')
    assert cli("ingest", tmp_path / "one.jsonl", tmp_path / "d").exit_code == 0
    result = cli("holdout", tmp_path / "d", tmp_path / "t", tmp_path / "v", "--fraction", "0.0000001", "--seed", "1")
    assert result.exit_code == 0, result.stderr
    m = json.loads((tmp_path / "v" / "_seqprep.json").read_text())
    assert m["rows"] == 0 and len(m["shards"]) == 1
    result = cli("inspect", tmp_path / "v")
    assert result.exit_code == 0 and "0 sequences" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("name, text, message", [
    ("big.jsonl", '{"seq": [1e400], "label": "a"}\n', "big.jsonl:1: an infinite value is not a reading"),
    ("inf.jsonl", '{"seq": [1.0, Infinity], "label": "a"}\n', "inf.jsonl:1: an infinite value is not a reading"),
    ("inf.csv", "seq,label\n1 inf 2,a\n", "inf.csv:2: column 'seq': an infinite value is not a reading"),
])
def test_infinite_readings_are_refused_at_ingest(cli, tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    one_line(cli("ingest", tmp_path / name, tmp_path / "out"), 1, message)
    assert not (tmp_path / "out").exists()


def test_summarize_refuses_an_infinite_reading(cli, tmp_path):
    src = make_dataset(tmp_path / "r", [[1.0, float("inf"), 3.0]], seq_type=pa.float32())
    one_line(cli("summarize", src, tmp_path / "out", "--paa", "2"), 1, "holds inf, not a finite reading")


def test_a_signal_after_the_commit_says_the_output_is_complete(cli, tmp_path, monkeypatch):
    """Ctrl-C landing after OUT was committed, before the command returned: exit 130, and the
    message says OUT is complete (not that nothing was committed)."""
    from seqprep import atomic

    src = make_dataset(tmp_path / "src", [[1, 2, 3]], seq_type=pa.int32())
    commit = atomic.AtomicDir.commit

    def commit_then_interrupted(self):
        commit(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.AtomicDir, "commit", commit_then_interrupted)
    result = cli("truncate", src, tmp_path / "out", "--length", "2")
    assert result.exit_code == 130
    assert result.stderr.strip() == (f"Error: interrupted by SIGINT after {tmp_path / 'out'} was committed: complete, "
                                     "nothing else was written")
    assert read_table(tmp_path / "out").column("seq").to_pylist() == [[2, 3]]
    monkeypatch.setattr(atomic.AtomicDir, "commit", commit)
    result = cli("truncate", src, tmp_path / "out2", "--length", "2")  # a later run starts with none committed
    assert result.exit_code == 0 and atomic.COMMITTED == [str(tmp_path / "out2")]


def test_a_signal_while_options_are_parsed_is_its_own_code_and_one_line(cli, monkeypatch):
    """Typer turns a KeyboardInterrupt outside the command into exit 130, silently, whatever
    the signal: SIGTERM there is still 143 and one line."""
    import seqprep.cli as cli_module

    def interrupted(self, ctx, name):
        cli_module._on_signal(signal.SIGTERM, None)

    monkeypatch.setattr(cli_module.SeqprepGroup, "get_command", interrupted)
    result = cli("truncate", "in", "out", "--length", "2")
    assert result.exit_code == 143
    assert result.stderr.strip() == "Error: interrupted by SIGTERM; no output was committed"


def test_ctrl_c_while_seqprep_imports_is_one_line(tmp_path):
    """A signal before the CLI's handlers are set (the imports) ends the same way: a fresh
    process whose first import is held up until the signal comes."""
    import subprocess
    import sys

    held = tmp_path / "held"
    (tmp_path / "sitecustomize.py").write_text(
        "import builtins, time\n_real = builtins.__import__\n"
        "def slow(name, *a, **k):\n"
        f"    if name == 'numpy':\n        open({str(held)!r}, 'w').close()\n        time.sleep(30)\n"
        "    return _real(name, *a, **k)\nbuiltins.__import__ = slow\n")
    proc = subprocess.Popen([sys.executable, "-c", "from seqprep.__main__ import main; main()", "--help"],
                            env={**os.environ, "PYTHONPATH": str(tmp_path)}, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL,
                            # A suite started in the background (`nohup pytest &`) passes SIGINT on
                            # ignored, and Python then installs no handler of its own: as a terminal's.
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for _ in range(600):
        if held.exists():
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.decode().strip() == "Error: interrupted by SIGINT; no output was committed"
