import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqprep.npy import npy_header
from seqprep.output import DatasetSink, LengthCounts, counted_length_summary, length_summary

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



def _summary_of_every_row(lengths: np.ndarray) -> dict:
    """The obvious reference: numpy over every row's length."""
    q = np.quantile(lengths, [0.95, 0.99], method="inverted_cdf")
    return {"min": int(lengths.min()), "median": float(np.median(lengths)), "mean": round(float(lengths.mean()), 3),
            "p95": int(q[0]), "p99": int(q[1]), "max": int(lengths.max()), "total": int(lengths.sum())}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(0, 40), max_size=30), max_size=8), st.integers(0, 7))
def test_length_counts_summarize_as_every_row_would(batches, split):
    """Counts added batch by batch (and merged from another Stats, as a worker's are) give the
    summary numpy gives over every row's length."""
    first, second = LengthCounts(), LengthCounts()
    for i, batch in enumerate(batches):
        (first if i < split else second).add(np.array(batch, dtype=np.int64))
    first.add_counts(*second.merged())
    every = np.array([n for batch in batches for n in batch], dtype=np.int64)
    got = counted_length_summary(*first.merged())
    if len(every) == 0:
        assert got["max"] is None and got["total"] == 0
    else:
        assert got == _summary_of_every_row(every)


def test_length_counts_merge_many_batches():
    counts = LengthCounts()
    for i in range(200):  # past the 64 batches kept before they are merged
        counts.add(np.array([i % 7, 3], dtype=np.int64))
    values, n = counts.merged()
    assert values.tolist() == list(range(7)) and n.tolist() == [29, 29, 29, 229, 28, 28, 28]
