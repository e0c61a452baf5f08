import numpy as np
import pyarrow as pa
import pytest

from seqprep.errors import UsageError
from seqprep.inspect import candidates, histogram, inspect, plot, round_up_2sig

from .conftest import make_dataset


def test_round_up_2sig():
    assert [round_up_2sig(x) for x in (7, 97, 100, 101, 1847, 20000)] == [7, 97, 100, 110, 1900, 20000]


def test_candidates_share_that_fits_and_steps_kept():
    lengths = np.array([10, 20, 30, 40, 1000])
    c = candidates(lengths)
    assert [x["length"] for x in c] == [30, 40, 1000]
    assert c[0] == {"length": 30, "quantile": 0.5, "fit": 0.6, "kept": (10 + 20 + 30 + 30 + 30) / 1100}
    assert c[-1]["fit"] == 1.0 and c[-1]["kept"] == 1.0
    assert candidates(np.array([], dtype=np.int64)) == []


def test_histogram_bins():
    h = histogram(np.array([0, 1, 1, 3]), bins=20)
    assert h == {"edges": [0, 1, 2, 3, 4], "counts": [1, 2, 0, 1], "log": False}
    h = histogram(np.array([1, 10, 100, 1000, 10000]), bins=4)
    assert h["log"] and h["edges"][0] == 1 and h["edges"][-1] == 10001 and sum(h["counts"]) == 5
    assert histogram(np.array([5, 5]), bins=3) == {"edges": [5, 6], "counts": [2], "log": False}


def test_inspect_report(tmp_path):
    src = make_dataset(tmp_path / "d", [[1] * n for n in (0, 3, 5, 7)], labels=["x", "y", "x", None],
                       seq_type=pa.int32(), shard_rows=2)
    r = inspect(str(src))
    assert (r.rows, r.shards) == (4, 2)
    assert r.steps == {"type": "int32", "channels": None, "fixed_length": None}
    assert r.labels == {"x": 2, "y": 1} and r.null_labels == 1
    assert r.lengths["min"] == 0 and r.lengths["max"] == 7 and r.lengths["median"] == 4.0
    assert sum(r.histogram["counts"]) == 4
    assert r.to_dict()["candidates"][0]["length"] == 3


def test_inspect_bad_bins(tmp_path):
    src = make_dataset(tmp_path / "d", [[1]], seq_type=pa.int32())
    with pytest.raises(UsageError, match="bins=0 must be positive"):
        inspect(str(src), bins=0)


def test_plot_writes_a_png(tmp_path):
    src = make_dataset(tmp_path / "d", [[1] * n for n in range(1, 50)], seq_type=pa.int32())
    plot(inspect(str(src)), str(tmp_path / "h.png"))
    assert (tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
