"""Issue 16: data in the layouts users have. Numbers in CSV/TSV and JSON lines (text of numbers,
JSON lists, per-step channels, wide CSV), columns by name, stdin sniffed, folder layouts and
seqprep's own NPY exports; each read exactly, with what was inferred named in ``layout`` and
``columns``, and every refusal one line naming file, line and column."""

import gzip
import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from seqprep.errors import InputError
from seqprep.ingest import IngestOptions, ingest
from seqprep.ingest.common import sniffed_stdin

from ..conftest import assert_refused, read_table
from .test_safety_ingest import jsonl, write


def run(src, out, **options):
    return ingest(str(src), str(out), options=IngestOptions(**options))


def rows(out):
    t = read_table(out)
    return {name: t.column(name).to_pylist() for name in t.column_names}


# ------------------------------------------------------------------------------------- numbers in CSV / JSON lines


def test_csv_column_of_numbers_reads_as_float32_readings(tmp_path):
    src = write(tmp_path / "d.csv", 'text,label\n"1.5 2 3",x\n-4e1,y\n"  nan  .5 ",x\n')
    m = run(src, tmp_path / "o")
    t = read_table(tmp_path / "o")
    assert t.schema.field("seq").type == pa.list_(pa.float32())
    got = t.column("seq").to_pylist()
    assert got[:2] == [[1.5, 2.0, 3.0], [-40.0]] and np.isnan(got[2][0]) and got[2][1] == 0.5
    assert m["layout"] == "one csv file, 'text' as float32 readings"
    assert m["columns"] == {"seq": "text", "label": "label", "read": "float32 readings"}


def test_sep_as_ids_and_tsv(tmp_path):
    src = write(tmp_path / "d.tsv", "seq\tlabel\n3;1;4\t0\n1;5\t1\n\t1\n")
    m = run(src, tmp_path / "o", sep=";", as_ids=True)
    t = read_table(tmp_path / "o")
    assert t.schema.field("seq").type == pa.list_(pa.int64())
    assert rows(tmp_path / "o")["seq"] == [[3, 1, 4], [1, 5], []]
    assert m["layout"] == "one csv file, 'seq' as int64 token ids"


def test_a_text_column_stays_text_unless_every_row_is_numbers(tmp_path):
    # row 3 is words: the whole column is text, exactly as before issue 16
    src = write(tmp_path / "d.csv", "text,label\n1 2 3,x\n4 5,y\nnot numbers,x\n")
    m = run(src, tmp_path / "o", batch_rows=1)
    assert rows(tmp_path / "o")["seq"] == [["1", "2", "3"], ["4", "5"], ["not", "numbers"]]
    assert m["layout"] == "one csv file" and m["columns"] == {"seq": "text", "label": "label", "read": "text tokens"}
    # and --as-text keeps numbers as tokens
    src = write(tmp_path / "n.csv", "text\n1 2\n")
    m = run(src, tmp_path / "o2", as_text=True)
    assert rows(tmp_path / "o2")["seq"] == [["1", "2"]] and m["layout"] == "one csv file"


def test_jsonl_lists_channels_and_text_of_numbers(tmp_path):
    src = write(tmp_path / "d.jsonl", jsonl({"seq": [[1, 2], [3.5, -4]], "label": 1, "id": 70},
                                           {"seq": [[5, 6e-1]], "label": 0, "id": 9},
                                           {"seq": [], "label": 1, "id": 3}))
    m = run(src, tmp_path / "o")
    t = read_table(tmp_path / "o")
    assert t.schema.field("seq").type == pa.list_(pa.list_(pa.float32(), 2))
    assert t.column("seq").to_pylist() == [[[1.0, 2.0], [3.5, -4.0]], [[5.0, np.float32(0.6).item()]], []]
    assert t.column("id").to_pylist() == [70, 9, 3] and t.column("label").to_pylist() == [1, 0, 1]
    assert m["layout"] == "one jsonl file, 'seq' as float32 readings (2 channels a step); ids from 'id'"
    assert m["columns"] == {"seq": "seq", "label": "label", "id": "id", "read": "float32 readings (2 channels a step)"}

    src = write(tmp_path / "f.jsonl", jsonl({"text": [1, 2, 3]}, {"text": "4 5"}, {"text": "[6]"}))
    run(src, tmp_path / "o2")
    assert rows(tmp_path / "o2")["seq"] == [[1.0, 2.0, 3.0], [4.0, 5.0], [6.0]]


def test_wide_csv_detected_with_variable_length_rows(tmp_path):
    header = "label," + ",".join(f"t{i}" for i in range(60))
    full = "a," + ",".join(str(i / 2) for i in range(60))
    short = "b,1,2,3" + "," * 57  # trailing empty cells end the series
    src = write(tmp_path / "w.csv", f"{header}\n{full}\n{short}\nc,7\n")
    m = run(src, tmp_path / "o")
    r = rows(tmp_path / "o")
    assert r["seq"] == [[i / 2 for i in range(60)], [1.0, 2.0, 3.0], [7.0]] and r["label"] == ["a", "b", "c"]
    assert m["layout"] == "one csv file, wide: 60 numbered columns (t0..t59) as float32 readings"
    assert m["columns"] == {"label": "label", "seq": "60 numbered columns (t0..t59)", "read": "float32 readings"}


@pytest.mark.parametrize("header, note", [
    ("id,class,0,1,2", "3 numbered columns (0..2) as float32 readings; labels from 'class'; ids from 'id'"),
    ("att1,att2,att3,target", "3 numbered columns (att1..att3) as float32 readings; labels from 'target'"),
])
def test_wide_headers(tmp_path, header, note):
    first = "5,x,1,2,3" if header.startswith("id") else "1,2,3,x"
    m = run(write(tmp_path / "w.csv", f"{header}\n{first}\n"), tmp_path / "o")
    assert m["layout"] == "one csv file, wide: " + note
    assert rows(tmp_path / "o")["seq"] == [[1.0, 2.0, 3.0]]


def test_explicit_wide_with_ids_as_tokens(tmp_path):
    m = run(write(tmp_path / "w.csv", "y,v1,v2\n0,10,11\n1,12,\n"), tmp_path / "o", wide=True, as_ids=True,
            label_column="y")
    assert rows(tmp_path / "o") == {"id": [0, 1], "seq": [[10, 11], [12]], "label": ["0", "1"]}
    assert m["layout"] == "one csv file, wide: 2 numbered columns (v1..v2) as int64 token ids; labels from 'y'"


# ------------------------------------------------------------------------------------- columns by name


def test_parquet_with_id_seq_label_just_works(tmp_path):
    pq.write_table(pa.table({"id": [10, 20], "seq": [[1, 2], [3]], "label": ["a", "b"]}), tmp_path / "d.parquet")
    m = run(tmp_path / "d.parquet", tmp_path / "o")
    assert rows(tmp_path / "o") == {"id": [10, 20], "seq": [[1, 2], [3]], "label": ["a", "b"]}
    assert m["layout"] == "one parquet file, ids from 'id'"
    assert m["columns"] == {"seq": "seq", "label": "label", "id": "id"}
    m = run(tmp_path / "d.parquet", tmp_path / "o2", id_column="id")  # the flag says the same
    assert rows(tmp_path / "o2")["id"] == [10, 20]
    pq.write_table(pa.table({"text": ["a b", "c"], "k": [1, 2]}), tmp_path / "t.parquet")
    m = run(tmp_path / "t.parquet", tmp_path / "o3")
    assert rows(tmp_path / "o3") == {"id": [0, 1], "seq": [["a", "b"], ["c"]], "k": [1, 2]}
    assert m["layout"] == "one parquet file, 'text' as text tokens"


def test_csv_and_jsonl_ids_by_name_and_row_ids(tmp_path):
    src = write(tmp_path / "d.csv", "id,text,label\n7,a b,x\n3,c,y\n")
    m = run(src, tmp_path / "o")
    assert rows(tmp_path / "o")["id"] == [7, 3] and m["layout"] == "one csv file, ids from 'id'"
    m = run(src, tmp_path / "o2", row_ids=True)
    assert rows(tmp_path / "o2")["id"] == [0, 1] and m["layout"] == "one csv file"
    src = write(tmp_path / "d.jsonl", jsonl({"id": 5, "text": "a", "y": "p"}))
    m = run(src, tmp_path / "o3", label_column="y")
    assert rows(tmp_path / "o3") == {"id": [5], "seq": [["a"]], "label": ["p"]}
    assert m["layout"] == "one jsonl file, labels from 'y'; ids from 'id'"


# ------------------------------------------------------------------------------------- stdin


def sniff(data: bytes):
    with sniffed_stdin(io.BytesIO(data)) as (stream, fmt, gz, empty):
        return fmt, gz, empty, stream.read()


def test_stdin_is_sniffed_from_its_first_bytes():
    doc = b'  \n{"text": "a"}\n'
    assert sniff(doc) == ("jsonl", False, False, doc)
    assert sniff(b"\xef\xbb\xbf" + doc)[0] == "jsonl"
    assert sniff(gzip.compress(doc)) == ("jsonl", True, False, doc)
    assert sniff(b"\xff\xff\xff\xff\x10\x00") [:2] == ("arrow", False)
    assert sniff(b"text,label\n")[0] is None
    assert sniff(b"") == (None, False, True, b"")
    assert sniff(b" " * 100_000)[0] is None  # only spaces in the first 64 KiB: not guessed


def test_stdin_jsonl_gzip_and_arrow(cli, tmp_path):
    docs = jsonl({"text": "a b", "label": "x"}, {"text": "c", "label": "y"}).encode()
    for name, data in (("plain", docs), ("gz", gzip.compress(docs))):
        result = cli("ingest", "-", tmp_path / name, input=data)
        assert result.exit_code == 0, result.stderr
        assert rows(tmp_path / name)["seq"] == [["a", "b"], ["c"]]
    assert "read as jsonl on stdin (gzip, sniffed)" in result.stderr
    csv = b"text,label\n1 2,x\n3,y\n"
    result = cli("ingest", "-", tmp_path / "csv", "--format", "csv", input=gzip.compress(csv))
    assert result.exit_code == 0, result.stderr
    assert rows(tmp_path / "csv")["seq"] == [[1.0, 2.0], [3.0]]
    stream = cli("ingest", "-", "-", input=docs).stdout_bytes
    result = cli("ingest", "-", tmp_path / "arrow", input=gzip.compress(stream))
    assert result.exit_code == 0, result.stderr
    assert rows(tmp_path / "arrow")["label"] == ["x", "y"]


def test_stdin_numbers_are_decided_by_the_first_batch_and_then_held(tmp_path, monkeypatch):
    data = jsonl({"text": "1 2"}, {"text": "3"}, {"text": "four"}).encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    with pytest.raises(InputError, match=r"^stdin:3: column 'text': value 'four' is not a number; fix the cell, "
                                         r"or pass --as-text"):
        run("-", tmp_path / "o", batch_rows=2)
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------------------------- folder layouts


@pytest.fixture
def imdb(tmp_path):
    for split, label, name, text in (("train", "pos", "1", "great"), ("train", "neg", "2", "awful"),
                                     ("test", "pos", "3", "fine"), ("test", "neg", "4", "dull")):
        write(tmp_path / "imdb" / split / label / f"{name}.txt", text)
    return tmp_path / "imdb"


def test_split_label_layout(imdb, tmp_path):
    m = run(imdb, tmp_path / "o", split="train")
    assert rows(tmp_path / "o") == {"id": [0, 1], "seq": [["awful"], ["great"]], "label": ["neg", "pos"],
                                    "name": ["train/neg/2.txt", "train/pos/1.txt"]}
    assert m["layout"] == "FOLDER/SPLIT/LABEL/*.txt (split 'train', labelled by folder)"
    m = run(imdb / "test", tmp_path / "o2")  # the split folder itself: LABEL/*.txt
    assert rows(tmp_path / "o2")["label"] == ["neg", "pos"] and m["layout"] == "FOLDER/LABEL/*.txt (labelled by folder)"


def test_flat_folder_with_labels_csv(tmp_path):
    write(tmp_path / "docs/a.txt", "one")
    write(tmp_path / "docs/b.txt", "two words")
    labels = write(tmp_path / "labels.csv", "file,label\na,pos\nb.txt,neg\nc,pos\n")
    m = run(tmp_path / "docs", tmp_path / "o", labels=str(labels))
    assert rows(tmp_path / "o") == {"id": [0, 1], "seq": [["one"], ["two", "words"]], "label": ["pos", "neg"],
                                    "name": ["a.txt", "b.txt"]}
    assert m["layout"] == "FOLDER/*.txt, labelled by labels.csv (file name to label)"


# ------------------------------------------------------------------------------------- seqprep's NPY exports


def export(path, x, lengths, side, classes=None, y=None, ids=None, **meta):
    path.mkdir(parents=True)
    np.save(path / "X.npy", np.asarray(x))
    np.save(path / "lengths.npy", np.asarray(lengths, np.int32))
    if y is not None:
        np.save(path / "y.npy", np.asarray(y, np.int64))
    if ids is not None:
        np.save(path / "ids.npy", np.asarray(ids, np.int64))
    padding = None if side is None else {"length": np.asarray(x).shape[1], "side": side, "value": 0}
    meta = {"format": "seqprep-npy", "version": 1, "rows": len(lengths), "classes": classes, "padding": padding,
            **meta}
    (path / "meta.json").write_text(json.dumps(meta))
    return path


def test_npy_export_read_back(tmp_path):
    x = np.array([[0, 0, 5, 6], [1, 2, 3, 4], [0, 0, 0, 9]], np.int32)
    d = export(tmp_path / "e", x, [2, 4, 1], "start", classes=["10", "2"], y=[1, -1, 0], ids=[40, 41, 42])
    m = run(d, tmp_path / "o")
    t = read_table(tmp_path / "o")
    assert t.schema.field("seq").type == pa.list_(pa.int32())
    assert rows(tmp_path / "o") == {"id": [40, 41, 42], "seq": [[5, 6], [1, 2, 3, 4], [9]], "label": ["2", None, "10"]}
    assert m["layout"] == ("seqprep NPY export (X.npy, lengths.npy, y.npy, ids.npy, meta.json; padding at the start "
                           "dropped by lengths.npy)")
    x = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    d = export(tmp_path / "e2", x, [1, 3], "end", classes=[0, 7], y=[1, 0])
    run(d, tmp_path / "o2")
    assert rows(tmp_path / "o2") == {"id": [0, 1], "seq": [[[0.0, 1.0]], [[6.0, 7.0], [8.0, 9.0], [10.0, 11.0]]],
                                     "label": [7, 0]}


def test_npy_export_made_by_seqprep_round_trips(cli, tmp_path):
    pq.write_table(pa.table({"seq": [[1.5, 2.0, 3.0], [4.0]], "label": ["x", "y"]}), tmp_path / "d.parquet")
    assert cli("ingest", tmp_path / "d.parquet", tmp_path / "ds").exit_code == 0
    result = cli("truncate", tmp_path / "ds", tmp_path / "npy", "--length", "2", "--format", "npy", "--keep", "start")
    assert result.exit_code == 0, result.stderr
    result = cli("ingest", tmp_path / "npy", tmp_path / "back")
    assert result.exit_code == 0, result.stderr
    assert rows(tmp_path / "back") == {"id": [0, 1], "seq": [[1.5, 2.0], [4.0]], "label": ["x", "y"]}


# ------------------------------------------------------------------------------------- refusals


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = tmp_path_factory.mktemp("in16")
    write(w / "badcell.csv", "label,t0,t1,t2\na,1,2,3\nb,1,x,3\n")
    write(w / "gap.csv", "label,t0,t1,t2\na,1,,3\n")
    write(w / "widestray.csv", "label,name,t0,t1\na,n,1,2\n")
    write(w / "nonumbered.csv", "label,a,b\nx,1,2\n")
    write(w / "big.csv", "text\n1e39\n")
    write(w / "bigint.csv", "text\n16777217\n")
    write(w / "float.csv", "text\n1.5 2\n")
    write(w / "emptysep.csv", 'text\n"1,,2"\n')
    write(w / "strid.csv", "id,text\ndoc_1,a\n")
    write(w / "ragged.jsonl", jsonl({"seq": [[1, 2], [3]]}))
    write(w / "chanmix.jsonl", jsonl({"seq": [[1, 2]]}, {"seq": [1, 2]}))
    write(w / "listtext.jsonl", jsonl({"text": "a b"}, {"text": [1, 2]}))
    write(w / "strlist.jsonl", jsonl({"text": "[1, 2"}))
    write(w / "noid.jsonl", jsonl({"text": "a", "id": 1}, {"text": "b"}))
    write(w / "floatids.jsonl", jsonl({"seq": [1.5]}))
    write(w / "imdb/train/pos/a.txt", "x")
    write(w / "imdb/test/neg/b.txt", "y")
    write(w / "labelled/pos/a.txt", "x")
    write(w / "flat/a.txt", "x")
    write(w / "flat/b.txt", "y")
    write(w / "partial.csv", "a,pos\n")
    save = np.save
    (w / "exp").mkdir()
    save(w / "exp/X.npy", np.zeros((2, 3), np.float32))
    save(w / "exp/lengths.npy", np.array([3, 4], np.int32))
    (w / "exp/meta.json").write_text(json.dumps({"format": "seqprep-npy", "padding": {"side": "end"}, "classes": None}))
    (w / "expnoside").mkdir()
    save(w / "expnoside/X.npy", np.zeros((2, 3), np.float32))
    save(w / "expnoside/lengths.npy", np.array([3, 1], np.int32))
    (w / "expnoside/meta.json").write_text(json.dumps({"format": "seqprep-npy", "padding": None, "classes": None}))
    (w / "expy").mkdir()
    save(w / "expy/X.npy", np.zeros((2, 3), np.float32))
    save(w / "expy/lengths.npy", np.array([3, 3], np.int32))
    save(w / "expy/y.npy", np.array([0, 2]))
    (w / "expy/meta.json").write_text(json.dumps({"format": "seqprep-npy", "padding": None, "classes": ["a", "b"]}))
    (w / "expother").mkdir()
    save(w / "expother/X.npy", np.zeros((2, 3), np.float32))
    (w / "expother/meta.json").write_text(json.dumps({"format": "other"}))
    return w


CASES = [
    ("IN/badcell.csv OUT", 1, "badcell.csv:3: column 't1': value 'x' is not a number; fix the cell, or pass --as-text"),
    ("IN/gap.csv OUT", 1, "gap.csv:2: column 't1' is empty, but later cells of the row hold values"),
    ("IN/widestray.csv OUT --wide", 1, "widestray.csv:1: column 'name' is neither one of the numbered columns (t0..t1)"),
    ("IN/widestray.csv OUT", 1, "widestray.csv:1: no 'text' column in the header (label, name, t0, t1); name it with "
                                "--text-column; or pass --wide"),
    ("IN/nonumbered.csv OUT --wide", 1, "nonumbered.csv:1: --wide, but the header has no run of numbered columns"),
    ("IN/big.csv OUT", 1, "big.csv:2: column 'text': value '1e39' does not fit float32"),
    ("IN/bigint.csv OUT", 1, "bigint.csv:2: column 'text': integer 16777217 cannot be stored exactly as a float32"),
    ("IN/float.csv OUT --as-ids", 1, "float.csv:2: column 'text': value '1.5' is not an integer, but --as-ids"),
    ("IN/emptysep.csv OUT --sep ,", 1, "emptysep.csv:2: column 'text': an empty value; write NaN"),
    ("IN/strid.csv OUT", 1, "strid.csv:2: id 'doc_1' in 'id' is not an integer; ids must be int64; or pass --row-ids"),
    ("IN/ragged.jsonl OUT", 1, "ragged.jsonl:1: column 'seq': [[1, 2], [3]] is neither a list of numbers nor"),
    ("IN/chanmix.jsonl OUT", 1, "chanmix.jsonl:2: column 'seq' has one value a step, but earlier rows have 2 channels"),
    ("IN/listtext.jsonl OUT", 1, "listtext.jsonl:2: 'text' holds a list, but other rows of it are text"),
    ("IN/listtext.jsonl OUT --as-text --as-ids", 2, "give --as-text or --as-ids, not both"),
    ("IN/strlist.jsonl OUT --as-ids", 1, "strlist.jsonl:1: column 'text': '[1, 2' is not a JSON list of numbers"),
    ("IN/noid.jsonl OUT", 1, "noid.jsonl:2: no 'id' field for the ids; the first record has one"),
    ("IN/floatids.jsonl OUT --as-ids", 1, "floatids.jsonl:1: column 'seq': value 1.5 is not an integer"),
    ("IN/noid.jsonl OUT --id-column id --row-ids", 2, "give --id-column or --row-ids, not both"),
    ("IN/noid.jsonl OUT --split train", 2, "--split applies to folders of .txt files"),
    ("IN/imdb OUT", 1, "imdb: holds the splits test, train, each a folder of label folders (FOLDER/SPLIT/LABEL/*.txt); "
                       "choose one with --split (e.g. --split test)"),
    ("IN/imdb OUT --split dev", 1, "imdb: no split 'dev' here (splits: test, train); check --split"),
    ("IN/labelled OUT --split train", 1, "labelled: --split train, but this folder holds label folders (pos)"),
    ("IN/labelled OUT --labels IN/partial.csv", 1, "labelled: --labels, but the files here are in folders"),
    ("IN/flat OUT --labels IN/partial.csv", 1, "b.txt: no label for 'b.txt' (nor 'b') in"),
    ("IN/flat OUT --split train", 1, "flat: --split train, but this folder holds .txt files, not split folders"),
    ("IN/exp OUT", 1, "lengths.npy: row 2: length 4 is outside 0..3; export the data again"),
    ("IN/expnoside OUT", 1, "lengths.npy: row 2 has 1 real steps of 3, but meta.json names no padding side"),
    ("IN/expy OUT", 1, "y.npy: class index 2 is outside -1..1 (meta.json lists 2 classes)"),
    ("IN/expother OUT", 1, "meta.json: not a seqprep NPY export's meta.json"),
    ("- OUT", 2, "stdin does not start like an Arrow IPC stream (0xFFFFFFFF) or JSON lines ({); pass --format"),
]


@pytest.mark.parametrize("line, code, message", CASES, ids=[c[0].split()[0].replace("IN/", "") + ":" + c[2][:30]
                                                            for c in CASES])
def test_refused(cli, world, tmp_path, line, code, message):
    args = ["ingest"] + [a.replace("IN/", f"{world}/").replace("OUT", str(tmp_path / "out"))
                         if a == "OUT" or a.startswith("IN/") else a for a in line.split()]
    assert_refused(cli, world, tmp_path, args, code, message,
                   input=b"text,label\na,b\n" if args[1] == "-" else None)