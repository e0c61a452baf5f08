import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqprep.errors import UsageError
from seqprep.kernels.pad import pad
from seqprep.kernels.truncate import check_options, default_head, truncate
from seqprep.ragged import Ragged

from .reference import keras_pad_sequences, truncate_row


def ragged(rows, dtype=np.int32) -> Ragged:
    values = np.array([v for r in rows for v in r], dtype=dtype)
    return Ragged.from_lengths(values, np.array([len(r) for r in rows], dtype=np.int64))


def rows_of(batch: Ragged) -> list[list]:
    return [batch.values[a:b].tolist() for a, b in zip(batch.offsets[:-1], batch.offsets[1:])]


ROWS = [[], [1], [1, 2, 3], [1, 2, 3, 4], [1, 2, 3, 4, 5, 6, 7]]


@pytest.mark.parametrize("keep, expected", [
    ("end", [[], [1], [1, 2, 3], [1, 2, 3, 4], [4, 5, 6, 7]]),
    ("start", [[], [1], [1, 2, 3], [1, 2, 3, 4], [1, 2, 3, 4]]),
])
def test_truncate_exact(keep, expected):
    out = truncate(ragged(ROWS), length=4, keep=keep)
    assert rows_of(out) == expected
    assert out.values.dtype == np.int32


def test_truncate_both_keeps_head_and_tail():
    out = truncate(ragged(ROWS), length=4, keep="both", head=1)
    assert rows_of(out) == [[], [1], [1, 2, 3], [1, 2, 3, 4], [1, 5, 6, 7]]
    out = truncate(ragged(ROWS), length=4, keep="both", head=0)
    assert rows_of(out)[-1] == [4, 5, 6, 7]


def test_default_head_is_a_quarter():
    assert default_head(512) == 128
    assert check_options(512, "both", None) == 128
    assert check_options(512, "end", None) is None


@pytest.mark.parametrize("length, keep, head, message", [
    (0, "end", None, "length=0 must be positive"),
    (-3, "end", None, "length=-3 must be positive"),
    (4, "middle", None, "keep='middle' must be one of start, end, both"),
    (4, "both", 4, "head=4 must be at least 0 and below length 4"),
    (4, "both", -1, "head=-1 must be at least 0 and below length 4"),
    (4, "end", 2, "head=2 applies only with keep both"),
])
def test_bad_options(length, keep, head, message):
    with pytest.raises(UsageError) as e:
        truncate(ragged(ROWS), length=length, keep=keep, head=head)
    assert str(e.value) == message


def test_empty_batch():
    out = truncate(ragged([]), length=3)
    assert out.n_rows == 0 and len(out.values) == 0


def test_multichannel_rows_keep_their_channels():
    values = np.arange(12, dtype=np.float32).reshape(6, 2)
    batch = Ragged.from_lengths(values, np.array([4, 2]))
    out = truncate(batch, length=3, keep="end")
    assert out.values.tolist() == [[2, 3], [4, 5], [6, 7], [8, 9], [10, 11]]
    assert out.lengths.tolist() == [3, 2]


def test_string_tokens():
    import pyarrow as pa

    batch = Ragged.from_lengths(pa.array(list("abcdefg")), np.array([5, 2]))
    out = truncate(batch, length=3, keep="both", head=1)
    assert out.values.to_pylist() == ["a", "d", "e", "f", "g"]


# keras.utils.pad_sequences: documented examples, and every truncating/padding combination.


def keras_like(rows, maxlen, keep, side, value=0):
    vals, lengths = pad(truncate(ragged(rows), length=maxlen, keep=keep), length=maxlen, side=side, value=value)
    return vals.reshape(len(rows), maxlen), lengths


def test_keras_documented_examples():
    seqs = [[1], [2, 3], [4, 5, 6]]
    assert keras_like(seqs, 3, "end", "start")[0].tolist() == [[0, 0, 1], [0, 2, 3], [4, 5, 6]]
    assert keras_like(seqs, 3, "end", "start", -1)[0].tolist() == [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]]
    assert keras_like(seqs, 3, "end", "end")[0].tolist() == [[1, 0, 0], [2, 3, 0], [4, 5, 6]]
    assert keras_like(seqs, 2, "end", "start")[0].tolist() == [[0, 1], [2, 3], [5, 6]]


rows_strategy = st.lists(st.lists(st.integers(-1000, 1000), max_size=12), max_size=8)


@settings(max_examples=200, deadline=None)
@given(rows=rows_strategy, maxlen=st.integers(1, 10),
       truncating=st.sampled_from(["pre", "post"]), padding=st.sampled_from(["pre", "post"]))
def test_equals_keras_pad_sequences(rows, maxlen, truncating, padding):
    keep = "end" if truncating == "pre" else "start"
    side = "start" if padding == "pre" else "end"
    got, lengths = keras_like(rows, maxlen, keep, side, value=-7)
    want = keras_pad_sequences(rows, maxlen, truncating=truncating, padding=padding, value=-7)
    assert got.tolist() == want.tolist()
    assert lengths.tolist() == [min(len(r), maxlen) for r in rows]


@settings(max_examples=200, deadline=None)
@given(rows=rows_strategy, length=st.integers(1, 10), keep=st.sampled_from(["start", "end", "both"]),
       head_frac=st.floats(0, 0.99))
def test_matches_per_row_reference(rows, length, keep, head_frac):
    head = int(head_frac * length) if keep == "both" else None
    out = truncate(ragged(rows), length=length, keep=keep, head=head)
    assert rows_of(out) == [truncate_row(r, length, keep, head) for r in rows]


# The fused kernel must give exactly what pad(truncate(...)) gives.

from seqprep.kernels.truncate import truncate_pad  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(rows=rows_strategy, length=st.integers(1, 10), keep=st.sampled_from(["start", "end", "both"]),
       side=st.sampled_from(["start", "end"]), channels=st.sampled_from([None, 2]))
def test_truncate_pad_equals_two_steps(rows, length, keep, side, channels):
    batch = ragged(rows)
    if channels:
        batch = Ragged(np.stack([batch.values, -batch.values], axis=1).astype(np.float32), batch.offsets)
    head = length // 2 if keep == "both" else None
    got_values, got_lengths = truncate_pad(batch, length=length, keep=keep, head=head, side=side, value=-99)
    want_values, want_lengths = pad(truncate(batch, length=length, keep=keep, head=head), length=length, side=side, value=-99)
    assert got_values.dtype == want_values.dtype and got_values.tolist() == want_values.tolist()
    assert got_lengths.tolist() == want_lengths.tolist()


def test_truncate_pad_exact():
    vals, lengths = truncate_pad(ragged(ROWS), length=4, keep="end", side="start", value=0)
    assert vals.reshape(5, 4).tolist() == [[0, 0, 0, 0], [0, 0, 0, 1], [0, 1, 2, 3], [1, 2, 3, 4], [4, 5, 6, 7]]
    assert lengths.tolist() == [0, 1, 3, 4, 4]
    vals, _ = truncate_pad(ragged(ROWS), length=4, keep="start", side="end", value=9)
    assert vals.reshape(5, 4).tolist() == [[9, 9, 9, 9], [1, 9, 9, 9], [1, 2, 3, 9], [1, 2, 3, 4], [1, 2, 3, 4]]
