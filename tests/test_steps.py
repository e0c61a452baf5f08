"""truncate as a library function: every step type, padding, chaining, npy, streams."""

import io
import json

import numpy as np
import pyarrow as pa
import pytest

from seqprep.errors import InputError, OutputError, UsageError
from seqprep.steps import Padding, truncate

from .conftest import listing, make_dataset, manifest, read_table


@pytest.fixture
def tokens(tmp_path):
    return make_dataset(tmp_path / "raw", [[1, 2, 3, 4, 5], [], [6, 7]], labels=["b", "a", "b"], seq_type=pa.int32())


def test_truncate_pads_to_fixed_size_with_length_column(tokens, tmp_path):
    m = truncate(str(tokens), str(tmp_path / "out"), length=3)
    t = read_table(tmp_path / "out")
    assert t.column_names == ["id", "seq", "label", "length"]
    assert t.schema.field("seq").type == pa.list_(pa.int32(), 3)
    assert t.column("seq").to_pylist() == [[3, 4, 5], [0, 0, 0], [0, 6, 7]]
    assert t.column("length").to_pylist() == [3, 0, 2]
    assert t.column("label").to_pylist() == ["b", "a", "b"]
    assert m["padding"] == {"length": 3, "side": "start", "value": 0}
    assert m["steps"] == {"type": "int32", "channels": None, "fixed_length": 3}
    assert m["lengths"]["max"] == 3 and m["lengths"]["total"] == 5
    ingest_step, step = m["lineage"]
    assert ingest_step == {"command": "test"}
    assert step["command"] == "truncate" and step["params"]["length"] == 3 and step["params"]["keep"] == "end"
    assert step["input_sha256"] and len(step["input_sha256"]) == 64


def test_no_pad_keeps_lists(tokens, tmp_path):
    m = truncate(str(tokens), str(tmp_path / "out"), length=3, keep="start", padding=Padding(pad=False))
    t = read_table(tmp_path / "out")
    assert t.column_names == ["id", "seq", "label"]
    assert t.column("seq").to_pylist() == [[1, 2, 3], [], [6, 7]]
    assert m["padding"] is None


def test_pad_end_with_value_and_keep_both(tokens, tmp_path):
    truncate(str(tokens), str(tmp_path / "out"), length=3, keep="both", head=1, padding=Padding(side="end", value="-1"))
    assert read_table(tmp_path / "out").column("seq").to_pylist() == [[1, 4, 5], [-1, -1, -1], [6, 7, -1]]


def test_truncating_padded_data_again_uses_only_real_steps(tokens, tmp_path):
    truncate(str(tokens), str(tmp_path / "p4"), length=4, padding=Padding(side="start", value="9"))
    truncate(str(tmp_path / "p4"), str(tmp_path / "p3"), length=3, keep="start", padding=Padding(side="end"))
    t = read_table(tmp_path / "p3")
    assert t.column("seq").to_pylist() == [[2, 3, 4], [0, 0, 0], [6, 7, 0]]
    assert t.column("length").to_pylist() == [3, 0, 2]
    assert t.column_names == ["id", "seq", "label", "length"]


def test_string_tokens_pad_with_null_by_default(tmp_path):
    src = make_dataset(tmp_path / "raw", [["a", "b", "c"], ["d"]])
    truncate(str(src), str(tmp_path / "out"), length=2)
    assert read_table(tmp_path / "out").column("seq").to_pylist() == [["b", "c"], [None, "d"]]
    truncate(str(src), str(tmp_path / "out2"), length=2, padding=Padding(value="<pad>", side="end"))
    assert read_table(tmp_path / "out2").column("seq").to_pylist() == [["b", "c"], ["d", "<pad>"]]


def test_multichannel_floats_with_nan(tmp_path):
    seqs = [[[1.0, 2.0], [float("nan"), 4.0], [5.0, 6.0]], [[7.0, 8.0]]]
    src = make_dataset(tmp_path / "raw", seqs, seq_type=pa.list_(pa.float32(), 2))
    m = truncate(str(src), str(tmp_path / "out"), length=2, padding=Padding(value="-1.5"))
    rows = read_table(tmp_path / "out").column("seq").to_pylist()
    assert np.isnan(rows[0][0][0]) and rows[0][0][1] == 4.0 and rows[0][1] == [5.0, 6.0]
    assert rows[1] == [[-1.5, -1.5], [7.0, 8.0]]
    assert m["steps"] == {"type": "float", "channels": 2, "fixed_length": 2}


def test_npy_export(tmp_path, tokens):
    meta = truncate(str(tokens), str(tmp_path / "npy"), length=4, format="npy")
    d = tmp_path / "npy"
    assert sorted(p.name for p in d.iterdir()) == ["X.npy", "ids.npy", "lengths.npy", "meta.json", "y.npy"]
    X = np.load(d / "X.npy", mmap_mode="r", allow_pickle=False)
    assert X.dtype == np.int32 and X.tolist() == [[2, 3, 4, 5], [0, 0, 0, 0], [0, 0, 6, 7]]
    assert np.load(d / "y.npy").tolist() == [1, 0, 1]
    assert np.load(d / "lengths.npy").tolist() == [4, 0, 2]
    assert np.load(d / "ids.npy").tolist() == [0, 1, 2]
    on_disk = json.loads((d / "meta.json").read_text())
    assert on_disk == meta and meta["classes"] == ["a", "b"] and meta["shape"] == [3, 4]


def test_npy_multichannel_shape(tmp_path):
    src = make_dataset(tmp_path / "raw", [[[1, 2, 3]] * 4, [[4, 5, 6]]], seq_type=pa.list_(pa.float32(), 3))
    truncate(str(src), str(tmp_path / "npy"), length=2, format="npy")
    X = np.load(tmp_path / "npy" / "X.npy", mmap_mode="r")
    assert X.shape == (2, 2, 3) and X[1].tolist() == [[0, 0, 0], [4, 5, 6]]
    assert not (tmp_path / "npy" / "y.npy").exists()


def test_npy_many_shards_and_empty_dataset(tmp_path):
    src = make_dataset(tmp_path / "raw", [[i] * (i % 4) for i in range(10)], seq_type=pa.int64(), shard_rows=3)
    assert len(manifest(src)["shards"]) == 4
    truncate(str(src), str(tmp_path / "npy"), length=2, format="npy")
    X = np.load(tmp_path / "npy" / "X.npy")
    assert X.tolist() == [[0, 0], [0, 1], [2, 2], [3, 3], [0, 0], [0, 5], [6, 6], [7, 7], [0, 0], [0, 9]]
    empty = make_dataset(tmp_path / "empty", [], seq_type=pa.int32())
    truncate(str(empty), str(tmp_path / "npy0"), length=5, format="npy")
    assert np.load(tmp_path / "npy0" / "X.npy").shape == (0, 5)


@pytest.mark.parametrize("workers", [1, 2])
def test_npy_labels_seen_in_any_order_across_shards(tmp_path, workers):
    """y.npy holds each row's class in natural order, whichever shard (or worker) saw a label
    first; a null label is -1; ids, lengths and y are the bytes np.save writes."""
    labels = ["b", None, "10", "b", "a", "2", None, "a", "10"]
    src = make_dataset(tmp_path / "raw", [[i] * (i % 3) for i in range(9)], labels=labels, seq_type=pa.int32(),
                       shard_rows=2)
    d = tmp_path / "npy"
    meta = truncate(str(src), str(d), length=2, format="npy", workers=workers)
    assert meta["classes"] == ["10", "2", "a", "b"]  # as text: not every label is a number
    y = np.load(d / "y.npy")
    assert y.tolist() == [3, -1, 0, 3, 2, 1, -1, 2, 0]
    assert np.load(d / "lengths.npy").tolist() == [0, 1, 2, 0, 1, 2, 0, 1, 2]
    for name, expected in (("y.npy", y), ("ids.npy", np.arange(9, dtype=np.int64)),
                           ("lengths.npy", np.array([0, 1, 2] * 3, dtype=np.int32))):
        buf = io.BytesIO()
        np.save(buf, expected)
        assert (d / name).read_bytes() == buf.getvalue()
    assert sorted(p.name for p in d.iterdir()) == ["X.npy", "ids.npy", "lengths.npy", "meta.json", "y.npy"]


@pytest.mark.parametrize("kwargs, error, message", [
    ({"length": 0}, UsageError, "length=0 must be positive"),
    ({"length": 3, "keep": "both", "head": 3}, UsageError, "head=3 must be at least 0 and below length 3"),
    ({"length": 3, "padding": Padding(value="x")}, UsageError, "pad_value='x' is not an integer, but seq holds int32 token ids"),
    ({"length": 3, "padding": Padding(pad=False), "format": "npy"}, UsageError, "format npy needs fixed-length rows"),
    ({"length": 3, "padding": Padding(side="left")}, UsageError, "pad_side='left' must be one of start, end"),
    ({"length": 3, "format": "csv"}, UsageError, "format='csv' must be one of parquet, npy"),
])
def test_bad_options_write_nothing(tokens, tmp_path, kwargs, error, message):
    before = listing(tmp_path)
    with pytest.raises(error, match=message):
        truncate(str(tokens), str(tmp_path / "out"), **kwargs)
    assert listing(tmp_path) == before


def test_strings_cannot_go_to_npy(tmp_path):
    src = make_dataset(tmp_path / "raw", [["a"]])
    with pytest.raises(UsageError, match="map them to ids with `seqprep encode`"):
        truncate(str(src), str(tmp_path / "out"), length=2, format="npy")


def test_output_rules(tokens, tmp_path):
    with pytest.raises(OutputError, match="OUT is the same as the input"):
        truncate(str(tokens), str(tokens), length=2)
    truncate(str(tokens), str(tmp_path / "out"), length=2)
    with pytest.raises(OutputError, match="already exists; pass --overwrite to replace it"):
        truncate(str(tokens), str(tmp_path / "out"), length=3)
    truncate(str(tokens), str(tmp_path / "out"), length=3, overwrite=True)
    assert manifest(tmp_path / "out")["padding"]["length"] == 3
    assert [p for p in listing(tmp_path) if "seqprep-tmp" in p] == []


def test_missing_and_incomplete_inputs(tmp_path):
    with pytest.raises(InputError, match="nope: no such file or directory"):
        truncate(str(tmp_path / "nope"), str(tmp_path / "out"), length=2)
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "part-00000.parquet").write_bytes(b"")
    with pytest.raises(InputError, match=r"half: not a seqprep dataset, or an incomplete one \(no _seqprep.json\)"):
        truncate(str(tmp_path / "half"), str(tmp_path / "out"), length=2)


def test_corrupt_shard_is_named_and_nothing_is_left(tokens, tmp_path):
    shard = tokens / "part-00000.parquet"
    raw = shard.read_bytes()
    shard.write_bytes(raw[:40] + b"\0" * (len(raw) - 80) + raw[-40:])
    with pytest.raises(InputError, match="part-00000.parquet"):
        truncate(str(tokens), str(tmp_path / "out"), length=2)
    assert not (tmp_path / "out").exists()
    assert [p for p in listing(tmp_path) if "seqprep-tmp" in p] == []


def test_byte_identical_output_for_the_same_input(tokens, tmp_path):
    truncate(str(tokens), str(tmp_path / "a"), length=2)
    truncate(str(tokens), str(tmp_path / "b"), length=2)
    assert (tmp_path / "a" / "part-00000.parquet").read_bytes() == (tmp_path / "b" / "part-00000.parquet").read_bytes()
    assert manifest(tmp_path / "a") == manifest(tmp_path / "b")


def test_stream_out_carries_lineage_and_padding(tokens, tmp_path, monkeypatch):
    buf = io.BytesIO()
    monkeypatch.setattr("sys.stdout", io.TextIOWrapper(buf))
    truncate(str(tokens), "-", length=2)
    reader = pa.ipc.open_stream(buf.getvalue())
    table = reader.read_all()
    meta = reader.schema.metadata
    assert json.loads(meta[b"seqprep.padding"]) == {"length": 2, "side": "start", "value": 0}
    assert [s["command"] for s in json.loads(meta[b"seqprep.lineage"])] == ["test", "truncate"]
    assert table.column("seq").to_pylist() == [[4, 5], [0, 0], [6, 7]]
