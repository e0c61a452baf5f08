"""The command line: help, one-line errors with Click's exit codes, and real pipes."""

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from seqprep.cli import app

from .conftest import listing, make_dataset, manifest, read_table

SEQPREP = [sys.executable, "-m", "seqprep"]
COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)


def test_commands_are_registered():
    assert COMMANDS == ["compare", "encode", "evaluate", "fit", "holdout", "ingest", "inspect", "predict", "sample", "split",
                        "summarize", "synth", "train", "truncate", "verify"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(cli, command):
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert "Example: seqprep " + command in " ".join(result.stdout.split())


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0 and result.stdout.startswith("seqprep 0.")


@pytest.fixture
def raw(tmp_path):
    return make_dataset(tmp_path / "raw", [[1, 2, 3, 4], [5]], labels=["a", "b"], seq_type=pa.int32())


def one_line_error(result, code: int) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and lines[0].startswith("Error: ")
    return lines[0]


@pytest.mark.parametrize("args, code, message", [
    (["--length", "0"], 2, "Error: --length 0 must be positive"),
    (["--length", "-4"], 2, "Error: --length -4 must be positive"),
    (["--length", "ten"], 2, "Error: Invalid value for '--length' / '-l': Input should be a valid integer, "
                             "unable to parse string as an integer. See 'seqprep truncate --help'."),
    (["--length", "3", "--keep", "both", "--head", "3"], 2, "Error: --head 3 must be at least 0 and below --length 3"),
    (["--length", "3", "--head", "1"], 2, "Error: --head 1 applies only with --keep both"),
    (["--length", "3", "--pad-value", "zero"], 2, "Error: --pad-value 'zero' is not an integer, but seq holds int32 token ids"),
    (["--length", "3", "--keep", "middle"], 2, "Error: Invalid value for '--keep': Value error, 'middle' is not one "
                                          "of 'start', 'end', 'both'. See 'seqprep truncate --help'."),
])
def test_truncate_bad_usage(cli, raw, tmp_path, args, code, message):
    result = cli("truncate", raw, tmp_path / "out", *args)
    assert one_line_error(result, code) == message
    assert not (tmp_path / "out").exists()


def test_bad_data_and_paths_exit_1(cli, tmp_path, raw):
    line = one_line_error(cli("truncate", tmp_path / "missing", tmp_path / "out", "--length", "3"), 1)
    assert line == f"Error: {tmp_path / 'missing'}: no such file or directory"
    (tmp_path / "bad.ts").write_text("@classLabel true a\n@data\n1,2,oops:a\n")
    line = one_line_error(cli("ingest", tmp_path / "bad.ts", tmp_path / "out"), 1)
    assert line == f"Error: {tmp_path / 'bad.ts'}:3: value 'oops' in dimension 1 is not a number ('?' marks a missing value)"
    (tmp_path / "out").mkdir()
    line = one_line_error(cli("truncate", raw, tmp_path / "out", "--length", "3"), 1)
    assert line == f"Error: {tmp_path / 'out'}: already exists; pass --overwrite to replace it"


def test_ingest_truncate_inspect(cli, tmp_path):
    (tmp_path / "d.jsonl").write_text('{"text": "a b c d", "label": "x"}\n{"text": "e", "label": "y"}\n')
    result = cli("ingest", tmp_path / "d.jsonl", tmp_path / "raw")
    assert result.exit_code == 0 and result.stderr.strip() == f"ingest: wrote 2 rows in 1 shard to {tmp_path / 'raw'} (read as one jsonl file)"
    result = cli("truncate", tmp_path / "raw", tmp_path / "t", "-l", "2", "--keep", "start", "--pad-side", "end",
                 "--pad-value", "<pad>")
    assert result.exit_code == 0
    assert read_table(tmp_path / "t").column("seq").to_pylist() == [["a", "b"], ["e", "<pad>"]]
    result = cli("inspect", tmp_path / "t", "--json")
    report = json.loads(result.stdout)
    assert report["rows"] == 2 and report["labels"] == {"x": 1, "y": 1}
    assert report["lengths"]["max"] == 2 and report["steps"]["fixed_length"] == 2
    result = cli("inspect", tmp_path / "raw", "--plot", tmp_path / "h.png")
    assert result.exit_code == 0 and "2 sequences in 1 shard" in result.stdout and "if you cut to length L" in result.stdout
    assert (tmp_path / "h.png").exists()


def test_truncate_npy_via_cli(cli, raw, tmp_path):
    result = cli("truncate", raw, tmp_path / "npy", "--length", "3", "--format", "npy")
    assert result.exit_code == 0, result.stderr
    assert np.load(tmp_path / "npy" / "X.npy", mmap_mode="r").tolist() == [[2, 3, 4], [0, 0, 5]]


def test_stdin_stream_via_cli(cli, raw, tmp_path):
    piped = cli("truncate", raw, "-", "--length", "2")
    assert piped.exit_code == 0 and piped.stderr == ""
    result = cli("truncate", "-", tmp_path / "out", "--length", "1", input=piped.stdout_bytes)
    assert result.exit_code == 0, result.stderr
    assert read_table(tmp_path / "out").column("seq").to_pylist() == [[4], [5]]
    lineage = manifest(tmp_path / "out")["lineage"]
    assert [s["command"] for s in lineage] == ["test", "truncate", "truncate"]
    line = one_line_error(cli("inspect", "-", input=b"hello"), 1)
    assert line.startswith("Error: stdin: not an Arrow IPC stream")


def run(*args, **kw):
    return subprocess.run([*SEQPREP, *map(str, args)], capture_output=True, **kw)


def test_real_pipe_between_processes(raw):
    producer = subprocess.Popen([*SEQPREP, "truncate", str(raw), "-", "--length", "3"], stdout=subprocess.PIPE)
    consumer = subprocess.run([*SEQPREP, "inspect", "-", "--json"], stdin=producer.stdout, capture_output=True)
    producer.stdout.close()
    assert producer.wait() == 0 and consumer.returncode == 0, consumer.stderr
    report = json.loads(consumer.stdout)
    assert report["rows"] == 2 and report["padding"] == {"length": 3, "side": "start", "value": 0}


def test_reader_closing_the_pipe_early(tmp_path):
    big = make_dataset(tmp_path / "big", [[i, i + 1, i + 2] for i in range(60_000)], seq_type=pa.int64())
    producer = subprocess.Popen([*SEQPREP, "truncate", str(big), "-", "--length", "3"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = subprocess.run(["head", "-c", "100"], stdin=producer.stdout, capture_output=True)
    producer.stdout.close()
    code = producer.wait()
    err = producer.stderr.read().decode()
    assert len(head.stdout) == 100
    assert code == 1 and err.strip() == "Error: stdout was closed before all the data was written"


def test_python_dash_m(raw, tmp_path):
    result = run("truncate", raw, tmp_path / "out", "--length", "2")
    assert result.returncode == 0 and listing(tmp_path / "out") == ["_seqprep.json", "part-00000.parquet"]
    result = run("truncate", raw, tmp_path / "out2", "--length", "0")
    assert result.returncode == 2 and result.stderr.decode().count("\n") == 1


def test_ingest_from_stdin_and_to_stdout(cli, tmp_path):
    docs = b'{"text": "a b", "label": "x"}\n{"text": "c", "label": "y"}\n'
    result = cli("ingest", "-", tmp_path / "raw", "--format", "jsonl", input=docs)
    assert result.exit_code == 0, result.stderr
    assert read_table(tmp_path / "raw").column("seq").to_pylist() == [["a", "b"], ["c"]]
    streamed = cli("ingest", "-", "-", "--format", "jsonl", input=docs)
    assert streamed.exit_code == 0 and streamed.stderr == ""
    result = cli("ingest", "-", tmp_path / "again", "--id-column", "id", input=streamed.stdout_bytes)  # Arrow by default
    assert result.exit_code == 0, result.stderr
    assert read_table(tmp_path / "again").column("label").to_pylist() == ["x", "y"]
    line = one_line_error(cli("ingest", "-", tmp_path / "bad", "--format", "jsonl", input=b'{"text": 1}\n'), 1)
    assert line == "Error: stdin:1: 'text' is int, not text"
    line = one_line_error(cli("ingest", "-", tmp_path / "bad", "--format", "npy"), 2)
    assert line == "Error: --format npy cannot be read from stdin; stdin takes arrow, jsonl, csv, fasta, ts"


def test_a_producer_failing_mid_stream_makes_the_consumer_fail(tmp_path):
    src = make_dataset(tmp_path / "raw", [[1, 2]] * 10, seq_type=pa.int32(), shard_rows=5)
    second = src / "part-00001.parquet"
    raw = second.read_bytes()
    second.write_bytes(raw[:30] + b"\0" * (len(raw) - 60) + raw[-30:])
    producer = subprocess.Popen([*SEQPREP, "truncate", str(src), "-", "--length", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    consumer = subprocess.run([*SEQPREP, "truncate", "-", str(tmp_path / "out"), "--length", "1"],
                              stdin=producer.stdout, capture_output=True)
    producer.stdout.close()
    assert producer.wait() == 1 and b"part-00001.parquet" in producer.stderr.read()
    assert consumer.returncode == 1
    assert consumer.stderr.decode().startswith("Error: stdin: cannot be read")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("env, expected", [
    ({}, "1"),  # set: seqprep does no BLAS work, and OpenBLAS's idle threads spin at start
    ({"OPENBLAS_NUM_THREADS": "4"}, "4"),  # the user's own setting is kept
    ({"OMP_NUM_THREADS": "3"}, None),  # OpenBLAS reads this one too: left to it
])
def test_entry_point_sets_blas_threads_only_where_the_user_did_not(env, expected):
    code = "import os, sys; from seqprep.__main__ import main; sys.argv = ['seqprep', '--version']; main()"
    probe = ("import os, gc, atexit; atexit.register(lambda: print(os.environ.get('OPENBLAS_NUM_THREADS'), "
             "gc.isenabled()))")
    clean = {k: v for k, v in __import__("os").environ.items()
             if k not in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")}
    r = subprocess.run([sys.executable, "-c", probe + "\n" + code], env={**clean, **env},
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    version, seen = r.stdout.strip().splitlines()
    assert version.startswith("seqprep 0.")
    assert seen == f"{expected} True"  # and the garbage collector is back on


def test_bare_seqprep_prints_help_and_no_error():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "seqprep"], capture_output=True, text=True)
    assert r.returncode == 0 and "Usage: " in r.stdout and "Error" not in r.stderr + r.stdout


def test_library_errors_speak_python_and_the_cli_flags(cli, tmp_path):
    """One error, two readers: `length=0 must be positive` from Python, `--length 0 ...` on the
    command line; a ValueError either way."""
    from seqprep.errors import UsageError, python_terms
    from seqprep.steps import truncate

    make_dataset(tmp_path / "d", [[1]])
    try:
        truncate(str(tmp_path / "d"), str(tmp_path / "o"), length=0)
    except ValueError as e:
        assert isinstance(e, UsageError) and str(e) == "length=0 must be positive"
        assert e.cli_message == "--length 0 must be positive"
    result = cli("truncate", tmp_path / "d", tmp_path / "o", "--length", "0")
    assert result.stderr.strip() == "Error: --length 0 must be positive"
    assert python_terms("--head 3 must be at least 0 and below --length 3") == "head=3 must be at least 0 and below length 3"
    assert python_terms("--keep 'middle' must be one of start, end") == "keep='middle' must be one of start, end"
    assert python_terms("--copies and --no-overlap apply to --mode crop") == "copies and no_overlap apply to mode crop"


@pytest.mark.parametrize("args", [
    ["summarize", "IN", "OUT", "--stopwords", ""], ["inspect", "IN", "--plot", ""], ["inspect", "IN", "--plot="],
    ["truncate", "IN", "OUT", "--length", "2", "--pad-value", ""],
])
def test_an_empty_option_value_is_refused_not_ignored(cli, tmp_path, args):
    """`--stopwords $(WORDS)` with WORDS unset must not quietly run without stop words."""
    src = make_dataset(tmp_path / "d", [["a"]])
    result = cli(*[str(src) if a == "IN" else str(tmp_path / "out") if a == "OUT" else a for a in args])
    assert result.exit_code == 2 and result.stderr.startswith("Error: --") and "is given an empty value" in result.stderr
    assert not (tmp_path / "out").exists()


def test_plots_replace_only_plots_seqprep_wrote(cli, tmp_path):
    pytest.importorskip("matplotlib")
    src = make_dataset(tmp_path / "d", [[1, 2], [3]])
    (tmp_path / "notes.png").write_text("my notes")
    result = cli("inspect", src, "--plot", tmp_path / "notes.png")
    assert result.exit_code == 1 and "notes.png: exists and is not a plot seqprep wrote" in result.stderr
    assert (tmp_path / "notes.png").read_text() == "my notes"
    assert cli("inspect", src, "--plot", tmp_path / "p.png").exit_code == 0
    assert cli("inspect", src, "--plot", tmp_path / "p.png").exit_code == 0  # its own plot: replaced
    (tmp_path / "table.json").write_text('{"mine": 1}')
    pytest.importorskip("torch")
    result = cli("compare", src, src, "--json", tmp_path / "table.json")
    assert result.exit_code == 1 and "table.json: exists and is not a table seqprep compare wrote" in result.stderr
