"""Ingest never drops, fabricates or silently changes data: every crafted or damaged input ends in
one line (``Error: ...``), exit 1 for data and 2 for options, no traceback, no output, inputs
untouched; and what it does accept, it keeps exactly (labels that start late, int64 extremes)."""

import gzip
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from seqprep.errors import InputError
from seqprep.ingest import IngestOptions, ingest
import seqprep.dataset as dataset
from seqprep.ingest.common import MAX_LINE_BYTES, MAX_SEQ_VALUES

from ..conftest import assert_refused, listing, read_table


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)
    return path


def jsonl(*records) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def save_npy(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, array)


def sparse_npy(path, shape, dtype):
    """An NPY file whose header claims ``shape``; its data is a hole in the file (no disk, no time)."""
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
    del mm


def gz_of_long_line(path, size):
    """A gzip file of one ``size``-byte line: concatenated small members, so it costs nothing to make."""
    member = gzip.compress(b"a" * (1 << 20), compresslevel=1)
    path.write_bytes(member * (size >> 20) + gzip.compress(b"\n"))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Made once: every case only reads it (and checks it is left as it was)."""
    w = tmp_path_factory.mktemp("in")
    # JSON lines
    write(w / "mixed.jsonl", jsonl({"text": "a", "label": 1}, {"text": "b", "label": "x"}))
    write(w / "late_mixed.jsonl", jsonl({"text": "a"}, {"text": "b", "label": "x"}, {"text": "c", "label": 2}))
    write(w / "biglabel.jsonl", jsonl({"text": "a", "label": 2**63}))
    write(w / "bigid.jsonl", jsonl({"text": "a", "k": 2**64}))
    write(w / "bigidstr.jsonl", jsonl({"text": "a", "k": "99999999999999999999"}))
    write(w / "floatid.jsonl", jsonl({"text": "a", "k": 1.5}))
    write(w / "underscoreid.jsonl", jsonl({"text": "a", "k": "1_000"}))
    write(w / "dupid.jsonl", jsonl({"text": "a", "k": -5}, {"text": "b", "k": -5}))
    write(w / "surrogate.jsonl", jsonl({"text": "ok"}, '{"text": "bad \\ud800 here"}'))
    write(w / "surrogatelabel.jsonl", jsonl({"text": "a", "label": "x"}, '{"text": "b", "label": "\\udfff"}'))
    write(w / "deep.jsonl", "[" * 100_000 + "]" * 100_000 + "\n")
    write(w / "digits.jsonl", '{"text": "a", "label": ' + "9" * 5000 + "}\n")
    write(w / "nolabelfield.jsonl", jsonl({"text": "a"}, {"text": "b"}))
    gz_of_long_line(w / "longline.jsonl.gz", MAX_LINE_BYTES + (2 << 20))
    write(w / "cut.jsonl.gz", gzip.compress(jsonl({"text": "a b c"}).encode() * 200)[:-30])
    write(w / "notgzip.jsonl.gz", jsonl({"text": "a"}))
    # CSV
    write(w / "bigid.csv", "id,text\n99999999999999999999,a\n")
    write(w / "underscoreid.csv", "id,text\n1_0,a\n")
    write(w / "duphead.csv", "text,text\na,b\n")
    write(w / "openquote.csv", 'text,label\na,x\n"cut short,y\n')
    write(w / "latin1.csv", b"text\ncaf\xe9\n")
    with gzip.open(w / "hugefield.csv.gz", "wb", compresslevel=1) as f:
        f.write(b'text\n"')
        line = b"x" * ((1 << 20) - 1) + b"\n"
        for _ in range((MAX_LINE_BYTES >> 20) + 2):
            f.write(line)
        f.write(b'"\n')
    # folders of .txt
    write(w / "nested/train/pos/a.txt", "good")
    write(w / "nested/train/neg/b.txt", "bad")
    write(w / "nested/train/urls.txt", "http://x")
    write(w / "stray/pos/a.txt", "good")
    write(w / "stray/neg/b.txt", "bad")
    write(w / "stray/extra.txt", "lost?")
    write(w / "emptylabel/pos/a.txt", "good")
    (w / "emptylabel/neg").mkdir()
    write(w / "notxt/pos/a.txt", "good")
    write(w / "notxt/pos/b.md", "notes")
    write(w / "flatmixed/a.txt", "one")
    write(w / "flatmixed/b.csv", "text\ntwo\n")
    write(w / "bigdoc/pos/a.txt", "")
    os.truncate(w / "bigdoc/pos/a.txt", MAX_LINE_BYTES + 1)  # sparse: no disk, never read
    write(w / "fifodoc/pos/a.txt", "good")
    os.mkfifo(w / "fifodoc/pos/b.txt")
    # FASTA
    write(w / "r.fasta", ">r1 class=x\nACGT\n>r2\nGG\n")
    write(w / "nul.fasta", b">r1\nAC\x00GT\n")
    (w / "labelsdir").mkdir()
    os.mkfifo(w / "labels.fifo")
    # .ts
    ts_head = "@univariate false\n@dimensions {d}\n@classLabel true\n@data\n"
    write(w / "dims0.ts", ts_head.format(d=0) + "1,2:a\n")
    write(w / "dimsabc.ts", ts_head.format(d="abc") + "1,2:a\n")
    write(w / "lenabc.ts", "@seriesLength abc\n@classLabel false\n@data\n1,2\n")
    write(w / "overflow.ts", "@classLabel false\n@data\n1,2\n1e999,2\n")
    write(w / "underscore.ts", "@classLabel false\n@data\n1_0,2\n")
    write(w / "emptylabel.ts", "@classLabel true\n@data\n1,2:\n")
    write(w / "unequal.ts", "@equalLength true\n@classLabel false\n@data\n1,2\n1,2,3\n")
    write(w / "unidims.ts", "@univariate true\n@dimensions 2\n@data\n1,2\n")
    # NPY
    save_npy(w / "u64.npy", np.array([[1, 2], [3, 2**63]], dtype=np.uint64))
    save_npy(w / "u64ids/X.npy", np.zeros((2, 3), np.float32))
    save_npy(w / "u64ids/ids.npy", np.array([2**63, 1], dtype=np.uint64))
    save_npy(w / "u64y/X.npy", np.zeros((2, 3), np.float32))
    save_npy(w / "u64y/y.npy", np.array([0, 2**64 - 1], dtype=np.uint64))
    save_npy(w / "complex.npy", np.zeros((2, 3), np.complex64))
    save_npy(w / "struct.npy", np.zeros((2, 3), dtype=[("a", "<i4"), ("b", "<f4")]))
    save_npy(w / "dims4.npy", np.zeros((1, 2, 3, 4), np.float32))
    save_npy(w / "f64big.npy", np.array([[0.5, 1e300]]))
    save_npy(w / "intchannels.npy", np.array([[[1, 2**30]]], dtype=np.int64))
    sparse_npy(w / "longrow.npy", (1, MAX_SEQ_VALUES + 1), np.int8)
    save_npy(w / "npystray/X.npy", np.zeros((2, 3), np.float32))
    save_npy(w / "npystray/lengths.npy", np.array([3, 1]))
    save_npy(w / "npyboth/X.npy", np.zeros((2, 3), np.float32))
    save_npy(w / "npyboth/values.npy", np.zeros(3, np.float32))
    save_npy(w / "npyfifo/X.npy", np.zeros((2, 3), np.float32))
    os.mkfifo(w / "npyfifo/ids.npy")
    save_npy(w / "booly/X.npy", np.zeros((2, 3), np.float32))
    save_npy(w / "booly/y.npy", np.array([True, False]))
    raw = (w / "u64.npy").read_bytes()
    write(w / "claims.npy", raw[:-8])  # the header claims more data than the file holds
    save_npy(w / "floatoffsets/values.npy", np.zeros(3, np.float32))
    save_npy(w / "floatoffsets/offsets.npy", np.array([0.0, 3.0]))
    save_npy(w / "bigoffsets/values.npy", np.zeros(3, np.float32))
    save_npy(w / "bigoffsets/offsets.npy", np.array([0, 2**64 - 1], dtype=np.uint64))
    # Parquet
    pq.write_table(pa.table({"seq": pa.array([[1], [2**63]], pa.list_(pa.uint64()))}), w / "u64seq.parquet")
    pq.write_table(pa.table({"seq": [[1], [2]], "k": pa.array([1, 2**63], pa.uint64())}), w / "u64id.parquet")
    pq.write_table(pa.table({"seq": [[1], [2]], "label": pa.array([2**64 - 1, 0], pa.uint64())}), w / "u64label.parquet")
    pq.write_table(pa.table({"seq": [[0.5], [1e300]]}), w / "f64seq.parquet")
    pq.write_table(pa.table({"seq": pa.array([[[1, 2**30]]], pa.list_(pa.list_(pa.int64(), 2)))}), w / "intch.parquet")
    pq.write_table(pa.table({"seq": pa.array([[1], None])}), w / "nullseq.parquet")
    pq.write_table(pa.table({"seq": pa.array([[1, None]])}), w / "nullstep.parquet")
    pq.write_table(pa.table({"seq": [[1]], "k": [1.0]}), w / "floatid.parquet")
    pq.write_table(pa.table({"seq": [[1]], "k": ["7"]}), w / "strid.parquet")
    pq.write_table(pa.table({"seq": pa.array([np.zeros(MAX_SEQ_VALUES + 1, np.int8)], pa.list_(pa.int8()))}),
                   w / "bomb.parquet")  # one row of 2**24+1 values in a few hundred bytes
    (w / "hive/year=2020").mkdir(parents=True)
    pq.write_table(pa.table({"seq": [[1]]}), w / "hive/year=2020/a.parquet")
    pq.write_table(pa.table({"seq": [[1]]}), w / "hive/top.parquet")
    (w / "mixedkinds").mkdir()
    pq.write_table(pa.table({"seq": [[1]]}), w / "mixedkinds/a.parquet")
    write(w / "mixedkinds/b.arrow", b"ARROW1")
    os.mkfifo(w / "pipe.parquet")
    # special files and folders
    os.mkfifo(w / "fifo.jsonl")
    write(w / "adir/x.jsonl", jsonl({"text": "a"}))
    return w


CASES = [
    # (arguments, with IN for the inputs folder and OUT for the target; exit code; message)
    # labels: kept, typed once, never guessed
    ("IN/mixed.jsonl OUT", 1, "mixed.jsonl:2: label 'x' is a string but earlier labels are integers"),
    ("IN/late_mixed.jsonl OUT", 1, "late_mixed.jsonl:3: label 2 is an integer but earlier labels are strings"),
    ("IN/nolabelfield.jsonl OUT --label-column y", 1, "nolabelfield.jsonl:1: no 'y' field (fields: text)"),
    # numbers never wrap
    ("IN/biglabel.jsonl OUT", 1, "biglabel.jsonl:1: label 9223372036854775808 does not fit int64"),
    ("IN/bigid.jsonl OUT --id-column k", 1, "bigid.jsonl:1: id 18446744073709551616 does not fit int64"),
    ("IN/bigidstr.jsonl OUT --id-column k", 1, "bigidstr.jsonl:1: id 99999999999999999999 does not fit int64"),
    ("IN/floatid.jsonl OUT --id-column k", 1, "floatid.jsonl:1: id 1.5 in 'k' is not an integer"),
    ("IN/underscoreid.jsonl OUT --id-column k", 1, "underscoreid.jsonl:1: id '1_000' in 'k' is not an integer"),
    ("IN/dupid.jsonl OUT --id-column k", 1, "id -5 appears more than once"),
    ("IN/bigid.csv OUT --id-column id", 1, "bigid.csv:2: id 99999999999999999999 does not fit int64"),
    ("IN/underscoreid.csv OUT --id-column id", 1, "underscoreid.csv:2: id '1_0' in 'id' is not an integer"),
    ("IN/u64.npy OUT", 1, "u64.npy: row 2: value 9223372036854775808 does not fit int64"),
    ("IN/u64ids OUT", 1, "ids.npy: row 1: id 9223372036854775808 does not fit int64"),
    ("IN/u64y OUT", 1, "y.npy: row 2: label 18446744073709551615 does not fit int64"),
    ("IN/f64big.npy OUT", 1, "f64big.npy: row 1: value 1e+300 does not fit float32"),
    ("IN/intchannels.npy OUT", 1, "intchannels.npy: row 1: integer 1073741824 cannot be stored exactly as a float32"),
    ("IN/u64seq.parquet OUT", 1, "u64seq.parquet: row 2: value 9223372036854775808 does not fit int64"),
    ("IN/u64id.parquet OUT --id-column k", 1, "u64id.parquet: row 2: id 9223372036854775808 does not fit int64"),
    ("IN/u64label.parquet OUT", 1, "u64label.parquet: row 1: label 18446744073709551615 does not fit int64"),
    ("IN/f64seq.parquet OUT", 1, "f64seq.parquet: row 2: value 1e+300 does not fit float32"),
    ("IN/intch.parquet OUT", 1, "intch.parquet: row 1: integer 1073741824 cannot be stored exactly"),
    ("IN/floatid.parquet OUT --id-column k", 1, "floatid.parquet: id column 'k' has type double; ids must be integers"),
    ("IN/strid.parquet OUT --id-column k", 1, "strid.parquet: id column 'k' has type string; ids must be integers"),
    ("IN/nullseq.parquet OUT", 1, "nullseq.parquet: row 2: the sequence is null"),
    ("IN/nullstep.parquet OUT", 1, "nullstep.parquet: row 1: a step is null"),
    ("IN/overflow.ts OUT", 1, "overflow.ts:4: value '1e999' in dimension 1 does not fit float32"),
    # text that is not text
    ("IN/surrogate.jsonl OUT", 1, "surrogate.jsonl:2: the text holds '\\ud800', a lone surrogate"),
    ("IN/surrogatelabel.jsonl OUT", 1, "surrogatelabel.jsonl:2: the label holds '\\udfff', a lone surrogate"),
    ("IN/deep.jsonl OUT", 1, "deep.jsonl:1: not valid JSON (nested too deeply)"),
    ("IN/digits.jsonl OUT", 1, "digits.jsonl:1: not valid JSON"),
    ("IN/latin1.csv OUT", 1, "latin1.csv:2: not valid UTF-8"),
    ("IN/openquote.csv OUT", 1, "openquote.csv:3: not valid CSV (unexpected end of data); check the quoting"),
    ("IN/duphead.csv OUT", 1, "duphead.csv:1: the header names 'text' 2 times"),
    ("IN/nul.fasta OUT", 1, "nul.fasta:2: control byte b'\\x00' in the sequence"),
    ("IN/underscore.ts OUT", 1, "underscore.ts:3: value '1_0' in dimension 1 is not a number"),
    ("IN/emptylabel.ts OUT", 1, "emptylabel.ts:3: the class label after the last ':' is empty"),
    ("IN/unequal.ts OUT", 1, "unequal.ts:5: 3 values, but @seriesLength is 2"),
    ("IN/dims0.ts OUT", 1, "dims0.ts: @dimensions '0' must be a whole number from 1"),
    ("IN/dimsabc.ts OUT", 1, "dimsabc.ts: @dimensions 'abc' must be a whole number from 1"),
    ("IN/lenabc.ts OUT", 1, "lenabc.ts: @seriesLength 'abc' must be a whole number"),
    ("IN/unidims.ts OUT", 1, "unidims.ts: @univariate true but @dimensions 2"),
    ("IN/cut.jsonl.gz OUT", 1, "cut.jsonl.gz: not a whole gzip file"),
    ("IN/notgzip.jsonl.gz OUT", 1, "notgzip.jsonl.gz: not a whole gzip file"),
    # options
    ("IN/r.fasta OUT --label-regex ((", 2, "--label-regex '((': not a valid regular expression (missing )"),
    ("IN/mixed.jsonl OUT --tokenizer regex:((", 2, "--tokenizer 'regex:((': not a valid regular expression"),
    ("IN/mixed.jsonl OUT --tokenizer regex:(a)(b)", 2, "the pattern has 2 groups; use at most one"),
    ("IN/mixed.jsonl OUT --tokenizer regex:x*", 2, "the pattern matches the empty string"),
    ("IN/r.fasta OUT --label-regex r\\d(.class=x)?", 1, "r.fasta:3: --label-regex 'r\\d(.class=x)?' matches header 'r2', but its group 1 took no part"),
    ("IN/r.fasta OUT --labels IN/labelsdir", 1, "labelsdir: a folder, but a file is expected here (--labels)"),
    ("IN/r.fasta OUT --labels IN/nolabels.csv", 1, "nolabels.csv: no such file or directory (--labels)"),
    ("IN/r.fasta OUT --labels IN/labels.fifo", 1, "labels.fifo: a FIFO (named pipe), not a regular file (--labels)"),
    # layouts: read exactly, never guessed
    ("IN/nested OUT", 1, "train/neg is a folder inside the label folder 'train'"),
    ("IN/stray OUT --format text", 1, "the file 'extra.txt' lies beside the label folder(s) 'neg', 'pos'"),
    ("IN/emptylabel OUT", 1, "the label folder 'neg' is empty; seqprep reads FOLDER/LABEL/*.txt"),
    ("IN/notxt OUT", 1, "pos/b.md is not a .txt file"),
    ("IN/flatmixed OUT", 1, "'b.csv' is not a .txt file"),
    ("IN/fifodoc OUT", 1, "b.txt: a FIFO (named pipe), not a regular file"),
    ("IN/npystray OUT", 1, "lengths.npy is not part of the layout seqprep reads"),
    ("IN/npyboth OUT", 1, "values.npy is not part of the layout seqprep reads"),
    ("IN/hive OUT", 1, "'year=2020' is a folder; seqprep reads one parquet file, or FOLDER/*.parquet"),
    ("IN/mixedkinds OUT", 1, "'b.arrow' is not a .parquet file"),
    # bounded memory: refused from sizes and metadata, before allocating
    ("IN/longline.jsonl.gz OUT", 1, "longline.jsonl.gz:1: line longer than 67,108,864 bytes"),
    ("IN/hugefield.csv.gz OUT", 1, "not valid CSV (field larger than field limit (67108864))"),
    ("IN/bigdoc OUT", 1, "a.txt: 67,108,865 bytes, more than seqprep reads as one document"),
    ("IN/longrow.npy OUT", 1, "longrow.npy: shape (1, 16777217): 16,777,217 values in one sequence, more than"),
    ("IN/bomb.parquet OUT", 1, "bomb.parquet: row group 0 column 'seq.list.element' holds 16,777,217 values in 1 rows"),
    # NPY oddities
    ("IN/complex.npy OUT", 1, "complex.npy: dtype complex64 is not supported; save integers, floats or strings; save the real"),
    ("IN/struct.npy OUT", 1, "struct.npy: dtype"),
    ("IN/dims4.npy OUT", 1, "dims4.npy: shape (1, 2, 3, 4); expected (N, T) or (N, T, C)"),
    ("IN/booly OUT", 1, "y.npy: dtype bool; labels must be integers or strings"),
    ("IN/claims.npy OUT", 1, "claims.npy: not a valid .npy file"),
    ("IN/floatoffsets OUT", 1, "offsets.npy: offsets must be 1-D integers"),
    ("IN/bigoffsets OUT", 1, "offsets.npy: offsets must be 1-D integers"),
    # special files: refused from stat, never opened
    ("IN/fifo.jsonl OUT", 1, "fifo.jsonl: a FIFO (named pipe), not a regular file"),
    ("/dev/zero OUT --format jsonl", 1, "/dev/zero: a device, not a regular file"),
    ("IN/pipe.parquet OUT", 1, "pipe.parquet: a FIFO (named pipe), not a regular file"),
    ("IN/npyfifo OUT", 1, "ids.npy: a FIFO (named pipe), not a regular file"),
    ("IN/adir OUT --format jsonl", 1, "adir: a folder, but --format jsonl reads one file"),
]


def test_the_matrix_is_big_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("line, code, message", CASES, ids=[c[0].split()[0].replace("IN/", "") + ":" + c[2][:30]
                                                            for c in CASES])
def test_bad_input(cli, world, tmp_path, line, code, message):
    args = ["ingest"] + [a.replace("IN/", f"{world}/").replace("OUT", str(tmp_path / "out"))
                         if a == "OUT" or a.startswith("IN/") else a for a in line.split()]
    assert_refused(cli, world, tmp_path, args, code, message)


# ------------------------------------------------------------------------------------- what is accepted is kept exactly


def test_labels_that_start_late_are_kept_and_missing_ones_counted(tmp_path):
    src = write(tmp_path / "d.jsonl", jsonl({"text": "a"}, {"text": "b"}, {"text": "c", "label": "x"},
                                           {"text": "d", "label": None}, {"text": "e", "label": "y"}))
    m = ingest(str(src), str(tmp_path / "out"), options=IngestOptions(batch_rows=2))  # labels start in batch 2
    t = read_table(tmp_path / "out")
    assert t.column("label").to_pylist() == [None, None, "x", None, "y"]
    assert t.column("seq").to_pylist() == [["a"], ["b"], ["c"], ["d"], ["e"]]
    assert m["labels"] == {"type": "string", "counts": {"x": 1, "y": 1}, "nulls": 3}
    assert m["layout"] == "one jsonl file"


def test_late_integer_labels_keep_their_type(tmp_path):
    src = write(tmp_path / "d.jsonl", jsonl({"text": "a"}, {"text": "b", "label": 2**63 - 1}, {"text": "c", "label": -(2**63)}))
    m = ingest(str(src), str(tmp_path / "out"), options=IngestOptions(batch_rows=1))
    t = read_table(tmp_path / "out")
    assert t.schema.field("label").type == pa.int64()
    assert t.column("label").to_pylist() == [None, 2**63 - 1, -(2**63)]
    assert m["labels"]["nulls"] == 1


def test_a_late_label_on_stdin_is_refused_not_dropped(cli, tmp_path):
    result = cli("ingest", "-", tmp_path / "out", "--format", "jsonl",
                 input=jsonl({"text": "a"}, {"text": "b", "label": "x"}).encode())
    assert result.exit_code == 1
    assert result.stderr.strip() == ("Error: stdin:2: has a 'label' field, but the first record (read from stdin) "
                                     "has none; give the file by its path, or a label in every record")
    assert not (tmp_path / "out").exists()


def test_csv_empty_label_cells_are_null_and_counted(tmp_path):
    src = write(tmp_path / "d.csv", "id,text,label\n-9223372036854775808,a,x\n9223372036854775807,b,\n+3,c,y\n")
    m = ingest(str(src), str(tmp_path / "out"), options=IngestOptions(id_column="id"))
    t = read_table(tmp_path / "out")
    assert t.column("id").to_pylist() == [-(2**63), 2**63 - 1, 3]
    assert t.column("label").to_pylist() == ["x", None, "y"]
    assert m["labels"]["nulls"] == 1


def test_bom_crlf_nul_and_wide_characters_are_kept(tmp_path):
    src = write(tmp_path / "d.jsonl", b'\xef\xbb\xbf{"text": "a\\u0000b caf\xc3\xa9", "label": "x"}\r\n{"text": "\xf0\x9f\x99\x82"}\r\n')
    ingest(str(src), str(tmp_path / "out"), options=IngestOptions(tokenizer="char"))
    t = read_table(tmp_path / "out")
    assert t.column("seq").to_pylist() == [["a", "\0", "b", " ", "c", "a", "f", "\u00e9"], ["\U0001f642"]]
    assert t.column("label").to_pylist() == ["x", None]


def test_numbers_that_fit_are_kept_exactly(tmp_path):
    big = 2**63 - 1
    pq.write_table(pa.table({"seq": pa.array([[0, big]], pa.list_(pa.uint64())), "k": pa.array([big], pa.uint64()),
                             "label": pa.array([7], pa.int8()).dictionary_encode()}), tmp_path / "a.parquet")
    ingest(str(tmp_path / "a.parquet"), str(tmp_path / "p"), options=IngestOptions(id_column="k"))
    t = read_table(tmp_path / "p")
    assert t.column("seq").to_pylist() == [[0, big]] and t.column("id").to_pylist() == [big]
    assert t.schema.field("label").type == pa.int64() and t.column("label").to_pylist() == [7]

    d = tmp_path / "npy"
    save_npy(d / "X.npy", np.asfortranarray(np.array([[1.5, -2.0], [3.0, 1e30]], dtype=">f8")))
    save_npy(d / "ids.npy", np.array([big, 0], dtype=np.uint64))
    save_npy(d / "y.npy", np.array([-1, 2**40], dtype=">i8"))
    m = ingest(str(d), str(tmp_path / "n"))
    t = read_table(tmp_path / "n")
    assert t.column("seq").to_pylist() == [[1.5, -2.0], [3.0, np.float32(1e30).item()]]
    assert t.column("id").to_pylist() == [big, 0] and t.column("label").to_pylist() == [-1, 2**40]
    assert m["layout"].startswith("NPY folder: X.npy")


def test_ts_numbers_are_parsed_strictly_and_exactly(tmp_path):
    src = write(tmp_path / "x.ts", "@classLabel false\n@data\n1., .5 ,?,inf,-Infinity,1e3,-2E-1\n")
    ingest(str(src), str(tmp_path / "out"))
    got = read_table(tmp_path / "out").column("seq").to_pylist()[0]
    assert got[:2] == [1.0, 0.5] and np.isnan(got[2]) and got[3:6] == [float("inf"), float("-inf"), 1000.0]
    assert got[6] == np.float32(-0.2).item()


def test_text_layouts_are_named_and_hidden_files_skipped(tmp_path):
    write(tmp_path / "t/pos/a.txt", "good fun")
    write(tmp_path / "t/neg/b.txt", "bad")
    write(tmp_path / "t/neg/.DS_Store", b"\0\1")
    write(tmp_path / "t/.hidden", "x")
    m = ingest(str(tmp_path / "t"), str(tmp_path / "out"))
    assert m["layout"] == "FOLDER/LABEL/*.txt (labelled by folder)"
    t = read_table(tmp_path / "out")
    assert t.column("name").to_pylist() == ["neg/b.txt", "pos/a.txt"] and t.column("label").to_pylist() == ["neg", "pos"]
    write(tmp_path / "flat/a.txt", "one two")
    m = ingest(str(tmp_path / "flat"), str(tmp_path / "out2"))
    assert m["layout"] == "FOLDER/*.txt (unlabelled)" and read_table(tmp_path / "out2").column_names == ["id", "seq", "name"]


def test_a_parquet_folder_skips_only_marker_files(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    pq.write_table(pa.table({"seq": [[1]]}), d / "b.parquet")
    pq.write_table(pa.table({"seq": [[2]]}), d / "a.parquet")
    write(d / "_SUCCESS", "")
    write(d / ".part.crc", "x")
    m = ingest(str(d), str(tmp_path / "out"))
    assert read_table(tmp_path / "out").column("seq").to_pylist() == [[2], [1]]
    assert m["layout"] == "FOLDER/*.parquet (files in name order)"
    assert listing(d) == [".part.crc", "_SUCCESS", "a.parquet", "b.parquet"]


def test_a_decompression_bomb_is_refused_from_metadata(tmp_path, monkeypatch):
    """100 rows of 40,000 zeros: no row is too long, but the column expands far past its stored
    bytes. (The real floor is BATCH_VALUES values; made small here so the file is too.)"""
    rows, length = 100, 40_000
    seq = pa.ListArray.from_arrays(pa.array(np.arange(rows + 1, dtype=np.int32) * length),
                                   pa.array(np.zeros(rows * length, np.int8)))
    pq.write_table(pa.table({"seq": seq}), tmp_path / "z.parquet")
    monkeypatch.setattr(dataset, "BATCH_VALUES", 1000)
    with pytest.raises(InputError, match=r"z.parquet: row group 0 column 'seq.list.element' expands .* stored bytes "
                                        r"into 4,000,000 values, more than 1024-fold"):
        ingest(str(tmp_path / "z.parquet"), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
