"""The commit protocol and what --overwrite may replace (seqprep/atomic.py)."""

import json
import os
import subprocess
import sys

import pytest

from seqprep import atomic
from seqprep.atomic import AtomicDir, check_target, made_by_seqprep, recover
from seqprep.errors import OutputError

from .conftest import listing, make_dataset


def test_atomic_dir_is_invisible_until_commit(tmp_path):
    d = AtomicDir(str(tmp_path / "out"))
    (d.tmp / "f").write_text("x")
    assert not (tmp_path / "out").exists()
    d.commit()
    assert listing(tmp_path) == ["out", "out/f"]


def test_abort_leaves_nothing(tmp_path):
    d = AtomicDir(str(tmp_path / "out"))
    (d.tmp / "f").write_text("x")
    d.abort()
    assert listing(tmp_path) == []


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_overwrite_replaces_what_seqprep_made(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    make_dataset(tmp_path / "out", [[1]])
    d = AtomicDir(str(tmp_path / "out"), overwrite=True)
    (d.tmp / "new").write_text("new")
    d.commit()
    assert listing(tmp_path) == ["out", "out/new"]


def test_the_system_can_swap_here(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").write_text("b")
    assert atomic._exchange(tmp_path / "a", tmp_path / "b")  # Linux: this is the path CI tests
    assert (tmp_path / "a").is_file() and (tmp_path / "b").is_dir()


def test_a_kill_between_the_two_renames_is_recovered(tmp_path):
    """The fallback commit killed after OUT became the backup and before the new copy took its
    place: the next run puts the old dataset back instead of deleting both."""
    make_dataset(tmp_path / "out", [[1], [2]])
    before = (tmp_path / "out" / "_seqprep.json").read_text()
    backup = tmp_path / f".out{atomic.TMP_MARK}{atomic.OLD}0123abcd"
    (tmp_path / "out").rename(backup)
    new = tmp_path / f".out{atomic.TMP_MARK}999999999-deadbeef"  # the new copy, its writer dead
    new.mkdir()
    recover(tmp_path / "out")
    assert listing(tmp_path) == ["out", "out/_seqprep.json", "out/part-00000.parquet"]
    assert (tmp_path / "out" / "_seqprep.json").read_text() == before


def test_a_backup_left_after_the_commit_is_removed(tmp_path):
    make_dataset(tmp_path / "out", [[1]])
    (tmp_path / f".out{atomic.TMP_MARK}{atomic.OLD}0123abcd").mkdir()
    recover(tmp_path / "out")
    assert listing(tmp_path) == ["out", "out/_seqprep.json", "out/part-00000.parquet"]


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    dead = tmp_path / ".out.seqprep-tmp-999999999-abcd"
    dead.mkdir()
    (dead / "part-00000.parquet").write_text("half")
    d = AtomicDir(str(tmp_path / "out"))
    d.abort()
    assert listing(tmp_path) == []


def test_a_live_writers_temporary_is_kept_whatever_its_pid(tmp_path):
    """A writer in another PID namespace has a PID this process cannot see; its lock says it lives."""
    code = ("import sys, time; from seqprep.atomic import AtomicDir; "
            "d = AtomicDir(sys.argv[1]); print(d.tmp, flush=True); time.sleep(30)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "out")], stdout=subprocess.PIPE, text=True)
    try:
        live = proc.stdout.readline().strip()
        renamed = live.replace(f"{atomic.TMP_MARK}{proc.pid}-", f"{atomic.TMP_MARK}999999999-")
        os.rename(live, renamed)  # as if its PID were not visible here
        AtomicDir(str(tmp_path / "out")).abort()
        assert os.path.isdir(renamed)
    finally:
        proc.kill()
        proc.wait()
    AtomicDir(str(tmp_path / "out")).abort()  # now it is dead: removed
    assert listing(tmp_path) == []


def test_check_target(tmp_path):
    check_target(str(tmp_path / "a" / "b"))  # parents are created later
    (tmp_path / "x").mkdir()
    with pytest.raises(OutputError, match="already exists"):
        check_target(str(tmp_path / "x"))
    check_target(str(tmp_path / "x"), overwrite=True)  # an empty directory
    with pytest.raises(OutputError, match="same as the input"):
        check_target(str(tmp_path / "x"), inputs=(str(tmp_path / "x"),), overwrite=True)
    check_target("-", inputs=("-",))


@pytest.fixture
def places(tmp_path, monkeypatch):
    make_dataset(tmp_path / "data" / "in", [[1, 2]])
    make_dataset(tmp_path / "data" / "made", [[1]])
    (tmp_path / "data" / "mine").mkdir()
    (tmp_path / "data" / "mine" / "thesis.tex").write_text("years of work")
    (tmp_path / "data" / "notes.txt").write_text("notes")
    monkeypatch.chdir(tmp_path / "data")
    return tmp_path


@pytest.mark.parametrize("out, message", [
    ("mine", "this is a folder holding files seqprep did not write"),
    ("notes.txt", "this is a file seqprep did not write"),
    (".", "never replaces the root, home or working directory"),
    ("..", "never replaces the root, home or working directory"),
    ("/", "never replaces the root, home or working directory"),
    ("~", "never replaces the root, home or working directory"),
    ("in", "OUT is the same as the input"),
    ("in/part-00000.parquet", "OUT is inside the input"),
    ("in/new", "OUT is inside the input"),
])
def test_overwrite_refuses(places, out, message):
    with pytest.raises(OutputError, match=message):
        check_target(os.path.expanduser(out), inputs=("in",), overwrite=True)
    assert listing(places / "data" / "mine") == ["thesis.tex"]


def test_overwrite_refuses_a_folder_holding_the_input(places, monkeypatch):
    monkeypatch.chdir(places)
    with pytest.raises(OutputError, match="OUT holds the input"):
        check_target("data", inputs=("data/in",), overwrite=True)


def test_a_dataset_with_a_file_added_is_not_replaced(places):
    (places / "data" / "made" / "my-notes.md").write_text("mine")
    with pytest.raises(OutputError, match="a folder holding files seqprep did not write"):
        check_target("made", inputs=("in",), overwrite=True)


def test_what_seqprep_made(tmp_path):
    make_dataset(tmp_path / "ds", [[1]])
    assert made_by_seqprep(tmp_path / "ds") == "dataset"
    (tmp_path / "e").mkdir()
    assert made_by_seqprep(tmp_path / "e") == "empty"
    (tmp_path / "npy").mkdir()
    (tmp_path / "npy" / "meta.json").write_text(json.dumps({"format": "seqprep-npy"}))
    (tmp_path / "npy" / "X.npy").write_bytes(b"")
    assert made_by_seqprep(tmp_path / "npy") is None  # a meta.json that lists no arrays vouches for none
    (tmp_path / "npy" / "meta.json").write_text(json.dumps({"format": "seqprep-npy", "files": {"X.npy": {"bytes": 0}}}))
    assert made_by_seqprep(tmp_path / "npy") == "npy"
    (tmp_path / "npy" / "other.txt").write_text("")
    assert made_by_seqprep(tmp_path / "npy") is None
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "model.pt").write_bytes(atomic.ZIP_MAGIC)
    (tmp_path / "run" / "metrics.jsonl").write_text("")
    assert made_by_seqprep(tmp_path / "run") == "run"
    (tmp_path / "p.csv").write_text("id,predicted,p_a\n0,a,1.0\n")
    assert made_by_seqprep(tmp_path / "p.csv") == "predictions"
    (tmp_path / "s.json").write_text(json.dumps({"format": "seqprep-stats"}))
    assert made_by_seqprep(tmp_path / "s.json") == "stats"
    (tmp_path / "other.json").write_text("{}")
    assert made_by_seqprep(tmp_path / "other.json") is None
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / "_seqprep.json").write_text(json.dumps({"format": "seqprep-dataset", "shards": []}))
    (tmp_path / "fake" / "precious").write_text("x")
    assert made_by_seqprep(tmp_path / "fake") is None  # a manifest does not vouch for files it does not list
    (tmp_path / "fake" / "_seqprep.json").write_text(json.dumps({"format": "seqprep-dataset", "shards": [
        {"path": "precious", "bytes": 1}]}))
    assert made_by_seqprep(tmp_path / "fake") is None  # nor for files not named as seqprep names its shards
    os.symlink(tmp_path / "ds", tmp_path / "link")
    assert made_by_seqprep(tmp_path / "link") is None


def test_a_stream_is_not_written_to_a_terminal(monkeypatch):
    from seqprep.errors import UsageError

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    with pytest.raises(UsageError, match="stdout is a terminal; pipe it into a command"):
        check_target("-")


# Found by a hostile tester: what looked like seqprep's output, and inputs given through options.


def fake_manifest(folder, shards):
    m = {"format": "seqprep-dataset", "version": 1, "rows": 1, "shards": shards}
    (folder / "_seqprep.json").write_text(json.dumps(m))


def test_made_by_seqprep_looks_past_the_names(tmp_path):
    f4 = tmp_path / "f4"
    (f4 / "sub").mkdir(parents=True)
    (f4 / "sub" / "y").write_text("x")
    fake_manifest(f4, [{"path": "sub", "rows": 1, "bytes": 1, "sha256": "0" * 64}])
    assert made_by_seqprep(f4) is None  # a listed folder
    f2 = tmp_path / "f2"
    f2.mkdir()
    (f2 / "thesis.docx").write_text("thesis")
    fake_manifest(f2, [{"path": "thesis.docx", "rows": 1, "bytes": 123456, "sha256": "00" * 32}])
    assert made_by_seqprep(f2) is None  # size differs
    fake_manifest(f2, [{"path": "thesis.docx", "rows": 1, "sha256": "00" * 32}])
    assert made_by_seqprep(f2) is None  # no size listed: the sha256 decides
    proj = tmp_path / "proj"
    (proj / "model.pt").mkdir(parents=True)
    (proj / "metrics.jsonl").write_text("")
    assert made_by_seqprep(proj) is None  # model.pt a folder
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "curves.png").write_text("img")
    (photos / "model.pt").write_text("")
    assert made_by_seqprep(photos) is None  # no metrics, no torch archive
    fake = tmp_path / "fakenpy"
    (fake / "X.npy").mkdir(parents=True)
    (fake / "meta.json").write_text(json.dumps({"format": "seqprep-npy"}))
    assert made_by_seqprep(fake) is None
    (tmp_path / "prices.csv").write_text("id,predicted_price,actual\n1,100.5,99\n")
    assert made_by_seqprep(tmp_path / "prices.csv") is None


def test_each_command_replaces_only_its_own_kind(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.pt").write_bytes(atomic.ZIP_MAGIC + b"rest")
    (run / "metrics.jsonl").write_text("")
    assert made_by_seqprep(run) == "run"
    with pytest.raises(OutputError, match="replaces only a seqprep dataset, an NPY export or an empty directory, "
                                          "and this is a run directory"):
        check_target(str(run), overwrite=True)
    check_target(str(run), overwrite=True, replaces=atomic.RUN_KINDS)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="this is a file seqprep did not write"):
        check_target(str(tmp_path / "notes.txt"), overwrite=True)


def test_an_input_given_through_an_option_is_not_replaced(cli, tmp_path):
    src = make_dataset(tmp_path / "src", [["a", "b"], ["c"]], labels=["x", "y"])
    assert cli("fit", src, tmp_path / "s.json").exit_code == 0
    stats = (tmp_path / "s.json").read_text()
    for args in (["encode", src, tmp_path / "s.json", "--stats", tmp_path / "s.json", "--length", "2"],
                 ["summarize", src, tmp_path / "s.json", "--stats", tmp_path / "s.json", "--drop-top", "1"]):
        result = cli(*args, "--overwrite")
        assert result.exit_code == 1, result.stderr
        assert "s.json: OUT is the same as the input" in result.stderr or "and this is a stats file" in result.stderr
        assert (tmp_path / "s.json").read_text() == stats
    (tmp_path / "empty").mkdir()
    with pytest.raises(OutputError, match="OUT is the same as the input"):  # an input, whatever its kind
        check_target(str(tmp_path / "empty"), inputs=(str(src), None, str(tmp_path / "empty")), overwrite=True)


def test_names_are_matched_literally_not_as_patterns(tmp_path):
    make_dataset(tmp_path / "run1", [[1]])
    backup = tmp_path / f".run1{atomic.TMP_MARK}{atomic.OLD}deadbeef"
    (tmp_path / "run1").rename(backup)
    AtomicDir(str(tmp_path / "run[1]")).abort()
    assert backup.is_dir()  # another OUT's backup is not taken


def test_a_fifo_beside_out_is_left_alone(tmp_path):
    os.mkfifo(tmp_path / f".out{atomic.TMP_MARK}1-abcdef12")
    d = AtomicDir(str(tmp_path / "out"))  # would block forever opening the FIFO
    d.abort()
    assert listing(tmp_path) == [f".out{atomic.TMP_MARK}1-abcdef12"]
