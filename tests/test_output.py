import numpy as np
import pyarrow as pa
import pytest

from seqprep.npy import npy_header
from seqprep.output import DatasetSink, length_summary

from .conftest import listing


def test_sink_failure_removes_partial_shards(tmp_path):
    batch = pa.RecordBatch.from_pydict({"id": [0], "seq": [[1]]})
    with pytest.raises(RuntimeError):
        with DatasetSink(str(tmp_path / "out"), lineage=[], shard_rows=1) as sink:
            sink.write(batch)
            sink.write(batch)
            raise RuntimeError("boom")
    assert listing(tmp_path) == []


def test_sink_cuts_shards_and_keeps_one_schema(tmp_path):
    with DatasetSink(str(tmp_path / "out"), lineage=[], shard_rows=2) as sink:
        sink.write(pa.RecordBatch.from_pydict({"id": [0, 1, 2], "seq": pa.array([[1], [2], []], pa.list_(pa.int32()))}))
        sink.write(pa.RecordBatch.from_pydict({"id": [3], "seq": pa.array([[4]], pa.list_(pa.int64()))}))
        m = sink.finish()
    assert [s["rows"] for s in m["shards"]] == [2, 2]
    assert m["schema"][1]["type"] == "list<item: int32>"


def test_npy_header_reserves_fixed_space(tmp_path):
    for shape in [(0, 5), (10**12, 500, 64)]:
        h = npy_header(np.dtype(np.float32), shape)
        assert len(h) == 256
        path = tmp_path / "x.npy"
        path.write_bytes(h)
        with open(path, "rb") as f:
            assert np.lib.format.read_magic(f) == (1, 0)
            assert np.lib.format.read_array_header_1_0(f) == (shape, False, np.dtype(np.float32))


def test_length_summary():
    s = length_summary(np.array([1, 2, 3, 4, 100]))
    assert s == {"min": 1, "median": 3.0, "mean": 22.0, "p95": 100, "p99": 100, "max": 100, "total": 110}
    assert length_summary(np.array([], dtype=np.int64))["max"] is None

