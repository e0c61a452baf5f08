import collections
import json

import numpy as np
import pyarrow as pa
import pytest

from seqprep.errors import InputError, OutputError, UsageError
from seqprep.fit import fit, load_stats

from .conftest import make_dataset


def test_token_counts_ranks_ties_and_classes(tmp_path):
    rows = [["b", "a", "c"], ["a", "b"], ["d"], []]
    src = make_dataset(tmp_path / "d", rows, labels=["x", "y", "x", "z"], shard_rows=2)
    stats = fit(str(src), str(tmp_path / "s.json"))
    assert stats["tokens"] == ["a", "b", "c", "d"]  # a and b tie at 2: by token; then c, d tie at 1
    assert stats["counts"] == [2, 2, 1, 1]
    assert stats["classes"] == ["x", "y", "z"] and stats["kind"] == "tokens" and stats["rows"] == 4
    assert json.loads((tmp_path / "s.json").read_text()) == stats


def test_max_size_and_min_count(tmp_path):
    src = make_dataset(tmp_path / "d", [[1, 1, 1, 2, 2, 3]], seq_type=pa.int32())
    stats = fit(str(src), str(tmp_path / "s.json"), max_size=2)
    assert stats["tokens"] == [1, 2] and stats["distinct_tokens"] == 3
    stats = fit(str(src), str(tmp_path / "t.json"), min_count=2)
    assert stats["tokens"] == [1, 2] and stats["counts"] == [3, 2]


def test_counts_match_a_counter_across_many_shards(tmp_path):
    rng = np.random.default_rng(0)
    rows = [rng.integers(0, 30, rng.integers(0, 20)).tolist() for _ in range(57)]
    src = make_dataset(tmp_path / "d", rows, seq_type=pa.int64(), shard_rows=5)
    stats = fit(str(src), str(tmp_path / "s.json"), batch_rows=3)
    counter = collections.Counter(t for r in rows for t in r)
    assert dict(zip(stats["tokens"], stats["counts"])) == dict(counter)
    assert stats["tokens"] == sorted(counter, key=lambda t: (-counter[t], t))


def test_numeric_moments_per_channel_ignore_nan(tmp_path):
    rows = [[[1.0, 10.0], [3.0, float("nan")]], [[5.0, 30.0]], []]
    src = make_dataset(tmp_path / "d", rows, seq_type=pa.list_(pa.float32(), 2), shard_rows=1)
    stats = fit(str(src), str(tmp_path / "s.json"))
    a, b = stats["channel_stats"]
    assert a == {"count": 3, "mean": 3.0, "std": pytest.approx(np.std([1, 3, 5])), "min": 1.0, "max": 5.0}
    assert b == {"count": 2, "mean": 20.0, "std": 10.0, "min": 10.0, "max": 30.0}
    assert stats["kind"] == "numbers" and stats["channels"] == 2


def test_errors(tmp_path):
    src = make_dataset(tmp_path / "d", [["a"]])
    with pytest.raises(UsageError, match="max_size=0 must be positive"):
        fit(str(src), str(tmp_path / "s.json"), max_size=0)
    fit(str(src), str(tmp_path / "s.json"))
    with pytest.raises(OutputError, match="already exists"):
        fit(str(src), str(tmp_path / "s.json"))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match="not a JSON stats file"):
        load_stats(str(tmp_path / "bad.json"))
    (tmp_path / "other.json").write_text('{"a": 1}')
    with pytest.raises(InputError, match="not a seqprep stats file"):
        load_stats(str(tmp_path / "other.json"))
