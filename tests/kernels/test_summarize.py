import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqprep.errors import UsageError
from seqprep.kernels.summarize import aggregate, keep_values
from seqprep.ragged import Ragged

float_rows = st.lists(st.lists(st.floats(-1e3, 1e3, allow_nan=False, width=32), max_size=20), max_size=6)


def ragged(rows, channels=None) -> Ragged:
    flat = np.array([v for r in rows for v in r], dtype=np.float32)
    if channels:
        flat = np.stack([flat * (c + 1) for c in range(channels)], axis=1) if len(flat) else np.zeros((0, channels), np.float32)
    return Ragged.from_lengths(flat, np.array([len(r) for r in rows], dtype=np.int64))


def rows_of(r: Ragged) -> list:
    return [r.values[a:b].tolist() for a, b in zip(r.offsets[:-1], r.offsets[1:])]


def tslearn_paa(x: np.ndarray, m: int) -> np.ndarray:
    """tslearn's PiecewiseAggregateApproximation._transform for one series (its loop, as documented)."""
    sz = len(x) // m
    return np.array([x[i * sz:(i + 1) * sz].mean(axis=0) for i in range(m)])


def paa_reference(row: list, m: int, agg: str) -> list:
    t = len(row)
    if t == 0:
        return []
    out = []
    for i in range(m):
        s = (i * t) // m
        e = max(((i + 1) * t) // m, s + 1)
        out.append(reduce_reference(row[s:e], agg))
    return out


def reduce_reference(group, agg):
    g = np.array(group, dtype=np.float64)
    return {"mean": g.mean(axis=0), "sum": g.sum(axis=0), "max": g.max(axis=0), "min": g.min(axis=0),
            "first": g[0], "last": g[-1]}[agg]


@settings(max_examples=150, deadline=None)
@given(rows=float_rows, m=st.integers(1, 8), agg=st.sampled_from(["mean", "max", "min", "first", "last", "sum"]),
       channels=st.sampled_from([None, 3]))
def test_paa_matches_reference(rows, m, agg, channels):
    out = aggregate(ragged(rows, channels), paa=m, agg=agg)
    assert out.lengths.tolist() == [m if r else 0 for r in rows]
    for got, row in zip(rows_of(out), rows):
        want = paa_reference(row, m, agg) if channels is None else \
            np.stack([paa_reference([v * (c + 1) for v in row], m, agg) for c in range(channels)], axis=1)
        np.testing.assert_allclose(np.array(got).reshape(np.shape(want)), want, rtol=1e-5, atol=1e-3)


@settings(max_examples=100, deadline=None)
@given(m=st.integers(1, 6), per=st.integers(1, 6), n=st.integers(1, 4), channels=st.sampled_from([None, 3]))
def test_paa_equals_tslearn_when_m_divides_t(m, per, n, channels):
    rng = np.random.default_rng(m * 100 + per)
    rows = [rng.normal(size=m * per).tolist() for _ in range(n)]
    batch = ragged(rows, channels)
    out = aggregate(batch, paa=m, agg="mean")
    for i in range(n):
        series = batch.values[batch.offsets[i]:batch.offsets[i + 1]].astype(np.float64)
        np.testing.assert_allclose(out.values[i * m:(i + 1) * m], tslearn_paa(series, m), rtol=1e-5, atol=1e-6)


def test_paa_exact_values_and_short_rows():
    out = aggregate(ragged([[0, 1, 2, 3, 4, 5], [], [6], [7, 8, 9, 10, 11]]), paa=3)
    assert rows_of(out) == [[0.5, 2.5, 4.5], [], [6, 6, 6], [7, 8.5, 10.5]]
    assert out.values.dtype == np.float32


def test_nan_propagates_within_its_group_only():
    out = aggregate(ragged([[1, float("nan"), 3, 4]]), factor=2)
    assert np.isnan(out.values[0]) and out.values[1] == 3.5


@settings(max_examples=150, deadline=None)
@given(rows=float_rows, f=st.integers(1, 7), agg=st.sampled_from(["mean", "max", "last"]))
def test_factor_matches_reference(rows, f, agg):
    out = aggregate(ragged(rows, channels=2), factor=f, agg=agg)
    for got, row in zip(rows_of(out), rows):
        r = np.stack([np.array(row, np.float32), 2 * np.array(row, np.float32)], axis=1) if row else np.zeros((0, 2))
        want = [reduce_reference(r[k:k + f], agg) for k in range(0, len(r), f)]
        np.testing.assert_allclose(np.array(got).reshape(-1, 2), np.array(want).reshape(-1, 2), rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("kwargs, message", [
    ({}, "give one of paa M or factor F"),
    ({"paa": 2, "factor": 2}, "give one of paa M or factor F"),
    ({"paa": 0}, "paa=0 must be positive"),
    ({"factor": -1}, "factor=-1 must be positive"),
    ({"paa": 2, "agg": "median"}, "agg='median' must be one of mean, max, min, first, last, sum"),
])
def test_bad_options(kwargs, message):
    with pytest.raises(UsageError, match=message):
        aggregate(ragged([[1.0, 2.0]]), **kwargs)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.lists(st.sampled_from("abcde"), max_size=8), max_size=6), drop=st.sets(st.sampled_from("abcde")))
def test_keep_values_matches_reference(rows, drop):
    batch = Ragged.from_lengths(pa.array([t for r in rows for t in r], pa.string()), np.array([len(r) for r in rows]))
    mask = np.array([t not in drop for r in rows for t in r], dtype=bool)
    out = keep_values(batch, mask)
    assert [out.values.to_pylist()[a:b] for a, b in zip(out.offsets[:-1], out.offsets[1:])] == \
        [[t for t in r if t not in drop] for r in rows]


def test_segments_at_the_end_of_the_values():
    assert rows_of(aggregate(ragged([[1, 2, 3, 4]]), factor=2, agg="sum")) == [[3, 7]]
    # A short last row stretched by PAA: its segments repeat its one step.
    assert rows_of(aggregate(ragged([[1, 2, 3, 4], [9]]), paa=3, agg="max")) == [[1, 2, 4], [9, 9, 9]]
