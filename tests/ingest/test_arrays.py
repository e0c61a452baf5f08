import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from seqprep.errors import InputError
from seqprep.ingest import IngestOptions, ingest

from ..conftest import read_table


def test_parquet_with_any_column_names(tmp_path):
    table = pa.table({"key": pa.array([5, 3], pa.int32()), "tokens": pa.array([[1, 2], [3]], pa.list_(pa.int16())),
                      "cls": ["a", "b"], "source": ["x", "y"]})
    pq.write_table(table, tmp_path / "in.parquet")
    ingest(str(tmp_path / "in.parquet"), str(tmp_path / "out"),
           options=IngestOptions(seq_column="tokens", label_column="cls", id_column="key"))
    t = read_table(tmp_path / "out")
    assert t.column_names == ["id", "seq", "label", "source"]  # other columns carried through
    assert t.schema.field("seq").type == pa.list_(pa.int32())
    assert t.column("id").to_pylist() == [5, 3] and t.column("source").to_pylist() == ["x", "y"]


def test_a_parquet_file_of_no_rows_is_an_empty_dataset_with_its_columns(tmp_path):
    pq.write_table(pa.table({"id": pa.array([], pa.int64()), "seq": pa.array([], pa.list_(pa.int32())),
                             "label": pa.array([], pa.string())}), tmp_path / "zero.parquet")
    m = ingest(str(tmp_path / "zero.parquet"), str(tmp_path / "out"))
    assert m["rows"] == 0 and [f["name"] for f in m["schema"]] == ["id", "seq", "label"]
    assert read_table(tmp_path / "out").num_rows == 0


def test_parquet_folder_in_file_order_and_float64_to_float32(tmp_path):
    (tmp_path / "in").mkdir()
    pq.write_table(pa.table({"seq": [[1.5]]}), tmp_path / "in" / "b.parquet")
    pq.write_table(pa.table({"seq": [[0.5, 2.0]]}), tmp_path / "in" / "a.parquet")
    ingest(str(tmp_path / "in"), str(tmp_path / "out"))
    t = read_table(tmp_path / "out")
    assert t.schema.field("seq").type == pa.list_(pa.float32())
    assert t.column("seq").to_pylist() == [[0.5, 2.0], [1.5]]


def test_parquet_text_column_is_tokenized(tmp_path):
    pq.write_table(pa.table({"review": ["A b", ""], "label": [1, 0]}), tmp_path / "in.parquet")
    ingest(str(tmp_path / "in.parquet"), str(tmp_path / "out"), options=IngestOptions(seq_column="review", lowercase=True))
    t = read_table(tmp_path / "out")
    assert t.column("seq").to_pylist() == [["a", "b"], []] and t.column("label").to_pylist() == [1, 0]


def test_arrow_file(tmp_path):
    feather.write_feather(pa.table({"seq": pa.array([[1, 2, 3]], pa.list_(pa.int64()))}), tmp_path / "in.arrow")
    ingest(str(tmp_path / "in.arrow"), str(tmp_path / "out"))
    assert read_table(tmp_path / "out").column("seq").to_pylist() == [[1, 2, 3]]


@pytest.mark.parametrize("table, options, message", [
    (pa.table({"tokens": [[1]]}), {}, r"no column 'seq' \(columns: tokens\); name it with --seq-column"),
    (pa.table({"seq": [1.0]}), {}, r"column 'seq' has type double; each row must be a list of steps"),
    (pa.table({"seq": [[1]], "label": [1.5]}), {}, r"label column 'label' has type double"),
    (pa.table({"seq": [[1]], "id": [4]}), {"row_ids": True},
     r"has a column 'id' that is not the one ingest reads as id; drop --row-ids to keep those ids, or rename it"),
    (pa.table({"seq": [[True]]}), {}, r"steps of type bool are not supported"),
    (pa.table({"seq": [[1]], "k": [None]}, schema=pa.schema([("seq", pa.list_(pa.int64())), ("k", pa.int64())])),
     {"id_column": "k"}, r"the id column has null values"),
])
def test_parquet_errors(tmp_path, table, options, message):
    pq.write_table(table, tmp_path / "in.parquet")
    with pytest.raises(InputError, match=message):
        ingest(str(tmp_path / "in.parquet"), str(tmp_path / "out"), options=IngestOptions(**options))
    assert not (tmp_path / "out").exists()


def test_corrupt_parquet(tmp_path):
    data = pa.table({"seq": [[1, 2, 3]] * 100})
    pq.write_table(data, tmp_path / "in.parquet")
    raw = (tmp_path / "in.parquet").read_bytes()
    (tmp_path / "in.parquet").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match=r"in.parquet: not a readable parquet file"):
        ingest(str(tmp_path / "in.parquet"), str(tmp_path / "out"))


def test_npy_array_2d_and_3d(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(6, dtype=np.float64).reshape(2, 3))
    ingest(str(tmp_path / "x.npy"), str(tmp_path / "out"))
    t = read_table(tmp_path / "out")
    assert t.schema.field("seq").type == pa.list_(pa.float32()) and t.column("seq").to_pylist() == [[0, 1, 2], [3, 4, 5]]
    (tmp_path / "d").mkdir()
    np.save(tmp_path / "d" / "X.npy", np.arange(12, dtype=np.float32).reshape(2, 3, 2))
    np.save(tmp_path / "d" / "y.npy", np.array(["a", "b"]))
    np.save(tmp_path / "d" / "ids.npy", np.array([10, 11]))
    ingest(str(tmp_path / "d"), str(tmp_path / "out3"), options=IngestOptions(batch_rows=1))
    t = read_table(tmp_path / "out3")
    assert t.schema.field("seq").type == pa.list_(pa.list_(pa.float32(), 2))
    assert t.column("seq").to_pylist()[1] == [[6, 7], [8, 9], [10, 11]]
    assert t.column("label").to_pylist() == ["a", "b"] and t.column("id").to_pylist() == [10, 11]


def test_npy_values_and_offsets(tmp_path):
    np.save(tmp_path / "values.npy", np.array([1, 2, 3, 4], dtype=np.int32))
    np.save(tmp_path / "offsets.npy", np.array([0, 1, 1, 4]))
    np.save(tmp_path / "y.npy", np.array([0, 1, 1]))
    ingest(str(tmp_path), str(tmp_path.parent / "out_vo"), options=IngestOptions(format="npy"))
    t = read_table(tmp_path.parent / "out_vo")
    assert t.column("seq").to_pylist() == [[1], [], [2, 3, 4]] and t.column("label").to_pylist() == [0, 1, 1]


@pytest.mark.parametrize("make, message", [
    (lambda d: np.save(d / "X.npy", np.array([{"a": 1}], dtype=object)),  # np.save pickles objects
     r"holds Python objects \(pickled data\), which seqprep never loads"),
    (lambda d: (d / "X.npy").write_bytes(b"not an npy file"), r"X.npy: not a valid .npy file"),
    (lambda d: np.save(d / "X.npy", np.zeros(3)), r"shape \(3,\); expected \(N, T\) or \(N, T, C\)"),
    (lambda d: (np.save(d / "X.npy", np.zeros((2, 2))), np.save(d / "y.npy", np.zeros(3, dtype=int))),
     r"y.npy: shape \(3,\), but there are 2 sequences"),
    (lambda d: (np.save(d / "values.npy", np.zeros(3)), np.save(d / "offsets.npy", np.array([0, 2, 1]))),
     r"offsets must be 1-D integers from 0, never decreasing, ending at len\(values\) = 3"),
])
def test_npy_errors(tmp_path, make, message):
    d = tmp_path / "d"
    d.mkdir()
    make(d)
    with pytest.raises(InputError, match=message):
        ingest(str(d), str(tmp_path / "out"), options=IngestOptions(format="npy"))
    assert not (tmp_path / "out").exists()
