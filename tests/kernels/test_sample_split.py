import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqprep.errors import UsageError
from seqprep.kernels.random import draws, row_keys, step_keys, uniform
from seqprep.kernels.sample import STREAM_STEPS, crops, sample_steps
from seqprep.kernels.split import as_features, windows
from seqprep.ragged import Ragged

rows_strategy = st.lists(st.lists(st.integers(0, 10**6), max_size=40), max_size=8)


def ragged(rows) -> Ragged:
    return Ragged.from_lengths(np.array([v for r in rows for v in r], dtype=np.int64),
                               np.array([len(r) for r in rows], dtype=np.int64))


def rows_of(r: Ragged) -> list:
    return [r.values[a:b].tolist() for a, b in zip(r.offsets[:-1], r.offsets[1:])]


def fmix32_reference(x: int) -> int:
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & 0xFFFFFFFF
    x ^= x >> 13
    x = (x * 0xC2B2AE35) & 0xFFFFFFFF
    return x ^ (x >> 16)


def steps_reference(row, length, row_id, seed, key_bits=0xFFFFFFFF):
    """The length steps with the smallest keys (the earlier step among equals), in order:
    one row at a time, with plain Python integers and a full sort."""
    if len(row) <= length:
        return list(row)
    top = int(row_keys(seed, np.array([row_id]), STREAM_STEPS)[0]) >> 32
    keys = [fmix32_reference((top + (j + 1) * 0x9E3779B9) & 0xFFFFFFFF) & key_bits for j in range(len(row))]
    keep = sorted(sorted(range(len(row)), key=lambda j: (keys[j], j))[:length])
    return [row[i] for i in keep]


@settings(max_examples=200, deadline=None)
@given(rows=rows_strategy, length=st.integers(1, 12), seed=st.integers(0, 2**63 - 1))
def test_sample_steps_matches_reference(rows, length, seed):
    ids = np.arange(100, 100 + len(rows))
    out = sample_steps(ragged(rows), length=length, ids=ids, seed=seed)
    assert rows_of(out) == [steps_reference(r, length, i, seed) for r, i in zip(rows, ids)]


def test_sample_steps_long_rows_match_reference():
    rng = np.random.default_rng(1)
    rows = [rng.integers(0, 10**6, n).tolist() for n in (3000, 501, 10_000, 40)]
    out = sample_steps(ragged(rows), length=500, ids=np.arange(4), seed=12)
    assert rows_of(out) == [steps_reference(r, 500, i, 12) for i, r in enumerate(rows)]


@pytest.mark.parametrize("seed", [12, 13, 14])
def test_sample_steps_breaks_equal_keys_by_position(monkeypatch, seed):
    """Keys cut to their top 16 bits: many steps near each row's threshold share a key, and
    the earlier of them must be kept, as by a full sort."""
    import seqprep.kernels.sample as sample

    bits = 0xFFFF0000
    monkeypatch.setattr(sample, "step_keys", lambda keys, lengths: step_keys(keys, lengths) & np.uint32(bits))
    rows = [list(range(n)) for n in (3000, 501, 10_000, 20_000, 40, 7000)]
    out = sample_steps(ragged(rows), length=500, ids=np.arange(6), seed=seed)
    assert rows_of(out) == [steps_reference(r, 500, i, seed, key_bits=bits) for i, r in enumerate(rows)]


def test_sample_steps_is_uniform_over_positions():
    n, t, length = 4000, 20, 5
    batch = ragged([list(range(t))] * n)
    out = sample_steps(batch, length=length, ids=np.arange(n), seed=3)
    counts = np.bincount(out.values, minlength=t)
    assert counts.sum() == n * length
    expected = n * length / t  # 1000 per position
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))


def test_sample_depends_on_seed_and_id_not_on_batching():
    rows = [list(range(50)), list(range(100, 160)), list(range(7))]
    ids = np.array([5, 9, 2])
    whole = rows_of(sample_steps(ragged(rows), length=10, ids=ids, seed=1))
    alone = [rows_of(sample_steps(ragged([r]), length=10, ids=ids[i:i + 1], seed=1))[0] for i, r in enumerate(rows)]
    assert whole == alone
    assert whole != rows_of(sample_steps(ragged(rows), length=10, ids=ids, seed=2))
    assert whole[2] == list(range(7))


def crops_reference(row, length, row_id, seed, copies, overlap):
    t = len(row)
    if t <= length:
        return [list(row)]
    k = copies if overlap else min(copies, t // length)
    key = row_keys(seed, np.array([row_id]), 2)[0]
    u = uniform(draws(np.uint64(key), np.arange(k)))
    room = t - length if overlap else t - k * length
    offsets = sorted(int(np.floor(x * (room + 1))) for x in u)
    starts = offsets if overlap else [o + i * length for i, o in enumerate(offsets)]
    return [list(row[s:s + length]) for s in starts]


@settings(max_examples=200, deadline=None)
@given(rows=rows_strategy, length=st.integers(1, 12), copies=st.integers(1, 4), overlap=st.booleans(),
       seed=st.integers(0, 1000))
def test_crops_match_reference(rows, length, copies, overlap, seed):
    ids = np.arange(len(rows))
    out = crops(ragged(rows), length=length, ids=ids, seed=seed, copies=copies, overlap=overlap)
    parent, part = out.parent, out.part
    want = [(i, p, w) for i, r in enumerate(rows)
            for p, w in enumerate(crops_reference(r, length, i, seed, copies, overlap))]
    assert list(zip(parent.tolist(), part.tolist(), rows_of(out))) == want


@settings(max_examples=100, deadline=None)
@given(lengths=st.lists(st.integers(0, 60), max_size=6), length=st.integers(1, 10), copies=st.integers(1, 8))
def test_no_overlap_windows_are_disjoint_and_as_many_as_fit(lengths, length, copies):
    rows = [list(range(t)) for t in lengths]  # values are positions
    out = crops(ragged(rows), length=length, ids=np.arange(len(rows)), seed=4, copies=copies, overlap=False)
    parent, part = out.parent, out.part
    for i, t in enumerate(lengths):
        ws = [w for w, p in zip(rows_of(out), parent.tolist()) if p == i]
        if t <= length:
            assert ws == [list(range(t))]
            continue
        assert len(ws) == min(copies, t // length)
        assert all(len(w) == length and w == list(range(w[0], w[0] + length)) for w in ws)
        assert all(b[0] - a[0] >= length for a, b in zip(ws, ws[1:]))


def windows_reference(row, length, stride, last):
    t, out, k = len(row), [], 0
    while k * stride + length <= t:
        out.append(list(row[k * stride:k * stride + length]))
        k += 1
    covered = (k - 1) * stride + length if k else 0
    if ((covered < t and k * stride < t) or t == 0) and last != "drop":
        out.append(list(row[k * stride:]))
    return out


@settings(max_examples=200, deadline=None)
@given(rows=rows_strategy, length=st.integers(1, 10), stride=st.integers(1, 10), last=st.sampled_from(["pad", "drop", "keep"]))
def test_windows_match_reference(rows, length, stride, last):
    out = windows(ragged(rows), length=length, stride=stride, last=last)
    parent, part = out.parent, out.part
    want = [(i, p, w) for i, r in enumerate(rows) for p, w in enumerate(windows_reference(r, length, stride, last))]
    assert list(zip(parent.tolist(), part.tolist(), rows_of(out))) == want


def test_windows_exact():
    out = windows(ragged([[0, 1, 2, 3, 4, 5, 6], [7, 8]]), length=3, last="pad")
    parent, part = out.parent, out.part
    assert rows_of(out) == [[0, 1, 2], [3, 4, 5], [6], [7, 8]]
    assert parent.tolist() == [0, 0, 0, 1] and part.tolist() == [0, 1, 2, 0]
    with pytest.raises(UsageError, match="stride=0 must be positive"):
        windows(ragged([[1]]), length=3, stride=0)


@settings(max_examples=100, deadline=None)
@given(rows=rows_strategy, length=st.integers(1, 6), parts=st.integers(1, 4))
def test_as_features_matches_reference(rows, length, parts):
    values, lengths = as_features(ragged(rows), length=length, parts=parts, value=-1)
    got = values.reshape(len(rows), length, parts)
    for i, r in enumerate(rows):
        for k in range(parts):
            window = list(r[k * length:(k + 1) * length])
            assert got[i, :, k].tolist() == window + [-1] * (length - len(window))
    assert lengths.tolist() == [min(len(r), length) for r in rows]
