import gzip
import json

import pyarrow as pa
import pytest

from seqprep.errors import InputError, UsageError
from seqprep.ingest import IngestOptions, ingest
from seqprep.ingest.text import tokenize

from ..conftest import listing, manifest, read_table


def opts(**kw) -> IngestOptions:
    return IngestOptions(**kw)


@pytest.mark.parametrize("tokenizer, lowercase, expected", [
    ("whitespace", False, [["The", "cat", "sat"], [], [], ["a", "b"]]),
    ("whitespace", True, [["the", "cat", "sat"], [], [], ["a", "b"]]),
    ("char", False, [list("The cat  sat"), [], [], list(" a\tb ")]),
    (r"regex:\w+", False, [["The", "cat", "sat"], [], [], ["a", "b"]]),
    (r"regex:c(\w)", False, [["a"], [], [], []]),
])
def test_tokenize(tokenizer, lowercase, expected):
    docs = pa.array(["The cat  sat", "", None, " a\tb "])
    assert tokenize(docs, tokenizer=tokenizer, lowercase=lowercase).to_pylist() == expected


def test_tokenize_unicode_whitespace_and_letters():
    out = tokenize(pa.array(["café\u00a0naïve\u3000日本"]), tokenizer="whitespace")
    assert out.to_pylist() == [["café", "naïve", "日本"]]
    assert tokenize(pa.array(["日本"]), tokenizer="char").to_pylist() == [["日", "本"]]


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_jsonl(tmp_path):
    src = write_jsonl(tmp_path / "docs.jsonl", [
        {"text": "good film", "label": "pos"}, {"text": "", "label": "neg"}, {"text": "bad  bad film", "label": "neg"}])
    m = ingest(str(src), str(tmp_path / "out"))
    t = read_table(tmp_path / "out")
    assert t.column_names == ["id", "seq", "label"]
    assert t.column("id").to_pylist() == [0, 1, 2]
    assert t.column("seq").to_pylist() == [["good", "film"], [], ["bad", "bad", "film"]]
    assert t.column("label").to_pylist() == ["pos", "neg", "neg"]
    assert m["rows"] == 3 and m["labels"]["counts"] == {"neg": 2, "pos": 1}
    assert m["lengths"] == {"min": 0, "median": 2.0, "mean": 1.667, "p95": 3, "p99": 3, "max": 3, "total": 5}
    assert m["lineage"][0]["command"] == "ingest" and m["lineage"][0]["params"]["format"] == "jsonl"


def test_jsonl_columns_ids_and_integer_labels(tmp_path):
    src = write_jsonl(tmp_path / "d.jsonl", [{"body": "x y", "y": 1, "doc": 10}, {"body": "z", "y": 0, "doc": 4}])
    ingest(str(src), str(tmp_path / "out"), options=opts(text_column="body", label_column="y", id_column="doc"))
    t = read_table(tmp_path / "out")
    assert t.column("id").to_pylist() == [10, 4]
    assert t.schema.field("label").type == pa.int64() and t.column("label").to_pylist() == [1, 0]


def test_jsonl_without_labels_and_gzip(tmp_path):
    src = tmp_path / "d.jsonl.gz"
    with gzip.open(src, "wt") as f:
        f.write(json.dumps({"text": "a b"}) + "\n\n" + json.dumps({"text": "c"}) + "\n")
    m = ingest(str(src), str(tmp_path / "out"))
    assert m["labels"] is None and read_table(tmp_path / "out").column_names == ["id", "seq"]


def test_shards_are_cut_by_rows(tmp_path):
    src = write_jsonl(tmp_path / "d.jsonl", [{"text": f"w{i}"} for i in range(7)])
    m = ingest(str(src), str(tmp_path / "out"), options=opts(shard_rows=3, batch_rows=2))
    assert [s["rows"] for s in m["shards"]] == [3, 3, 1]
    assert read_table(tmp_path / "out").column("id").to_pylist() == list(range(7))


def test_empty_file_gives_an_empty_dataset(tmp_path):
    src = tmp_path / "empty.jsonl"
    src.write_text("")
    m = ingest(str(src), str(tmp_path / "out"))
    assert m["rows"] == 0 and m["lengths"]["max"] is None
    assert read_table(tmp_path / "out").schema.field("seq").type == pa.list_(pa.string())


@pytest.mark.parametrize("lines, message", [
    (['{"text": "a", "label": "x"}', '{"text": "b", "label": '], r"d.jsonl:2: not valid JSON \(Expecting value at column 24\)"),
    (['[1, 2]'], r"d.jsonl:1: expected a JSON object per line, got list"),
    (['{"body": "a"}'], r"d.jsonl:1: no 'text' field \(fields: body\); name it with --text-column"),
    (['{"text": 5}'], r"d.jsonl:1: 'text' is int, not text"),
    (['{"text": "a", "label": "x"}', '{"text": "b", "label": 3}'], r"d.jsonl:2: label 3 is an integer but earlier labels are strings"),
    (['{"text": "a", "label": 1.5}'], r"d.jsonl:1: label 1.5 must be a string or an integer"),
])
def test_jsonl_errors_name_the_line(tmp_path, lines, message):
    src = tmp_path / "d.jsonl"
    src.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=message):
        ingest(str(src), str(tmp_path / "out"))
    assert listing(tmp_path) == ["d.jsonl"]  # nothing written, no temporaries left


def test_jsonl_invalid_utf8(tmp_path):
    src = tmp_path / "d.jsonl"
    src.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n')
    with pytest.raises(InputError, match=r"d.jsonl:2: not valid UTF-8"):
        ingest(str(src), str(tmp_path / "out"))


def test_jsonl_duplicate_and_null_ids(tmp_path):
    src = write_jsonl(tmp_path / "d.jsonl", [{"text": "a", "k": 1}, {"text": "b", "k": 1}])
    with pytest.raises(InputError, match="id 1 appears more than once"):
        ingest(str(src), str(tmp_path / "out"), options=opts(id_column="k"))
    src = write_jsonl(tmp_path / "e.jsonl", [{"text": "a", "k": "x"}])
    with pytest.raises(InputError, match="id 'x' in 'k' is not an integer"):
        ingest(str(src), str(tmp_path / "out"), options=opts(id_column="k"))


def test_named_label_column_must_exist(tmp_path):
    src = write_jsonl(tmp_path / "d.jsonl", [{"text": "a"}])
    with pytest.raises(InputError, match=r"no 'y' field \(fields: text\); check --label-column"):
        ingest(str(src), str(tmp_path / "out"), options=opts(label_column="y"))


def test_csv(tmp_path):
    src = tmp_path / "d.csv"
    src.write_text('id,text,label\n7,"hello, world",pos\n8,"multi\nline doc",neg\n9,,\n')
    m = ingest(str(src), str(tmp_path / "out"), options=opts(id_column="id"))
    t = read_table(tmp_path / "out")
    assert t.column("seq").to_pylist() == [["hello,", "world"], ["multi", "line", "doc"], []]
    assert t.column("label").to_pylist() == ["pos", "neg", None]
    assert t.column("id").to_pylist() == [7, 8, 9]
    assert m["labels"]["nulls"] == 1


def test_tsv(tmp_path):
    src = tmp_path / "d.tsv"
    src.write_text("text\tlabel\na b\tx\n")
    ingest(str(src), str(tmp_path / "out"))
    assert read_table(tmp_path / "out").column("seq").to_pylist() == [["a", "b"]]


@pytest.mark.parametrize("content, message", [
    ("text,label\na,b,c\n", r"d.csv:2: 3 fields, but the header has 2; quote fields that hold the delimiter"),
    ("body,label\na,b\n", r"d.csv:1: no 'text' column in the header \(body, label\); name it with --text-column"),
])
def test_csv_errors(tmp_path, content, message):
    src = tmp_path / "d.csv"
    src.write_text(content)
    with pytest.raises(InputError, match=message):
        ingest(str(src), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_text_folder_labels_from_subfolders(tmp_path):
    root = tmp_path / "train"
    for label, name, text in [("pos", "b.txt", "great fun"), ("pos", "a.txt", "loved it"), ("neg", "c.txt", "")]:
        (root / label).mkdir(parents=True, exist_ok=True)
        (root / label / name).write_text(text)
    ingest(str(root), str(tmp_path / "out"))
    t = read_table(tmp_path / "out")
    assert t.column("name").to_pylist() == ["neg/c.txt", "pos/a.txt", "pos/b.txt"]
    assert t.column("label").to_pylist() == ["neg", "pos", "pos"]
    assert t.column("seq").to_pylist() == [[], ["loved", "it"], ["great", "fun"]]


def test_text_folder_without_files(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="cannot tell the format"):
        ingest(str(tmp_path / "empty"), str(tmp_path / "out"))
    with pytest.raises(InputError, match="no .txt files"):
        ingest(str(tmp_path / "empty"), str(tmp_path / "out"), options=opts(format="text"))


def test_unknown_suffix_and_missing_source(tmp_path):
    (tmp_path / "data.xyz").write_text("x")
    with pytest.raises(UsageError, match=r"data.xyz: cannot tell the format from its name; pass format"):
        ingest(str(tmp_path / "data.xyz"), str(tmp_path / "out"))
    with pytest.raises(InputError, match="nope.jsonl: no such file or directory"):
        ingest(str(tmp_path / "nope.jsonl"), str(tmp_path / "out"))


def test_manifest_is_written_last_and_complete(tmp_path):
    src = write_jsonl(tmp_path / "d.jsonl", [{"text": "a b c"}])
    ingest(str(src), str(tmp_path / "out"))
    m = manifest(tmp_path / "out")
    assert m["format"] == "seqprep-dataset" and m["version"] == 1
    assert [f["name"] for f in m["schema"]] == ["id", "seq"]
    assert m["steps"] == {"type": "string", "channels": None, "fixed_length": None}
    assert len(m["shards"][0]["sha256"]) == 64
