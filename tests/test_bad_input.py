"""The bad-input matrix: through the CLI, each case gives one line naming what is wrong and
where, a non-zero exit, no traceback, no output, and leaves every input byte as it was."""

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from seqprep.fit import fit

from .conftest import assert_refused, make_dataset


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)
    return path


def corrupt(path):
    raw = path.read_bytes()
    path.write_bytes(raw[:30] + b"\0" * (len(raw) - 60) + raw[-30:])


@pytest.fixture
def world(tmp_path):
    """Inputs every case may use: datasets of token ids, string tokens and readings, stats files."""
    w = tmp_path / "in"
    make_dataset(w / "ids", [[1, 2, 3], [4]], labels=["a", "b"], seq_type=pa.int32())
    make_dataset(w / "strs", [["x", "y"], ["z"]], labels=["a", "b"])
    make_dataset(w / "nums", [[0.5, 1.5]], labels=["a"], seq_type=pa.float32())
    fit(str(w / "nums"), str(w / "nums.json"))
    fit(str(w / "ids"), str(w / "ids.json"))
    make_dataset(w / "other", [["x"]], labels=["never"])
    pq.write_table(pa.table({"seq": [[1, 2, 3]] * 50}), w / "good.parquet")
    write(w / "short.parquet", (w / "good.parquet").read_bytes()[:100])
    write(w / "garbage.parquet", b"this is not parquet at all" * 10)
    make_dataset(w / "broken", [[1, 2]] * 20, seq_type=pa.int32())
    corrupt(w / "broken" / "part-00000.parquet")
    np.save(w / "pickled.npy", np.array([{"a": 1}], dtype=object))  # np.save pickles objects
    write(w / "garbage.npy", b"\x00\x01nonsense")
    ts_head = "@univariate false\n@dimensions 2\n@classLabel true a b\n@data\n"
    write(w / "dims.ts", ts_head + "1,2:3,4:5,6:a\n")
    write(w / "nolabel.ts", ts_head + "1,2:3,4\n")
    write(w / "badvalue.ts", ts_head + "1,oops:3,4:a\n")
    write(w / "noheader.fasta", "ACGT\n>r1\nAC\n")
    write(w / "r.fasta", ">r1\nACGT\n>r2\nGG\n")
    write(w / "labels.csv", "r1,x\n")
    write(w / "ragged.csv", "text,label\na,b,c\n")
    write(w / "notext.csv", "body,label\na,b\n")
    write(w / "bad.jsonl", '{"text": "a"}\n{"text": \n')
    write(w / "latin1.jsonl", b'{"text": "caf\xe9"}\n')
    write(w / "nulllabels.jsonl", '{"text": "a", "label": null}\n')
    write(w / "notjson.json", "{nope")
    with pa.OSFile(str(w / "whole.arrow"), "wb") as f, pa.ipc.new_file(f, pa.schema([("id", pa.int64())])) as wr:
        wr.write_table(pa.table({"id": [1, 2]}))
    write(w / "cut.arrow", (w / "whole.arrow").read_bytes()[:-40])  # its writer died before the footer
    write(w / "data.xyz", "?")
    write(w / "afile", "x")
    (w / "nomanifest").mkdir()
    return w


CASES = [
    # (command and arguments, with IN for the inputs folder and OUT for the target; exit code; message)
    ("ingest IN/short.parquet OUT", 1, "short.parquet: not a readable parquet file"),
    ("ingest IN/garbage.parquet OUT", 1, "garbage.parquet: not a readable parquet file"),
    ("truncate IN/broken OUT --length 2", 1, "broken/part-00000.parquet: not a readable parquet file"),
    ("ingest IN/pickled.npy OUT", 1, "pickled.npy: holds Python objects (pickled data), which seqprep never loads"),
    ("ingest IN/garbage.npy OUT", 1, "garbage.npy: not a valid .npy file"),
    ("ingest IN/dims.ts OUT", 1, "dims.ts:5: 3 dimensions, but the header says 2"),
    ("ingest IN/nolabel.ts OUT", 1, "nolabel.ts:5: no class label after the 2 dimension(s)"),
    ("ingest IN/badvalue.ts OUT", 1, "badvalue.ts:5: value 'oops' in dimension 1 is not a number"),
    ("ingest IN/noheader.fasta OUT", 1, "noheader.fasta:1: sequence data before the first '>' header"),
    ("ingest IN/r.fasta OUT --labels IN/labels.csv", 1, "r.fasta:3: record 'r2' has no label in"),
    ("ingest IN/ragged.csv OUT", 1, "ragged.csv:2: 3 fields, but the header has 2"),
    ("ingest IN/notext.csv OUT", 1, "notext.csv:1: no 'text' column in the header"),
    ("ingest IN/bad.jsonl OUT", 1, "bad.jsonl:2: not valid JSON"),
    ("ingest IN/latin1.jsonl OUT", 1, "latin1.jsonl:1: not valid UTF-8"),
    ("ingest IN/nulllabels.jsonl OUT", 1, "nulllabels.jsonl: the label column has no values"),
    ("ingest IN/missing.jsonl OUT", 1, "missing.jsonl: no such file or directory"),
    ("ingest IN/data.xyz OUT", 2, "data.xyz: cannot tell the format from its name; pass --format"),
    ("summarize IN/strs OUT --stats IN/notjson.json --drop-top 1", 1, "notjson.json: not a JSON stats file"),
    ("summarize IN/strs OUT --stats IN/nums.json --drop-top 1", 1, "fitted on numeric data, not tokens"),
    ("encode IN/strs OUT --stats IN/ids.json", 1, "fitted on int32 tokens, but the tokens to encode are string"),
    ("encode IN/other OUT --stats IN/ids.json --hash 5", 1, "label 'never' never appears in the training split"),
    ("encode IN/nums OUT --normalize IN/ids.json", 1, "fitted on tokens; --normalize needs statistics of numeric"),
    ("truncate IN/ids OUT --length 0", 2, "--length 0 must be positive"),
    ("truncate IN/ids OUT --length -5", 2, "--length -5 must be positive"),
    ("sample IN/ids OUT --length 0 --seed 1", 2, "--length 0 must be positive"),
    ("split IN/ids OUT --length 3 --stride 0", 2, "--stride 0 must be positive"),
    ("split IN/ids OUT --length -1", 2, "--length -1 must be positive"),
    ("truncate IN/ids IN/ids --length 2", 1, "OUT is the same as the input"),
    ("truncate IN/ids IN/afile/sub --length 2", 1, "is a file, not a directory"),
    ("truncate IN/ids IN/strs --length 2", 1, "already exists; pass --overwrite to replace it"),
    ("truncate IN/ids OUT --length 3 --keep both --head 3", 2, "--head 3 must be at least 0 and below --length 3"),
    ("truncate IN/ids OUT --length 3 --pad-value zero", 2, "--pad-value 'zero' is not an integer"),
    ("truncate IN/strs OUT --length 3 --format npy", 2, "--format npy needs numbers, but seq holds string tokens"),
    ("truncate IN/missing OUT --length 3", 1, "missing: no such file or directory"),
    ("truncate IN/nomanifest OUT --length 3", 1, "nomanifest: not a seqprep dataset, or an incomplete one"),
    ("summarize IN/ids OUT --paa 4", 2, "--paa and --factor work on numeric readings, but seq holds int32 tokens"),
    ("fit IN/ids OUT --max-size 0", 2, "--max-size 0 must be positive"),
    ("verify IN/broken", 1, "broken/part-00000.parquet: not a readable parquet file"),
    ("truncate IN/cut.arrow OUT --length 2", 1, "cut.arrow: not a readable arrow file (an Arrow file without its footer"),
    ("truncate IN/ids OUT --length 2 --workers 0", 2, "--workers 0 must be at least 1"),
    ("fit IN/ids OUT --workers 2 --scheduler tcp://127.0.0.1:1", 2, "give --workers (processes on this machine) or"),
]


def test_the_matrix_is_big_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize("line, code, message", CASES, ids=[c[0].split(" IN/")[0] + ":" + c[2][:40] for c in CASES])
def test_bad_input(cli, world, tmp_path, line, code, message):
    args = [a.replace("IN/", f"{world}/").replace("OUT", str(tmp_path / "out")) if a in ("OUT",) or a.startswith("IN/")
            else a for a in line.split()]
    assert_refused(cli, world, tmp_path, args, code, message)


def test_stats_file_of_another_format(cli, world, tmp_path):
    (world / "stats.json").write_text(json.dumps({"format": "something-else"}))
    result = cli("summarize", world / "strs", tmp_path / "out", "--stats", world / "stats.json", "--drop-top", "1")
    assert result.exit_code == 1 and "not a seqprep stats file" in result.stderr
