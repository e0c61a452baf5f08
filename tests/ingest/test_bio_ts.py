import numpy as np
import pyarrow as pa
import pytest

from seqprep.errors import InputError, UsageError
from seqprep.ingest import IngestOptions, ingest

from ..conftest import listing, read_table

FASTA = """>r1 first record
ACGT
acgn
; a comment
>r2 second|class=B

>r3 third|class=A
GG TT
"""


def test_fasta_bases_are_one_char_tokens(tmp_path):
    (tmp_path / "x.fasta").write_text(FASTA)
    (tmp_path / "labels.csv").write_text("record,label\nr1,A\nr2,B\nr3,A\n")
    m = ingest(str(tmp_path / "x.fasta"), str(tmp_path / "out"), options=IngestOptions(labels=str(tmp_path / "labels.csv")))
    t = read_table(tmp_path / "out")
    assert t.column("seq").to_pylist() == [list("ACGTacgn"), [], list("GGTT")]
    assert t.column("name").to_pylist() == ["r1", "r2", "r3"]
    assert t.column("label").to_pylist() == ["A", "B", "A"]
    assert m["lengths"]["max"] == 8


def test_fasta_label_regex_and_lowercase(tmp_path):
    (tmp_path / "x.fa").write_text(FASTA.replace(">r1 first record", ">r1 first|class=C"))
    ingest(str(tmp_path / "x.fa"), str(tmp_path / "out"), options=IngestOptions(label_regex=r"class=(\w+)", lowercase=True))
    t = read_table(tmp_path / "out")
    assert t.column("label").to_pylist() == ["C", "B", "A"]
    assert t.column("seq").to_pylist()[0] == list("acgtacgn")


@pytest.mark.parametrize("fasta, labels, regex, message", [
    ("ACGT\n>r1\nAC\n", None, None, r"x.fasta:1: sequence data before the first '>' header; is this FASTA\?"),
    (">r1\nAC\n>r9\nGT\n", "r1,A\n", None, r"x.fasta:3: record 'r9' has no label in"),
    (">r1\nAC\n", "r1,A\nr1,B\n", None, r"labels.csv:2: record 'r1' is labelled twice"),
    (">r1 nothing\nAC\n", None, r"class=(\w+)", r"x.fasta:1: --label-regex 'class=\(\\w\+\)' does not match header 'r1 nothing'"),
    (">r1\nAC\u00e9\n", None, None, r"x.fasta:2: non-ASCII bytes in the sequence"),
])
def test_fasta_errors(tmp_path, fasta, labels, regex, message):
    (tmp_path / "x.fasta").write_text(fasta)
    if labels:
        (tmp_path / "labels.csv").write_text(labels)
    options = IngestOptions(labels=str(tmp_path / "labels.csv") if labels else None, label_regex=regex)
    with pytest.raises(InputError, match=message):
        ingest(str(tmp_path / "x.fasta"), str(tmp_path / "out"), options=options)
    assert not (tmp_path / "out").exists()


def test_labels_option_is_for_fasta_only(tmp_path):
    (tmp_path / "d.jsonl").write_text('{"text": "a"}\n')
    with pytest.raises(UsageError, match="applies to FASTA input and folders of .txt files only"):
        ingest(str(tmp_path / "d.jsonl"), str(tmp_path / "out"), options=IngestOptions(labels="l.csv"))


TS_MULTI = """# comment
@problemName Toy
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true up down
@data
1,2,3:4,5,6:up
7,?:8,9:down
:: up
"""


def test_ts_multivariate_unequal_with_missing(tmp_path):
    (tmp_path / "toy.ts").write_text(TS_MULTI.replace(":: up", "::up"))
    m = ingest(str(tmp_path / "toy.ts"), str(tmp_path / "out"))
    t = read_table(tmp_path / "out")
    assert t.schema.field("seq").type == pa.list_(pa.list_(pa.float32(), 2))
    rows = t.column("seq").to_pylist()
    assert rows[0] == [[1, 4], [2, 5], [3, 6]]
    assert rows[1][0] == [7, 8] and np.isnan(rows[1][1][0]) and rows[1][1][1] == 9
    assert rows[2] == []
    assert t.column("label").to_pylist() == ["up", "down", "up"]
    assert m["steps"] == {"type": "float", "channels": 2, "fixed_length": None}


def test_ts_univariate_equal_length(tmp_path):
    (tmp_path / "u.ts").write_text("@univariate true\n@equalLength true\n@seriesLength 3\n@classLabel true 1 2\n@data\n"
                                   "1.5,-2,3e2:1\n0,0,0:2\n")
    ingest(str(tmp_path / "u.ts"), str(tmp_path / "out"))
    t = read_table(tmp_path / "out")
    assert t.schema.field("seq").type == pa.list_(pa.float32())
    assert t.column("seq").to_pylist() == [[1.5, -2.0, 300.0], [0, 0, 0]]
    assert t.column("label").to_pylist() == ["1", "2"]  # class labels are kept as strings


@pytest.mark.parametrize("body, message", [
    ("1,2:3,4:5,6:up\n", r"toy.ts:10: 3 dimensions, but the header says 2"),
    ("1,2:3,4\n", r"toy.ts:10: no class label after the 2 dimension\(s\); @classLabel is true"),
    ("1,x:3,4:up\n", r"toy.ts:10: value 'x' in dimension 1 is not a number \('\?' marks a missing value\)"),
    ("1,2:3,4:sideways\n", r"toy.ts:10: class label 'sideways' is not among those @classLabel declares \(down, up\)"),
    ("1,2:3:up\n", r"toy.ts:10: dimensions have different lengths \(2, 1\)"),
])
def test_ts_errors_name_line_and_value(tmp_path, body, message):
    head = TS_MULTI.split("@data\n")[0] + "@data\n"
    (tmp_path / "toy.ts").write_text(head + body)
    with pytest.raises(InputError, match=message):
        ingest(str(tmp_path / "toy.ts"), str(tmp_path / "out"))
    assert listing(tmp_path) == ["toy.ts"]


@pytest.mark.parametrize("text, message", [
    ("hello\n", r"x.ts:1: expected a @header line or @data"),
    ("@univariate true\n", r"x.ts: no @data line"),
    ("@timeStamps true\n@data\n", r"@timeStamps true is not supported"),
    ("@univariate maybe\n@data\n", r"@univariate 'maybe' must be true or false"),
    ("@equalLength true\n@seriesLength 3\n@classLabel false\n@data\n1,2\n", r"x.ts:5: 2 values, but @seriesLength is 3"),
])
def test_ts_header_errors(tmp_path, text, message):
    (tmp_path / "x.ts").write_text(text)
    with pytest.raises(InputError, match=message):
        ingest(str(tmp_path / "x.ts"), str(tmp_path / "out"))
