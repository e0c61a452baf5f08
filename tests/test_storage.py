"""Datasets in object storage: read and written at s3:// URIs against a local S3-compatible
server (moto, in this process), to the same bytes as on local disk, committed manifest last."""

from __future__ import annotations

import json
import os
import uuid

import numpy as np
import pyarrow as pa
import pytest

from seqprep import storage
from seqprep.dataset import open_source
from seqprep.errors import InputError, OutputError, SeqprepError, UsageError
from seqprep.fit import fit
from seqprep.steps import encode, summarize, truncate
from seqprep.steps.holdout import holdout

from .conftest import make_dataset

moto_server = pytest.importorskip("moto.server", reason="moto[server] (a test dependency) is not installed")


@pytest.fixture(scope="module")
def s3():
    """A bucket on an S3 server on loopback; the settings in the environment, as a user sets them
    (Dask workers inherit them)."""
    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                            "AWS_REGION", "AWS_EC2_METADATA_DISABLED")}
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    try:
        server.start()
    except Exception as e:  # noqa: BLE001 - say why, rather than fail the suite
        pytest.skip(f"the S3 test server (moto) did not start: {e}")
    host, port = server.get_host_and_port()
    os.environ.update(AWS_ENDPOINT_URL=f"http://{host}:{port}", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                      AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    storage._FILESYSTEMS.clear()
    import pyarrow.fs as pafs

    fs = pafs.S3FileSystem(endpoint_override=f"http://{host}:{port}", allow_bucket_creation=True, region="us-east-1")
    fs.create_dir("bucket")
    try:
        yield fs
    finally:
        storage._FILESYSTEMS.clear()
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def prefix(s3):
    """A fresh prefix in the bucket for one test."""
    return f"s3://bucket/{uuid.uuid4().hex[:8]}"


def objects(s3, uri: str) -> dict:
    """Every object under ``uri`` and its bytes (the bucket's directory markers aside)."""
    import pyarrow.fs as pafs

    base = uri[len("s3://"):]
    infos = s3.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
    out = {}
    for i in infos:
        if i.type == pafs.FileType.File:
            with s3.open_input_stream(i.path) as f:
                out[i.path[len(base) + 1:]] = f.read()
    return out


def local_files(path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


@pytest.fixture
def src(tmp_path):
    rng = np.random.default_rng(3)
    seqs = [rng.integers(0, 40, int(rng.integers(0, 30))).tolist() for _ in range(50)]
    return make_dataset(tmp_path / "src", seqs, labels=["a", "b"] * 25, seq_type=pa.int32(), shard_rows=12)


def test_a_dataset_round_trips_through_s3_to_the_same_bytes(s3, prefix, src, tmp_path):
    truncate(str(src), str(tmp_path / "here"), length=7)
    truncate(str(src), f"{prefix}/there", length=7)  # local in, s3 out
    assert objects(s3, f"{prefix}/there") == local_files(tmp_path / "here")
    truncate(str(src), f"{prefix}/copy", length=1000, keep="end", padding=_no_pad())
    truncate(f"{prefix}/copy", f"{prefix}/again", length=7)  # s3 in, s3 out
    truncate(f"{prefix}/there", str(tmp_path / "back"), length=7)  # s3 in, local out
    here = local_files(tmp_path / "here")
    again = objects(s3, f"{prefix}/again")
    assert {k: v for k, v in again.items() if k != "_seqprep.json"} == {k: v for k, v in here.items()
                                                                        if k != "_seqprep.json"}
    assert json.loads(again["_seqprep.json"])["rows"] == 50
    assert [p for p in objects(s3, "s3://bucket") if "seqprep-tmp" in p] == []  # no temporary prefix left


def test_a_large_object_is_streamed_not_fetched_whole(s3, prefix, src, tmp_path, monkeypatch):
    """Past REMOTE_WHOLE_BYTES a shard is read through the store's file as it is decoded: the
    same rows as fetched whole."""
    import seqprep.dataset as dataset

    truncate(str(src), f"{prefix}/in", length=1000, keep="end", padding=_no_pad())
    truncate(f"{prefix}/in", str(tmp_path / "whole"), length=7)
    monkeypatch.setattr(dataset, "REMOTE_WHOLE_BYTES", 0)
    monkeypatch.setattr(dataset.pa, "BufferReader", None)  # the whole-object path would fail
    truncate(f"{prefix}/in", str(tmp_path / "streamed"), length=7)
    assert local_files(tmp_path / "streamed") == local_files(tmp_path / "whole")


def _no_pad():
    from seqprep.steps import Padding

    return Padding(pad=False)


def test_the_fitted_steps_read_s3(s3, prefix, src, tmp_path):
    stats = str(tmp_path / "stats.json")
    fit(str(src), stats)
    truncate(str(src), f"{prefix}/in", length=1000, padding=_no_pad())
    fit(f"{prefix}/in", str(tmp_path / "stats2.json"))
    a, b = (json.loads((tmp_path / n).read_text()) for n in ("stats.json", "stats2.json"))
    assert (a["tokens"], a["counts"], a["rows"]) == (b["tokens"], b["counts"], b["rows"])
    for name, run in {"summarize": lambda i, o: summarize(i, o, stats=stats, drop_top=2),
                      "encode": lambda i, o: encode(i, o, stats=stats, length=8)}.items():
        run(str(src), str(tmp_path / name))
        run(f"{prefix}/in", f"{prefix}/{name}")
        ours = objects(s3, f"{prefix}/{name}")
        theirs = local_files(tmp_path / name)
        assert ours.keys() == theirs.keys(), name
        assert {k: v for k, v in ours.items() if k != "_seqprep.json"} == {k: v for k, v in theirs.items()
                                                                          if k != "_seqprep.json"}, name


def test_an_npy_export_is_staged_and_uploaded(s3, prefix, src, tmp_path):
    stats = str(tmp_path / "stats.json")
    fit(str(src), stats)
    encode(str(src), str(tmp_path / "npy"), stats=stats, length=8, format="npy")
    encode(str(src), f"{prefix}/npy", stats=stats, length=8, format="npy", workers=2)
    assert objects(s3, f"{prefix}/npy") == local_files(tmp_path / "npy")
    with pytest.raises(InputError, match="an NPY export; seqprep reads NPY exports from local disk"):
        open_source(f"{prefix}/npy")


def test_holdout_writes_both_outputs(s3, prefix, src, tmp_path):
    holdout(str(src), str(tmp_path / "t"), str(tmp_path / "v"), fraction=0.3, seed=1)
    holdout(str(src), f"{prefix}/t", f"{prefix}/v", fraction=0.3, seed=1)
    for role in ("t", "v"):
        assert objects(s3, f"{prefix}/{role}") == local_files(tmp_path / role)


def test_a_prefix_without_its_manifest_is_never_read(s3, prefix, src):
    truncate(str(src), f"{prefix}/d", length=5)
    s3.delete_file(f"{prefix[5:]}/d/_seqprep.json")  # what a write killed before its commit leaves
    with pytest.raises(InputError, match="no _seqprep.json"):
        open_source(f"{prefix}/d")
    with pytest.raises(OutputError, match="seqprep did not write"):  # nor replaced: not ours, as far as we know
        truncate(str(src), f"{prefix}/d", length=5, overwrite=True)


def test_a_shard_that_changed_or_went_is_refused(s3, prefix, src):
    truncate(str(src), f"{prefix}/d", length=5)
    base = f"{prefix[5:]}/d"
    with s3.open_output_stream(f"{base}/part-00001.parquet") as f:
        f.write(b"short")
    with pytest.raises(InputError, match="part-00001.parquet: 5 bytes, but _seqprep.json says"):
        open_source(f"{prefix}/d")
    s3.delete_file(f"{base}/part-00001.parquet")
    with pytest.raises(InputError, match="part-00001.parquet: shard listed in _seqprep.json is missing"):
        open_source(f"{prefix}/d")


def test_a_manifest_naming_objects_outside_the_prefix_is_refused(s3, prefix, src):
    truncate(str(src), f"{prefix}/d", length=5)
    path = f"{prefix[5:]}/d/_seqprep.json"
    with s3.open_input_stream(path) as f:
        m = json.loads(f.read())
    m["shards"][0]["path"] = "../other/part-00000.parquet"
    with s3.open_output_stream(path) as f:
        f.write(json.dumps(m).encode())
    with pytest.raises(InputError, match="not a plain file name inside the dataset"):
        open_source(f"{prefix}/d")


def test_a_huge_manifest_is_refused_before_it_is_read(s3, prefix, monkeypatch):
    with s3.open_output_stream(f"{prefix[5:]}/d/_seqprep.json") as f:
        f.write(b" " * 2048)
    monkeypatch.setattr("seqprep.dataset.MANIFEST_LIMIT", 1024)
    with pytest.raises(InputError, match="2,048 bytes, more than seqprep reads for it"):
        open_source(f"{prefix}/d")


def test_a_failed_run_leaves_nothing_and_the_old_output_whole(s3, prefix, src, monkeypatch):
    truncate(str(src), f"{prefix}/d", length=5)
    before = objects(s3, f"{prefix}/d")

    def boom(*a, **k):
        raise InputError("boom")

    monkeypatch.setattr("seqprep.dataset.check_seq_lengths", lambda where, batch: boom() if batch.num_rows else None)
    with pytest.raises(InputError, match="boom"):
        truncate(str(src), f"{prefix}/d", length=3, overwrite=True)
    assert objects(s3, f"{prefix}/d") == before
    assert [p for p in objects(s3, prefix) if "seqprep-tmp" in p] == []
    with pytest.raises(InputError, match="boom"):
        truncate(str(src), f"{prefix}/new", length=3)
    assert objects(s3, f"{prefix}/new") == {}


def test_overwrite_replaces_only_what_seqprep_made(s3, prefix, src):
    truncate(str(src), f"{prefix}/d", length=5)
    with pytest.raises(OutputError, match="already exists; pass --overwrite"):
        truncate(str(src), f"{prefix}/d", length=3)
    truncate(str(src), f"{prefix}/d", length=3, overwrite=True)  # fewer bytes: old shards all replaced
    assert json.loads(objects(s3, f"{prefix}/d")["_seqprep.json"])["padding"]["length"] == 3
    with s3.open_output_stream(f"{prefix[5:]}/mine/notes.txt") as f:
        f.write(b"keep me")
    with pytest.raises(OutputError, match="objects seqprep did not write"):
        truncate(str(src), f"{prefix}/mine", length=3, overwrite=True)
    assert objects(s3, f"{prefix}/mine") == {"notes.txt": b"keep me"}
    with pytest.raises(OutputError, match="is a whole bucket"):
        truncate(str(src), "s3://bucket", length=3, overwrite=True)
    with pytest.raises(OutputError, match="OUT is the same as the input"):
        truncate(f"{prefix}/d", f"{prefix}/d/", length=3, overwrite=True)
    with pytest.raises(OutputError, match="OUT is inside the input"):
        truncate(f"{prefix}/d", f"{prefix}/d/x", length=3)


@pytest.mark.parametrize("cmd, code, message", [
    ("truncate ftp://host/x OUT --length 3", 2, "ftp:// is not a storage seqprep reads or writes"),
    ("truncate IN s3://bucket/../x --length 3", 2, "not a bucket and prefix"),
    ("fit IN s3://bucket/stats.json", 2, "must be a local path"),
    ("encode IN OUT --stats s3://bucket/stats.json", 2, "must be a local path"),
])
def test_uris_where_seqprep_takes_none_are_usage_errors(cli, src, tmp_path, cmd, code, message):
    args = [str(src) if a == "IN" else str(tmp_path / "out") if a == "OUT" else a for a in cmd.split()]
    result = cli(*args)
    assert result.exit_code == code, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("s3:")]  # no local folder named after a URI


def test_a_train_run_directory_is_local(cli, src, tmp_path):
    result = cli("train", str(src), "s3://bucket/run")
    assert result.exit_code == 2 and "must be a local path" in result.stderr, result.stderr


def test_the_cli_reads_and_writes_uris(cli, s3, prefix, src, tmp_path):
    result = cli("truncate", str(src), f"{prefix}/d", "--length", "4")
    assert result.exit_code == 0, result.stderr
    result = cli("inspect", f"{prefix}/d")
    assert result.exit_code == 0 and "50 sequences" in result.stdout, result.stderr
    result = cli("verify", f"{prefix}/d")
    assert result.exit_code == 0, result.stderr
    shard = bytearray(objects(s3, f"{prefix}/d")["part-00000.parquet"])
    shard[8] ^= 0xFF  # same size, one byte other: in the first page, not the footer
    with s3.open_output_stream(f"{prefix[5:]}/d/part-00000.parquet") as f:
        f.write(bytes(shard))
    result = cli("verify", f"{prefix}/d")
    assert result.exit_code == 1 and "sha256 differs" in result.stderr


def test_file_uris_are_local_paths(src, tmp_path):
    truncate(f"file://{src}", f"file://{tmp_path}/out", length=4)
    assert (tmp_path / "out" / "_seqprep.json").is_file()
    with pytest.raises(UsageError, match="a file:// URI names a local path"):
        truncate(f"file://elsewhere{src}", str(tmp_path / "o2"), length=4)


def test_a_store_that_refuses_is_one_line(s3, src, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    storage._FILESYSTEMS.clear()
    try:
        with pytest.raises(SeqprepError, match="s3://bucket/nowhere"):
            open_source("s3://bucket/nowhere")
    finally:
        storage._FILESYSTEMS.clear()


def test_a_dask_cluster_with_no_shared_directory(s3, prefix, src, tmp_path):
    """Workers read and write the store only: IN and OUT are URIs, and each worker runs in its own
    working directory. Byte-identical to the local run."""
    distributed = pytest.importorskip("distributed")
    truncate(str(src), f"{prefix}/in", length=1000, padding=_no_pad())
    truncate(str(src), str(tmp_path / "here"), length=6, keep="both", head=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, local_directory=str(tmp_path / "workers")) as cluster:
        truncate(f"{prefix}/in", f"{prefix}/out", length=6, keep="both", head=2,
                 scheduler=cluster.scheduler_address)
        with distributed.Client(cluster) as client:
            ran = client.run_on_scheduler(lambda dask_scheduler: sorted(dask_scheduler.task_prefixes))
    assert "run_blob" in ran
    there = objects(s3, f"{prefix}/out")
    here = local_files(tmp_path / "here")
    assert {k: v for k, v in there.items() if k != "_seqprep.json"} == {k: v for k, v in here.items()
                                                                        if k != "_seqprep.json"}
    mine, theirs = json.loads(there["_seqprep.json"]), json.loads(here["_seqprep.json"])
    assert mine["shards"] == theirs["shards"] and mine["rows"] == theirs["rows"]


def test_train_and_evaluate_read_s3(cli, s3, prefix, src, tmp_path):
    pytest.importorskip("torch")
    stats = tmp_path / "stats.json"
    fit(str(src), str(stats))
    encode(str(src), str(tmp_path / "ids"), stats=str(stats), length=8)
    encode(str(src), f"{prefix}/ids", stats=str(stats), length=8)
    scores = []
    for data, run in ((tmp_path / "ids", tmp_path / "run-here"), (f"{prefix}/ids", tmp_path / "run-there")):
        result = cli("train", data, run, "--epochs", "2", "--hidden", "8", "--embed", "4")
        assert result.exit_code == 0, result.stderr
        result = cli("evaluate", run, data, "--json")
        assert result.exit_code == 0, result.stderr
        scores.append(json.loads(result.stdout))
    assert scores[0] == scores[1]  # the same model (the checkpoints differ only in the DATA path they record)


def test_the_keras_loader_reads_s3(s3, prefix, src, tmp_path):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("keras")
    from seqprep.keras import SequenceBatches as Sequence

    truncate(str(src), str(tmp_path / "here"), length=6)
    truncate(str(src), f"{prefix}/there", length=6)
    here, there = Sequence(str(tmp_path / "here"), batch_size=8), Sequence(f"{prefix}/there", batch_size=8)
    assert len(here) == len(there) == 7
    for i in range(len(here)):
        (xa, ya), (xb, yb) = here[i], there[i]
        assert np.array_equal(xa, xb) and np.array_equal(ya, yb)


@pytest.mark.parametrize("spelling", ["{p}/d?region=us-east-1", "s3://test:test@{b}/d", "S3://{b}/d/"])
def test_the_input_spelled_otherwise_is_still_the_input(s3, prefix, src, spelling):
    truncate(str(src), f"{prefix}/d", length=5)
    before = objects(s3, f"{prefix}/d")
    out = spelling.format(p=prefix, b=prefix[len("s3://"):])
    with pytest.raises(OutputError, match="OUT is the same as the input"):
        truncate(f"{prefix}/d", out, length=3, overwrite=True)
    with pytest.raises(UsageError, match="TRAIN_OUT and VAL_OUT are the same path"):
        holdout(str(src), f"{prefix}/d", out, fraction=0.5, seed=1, overwrite=True)
    assert objects(s3, f"{prefix}/d") == before


def test_keys_and_settings_in_a_uri_are_not_shown(cli, s3, prefix, src, tmp_path):
    bucket_path = prefix[len("s3://"):]
    result = cli("truncate", src, f"s3://test:test@{bucket_path}/d?region=us-east-1", "--length", "4")
    assert result.exit_code == 0, result.stderr
    assert f"to {prefix}/d" in result.stderr and "test:test" not in result.stderr and "region" not in result.stderr
    fit(f"s3://test:test@{bucket_path}/d", str(tmp_path / "stats.json"))
    assert "test:test" not in (tmp_path / "stats.json").read_text()
    result = cli("truncate", src, f"{prefix}/e?no_such_setting=1", "--length", "4")
    assert result.exit_code == 2 and "no_such_setting" in result.stderr, result.stderr


def _stop_after(monkeypatch, moves: int, effect):
    """storage.copy does ``moves`` copies, then ``effect()`` in place of the next one."""
    from seqprep import objectstore

    real, done = storage.copy, []

    def move(a, b):
        if len(done) == moves:
            done.append(None)
            return effect(a, b)
        done.append((a, b))
        return real(a, b)

    monkeypatch.setattr(objectstore.storage, "copy", move)


def test_a_commit_that_stops_halfway_says_so_and_the_next_overwrite_mends_it(s3, prefix, src, monkeypatch):
    truncate(str(src), f"{prefix}/d", length=5)

    def fail(a, b):
        raise InputError(f"{b}: cannot be written (the store went away)")

    _stop_after(monkeypatch, 2, fail)
    with pytest.raises(OutputError, match="the commit stopped after the old output was removed .* the new output is "
                                          "whole under s3://bucket/.*/\\.d\\.seqprep-tmp-.*--overwrite"):
        truncate(str(src), f"{prefix}/d", length=3, overwrite=True)
    left = objects(s3, prefix)
    assert "d/_seqprep.json" not in left and "d/_seqprep.commit" in left
    kept = sorted(k.split("/")[-1] for k in left if ".d.seqprep-tmp-" in k)
    assert kept == ["_seqprep.json"] + [f"part-0000{i}.parquet" for i in range(5)]  # the new copy, whole
    with pytest.raises(InputError, match="a seqprep commit to it did not finish .* run the command again"):
        open_source(f"{prefix}/d")
    monkeypatch.undo()
    truncate(str(src), f"{prefix}/d", length=3, overwrite=True)
    again = objects(s3, f"{prefix}/d")
    assert sorted(again) == ["_seqprep.json", "part-00000.parquet", "part-00001.parquet", "part-00002.parquet",
                             "part-00003.parquet", "part-00004.parquet"]
    assert json.loads(again["_seqprep.json"])["padding"]["length"] == 3
    assert not [k for k in objects(s3, prefix) if "seqprep-tmp" in k]  # the earlier commit's copy went too


def test_ctrl_c_during_the_commit_waits_for_it(s3, prefix, src, monkeypatch):
    import signal

    truncate(str(src), f"{prefix}/d", length=5)

    def interrupt(a, b):
        signal.raise_signal(signal.SIGINT)
        storage.copy(a, b)

    _stop_after(monkeypatch, 1, interrupt)
    with pytest.raises(OutputError, match="interrupted by SIGINT during the commit, which was finished first") as e:
        truncate(str(src), f"{prefix}/d", length=3, overwrite=True)
    assert e.value.exit_code == 130
    monkeypatch.undo()
    assert json.loads(objects(s3, f"{prefix}/d")["_seqprep.json"])["padding"]["length"] == 3
    assert open_source(f"{prefix}/d").rows == 50


def test_the_commit_moves_only_what_the_manifest_lists(s3, prefix, src, monkeypatch):
    from seqprep import objectstore

    real = storage.write_bytes

    def write_bytes(uri, data):  # someone drops an object into the temporary prefix mid-run
        if uri.name == "_seqprep.json" and TMP in str(uri):
            real(uri.parent / "intruder.txt", b"x")
        return real(uri, data)

    monkeypatch.setattr(objectstore.storage, "write_bytes", write_bytes)
    truncate(str(src), f"{prefix}/d", length=3)
    assert "intruder.txt" not in objects(s3, f"{prefix}/d")


TMP = ".seqprep-tmp-"


def test_holdout_waits_out_ctrl_c_for_both_outputs(s3, prefix, src, monkeypatch):
    import signal

    holdout(str(src), f"{prefix}/t", f"{prefix}/v", fraction=0.3, seed=1)

    def interrupt(a, b):
        signal.raise_signal(signal.SIGINT)
        storage.copy(a, b)

    _stop_after(monkeypatch, 0, interrupt)
    with pytest.raises(OutputError, match=f"finished first: {prefix}/t and {prefix}/v are the new output"):
        holdout(str(src), f"{prefix}/t", f"{prefix}/v", fraction=0.5, seed=2, overwrite=True)
    monkeypatch.undo()
    rows = [json.loads(objects(s3, f"{prefix}/{r}")["_seqprep.json"])["rows"] for r in ("t", "v")]
    ids = [set(_ids(f"{prefix}/{r}")) for r in ("t", "v")]
    assert sum(rows) == 50 and not ids[0] & ids[1] and ids[0] | ids[1] == set(range(50))
    lineage = json.loads(objects(s3, f"{prefix}/v")["_seqprep.json"])["lineage"][-1]
    assert lineage["seed"] == 2  # the second output is the new one too, not the old


def _ids(uri: str) -> list:
    import seqprep as sp

    return sp.open(uri).to_arrow().column("id").to_pylist()


@pytest.mark.parametrize("uri, message", [
    ("s3://bk%74/x", "the bucket name holds"),
    ("s3://AKIASECRET:SUPER/SECRET@bkt/x", "the bucket name holds"),
    ("s3://AKIASECRET:SUPER SECRET@bkt/x", None),
])
def test_a_uri_that_may_hold_keys_is_refused_without_showing_them(s3, src, uri, message):
    with pytest.raises(SeqprepError) as e:
        truncate(str(src), uri, length=3)
    assert "SECRET" not in str(e.value) and (message is None or message in str(e.value))


def test_a_forged_commit_marker_does_not_vouch_for_a_users_files(s3, prefix, src):
    base = prefix[len("s3://"):]
    for name, data in (("part-00000.parquet", b"mine"), ("important.npy", b"mine"), ("meta.json", b"{}"),
                       ("_seqprep.commit", json.dumps({"format": "seqprep-commit", "temporary": "s3://elsewhere/x",
                                                       "objects": ["part-00000.parquet", "important.npy",
                                                                   "meta.json"]}).encode())):
        with s3.open_output_stream(f"{base}/u/{name}") as f:
            f.write(data)
    with pytest.raises(OutputError, match="seqprep did not write"):
        truncate(str(src), f"{prefix}/u", length=3, overwrite=True)
    assert objects(s3, f"{prefix}/u")["important.npy"] == b"mine"


def test_keys_in_the_uri_reach_every_object_written(s3, prefix, src, monkeypatch):
    """The temporary prefix beside OUT is reached with OUT's keys, not anonymously."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    storage._FILESYSTEMS.clear()
    try:
        base = prefix[len("s3://"):]
        truncate(str(src), f"s3://test:test@{base}/k", length=4)
        assert open_source(f"s3://test:test@{base}/k").rows == 50
    finally:
        storage._FILESYSTEMS.clear()
        monkeypatch.undo()
    assert objects(s3, f"{prefix}/k")["part-00000.parquet"][:4] == b"PAR1"
