import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqprep.errors import UsageError
from seqprep.kernels.pad import pad
from seqprep.ragged import Ragged

from .reference import pad_row


def test_pad_start_and_end():
    batch = Ragged.from_lengths(np.array([1, 2, 3], dtype=np.int64), np.array([0, 1, 2]))
    vals, lengths = pad(batch, length=3, side="start", value=9)
    assert vals.reshape(3, 3).tolist() == [[9, 9, 9], [9, 9, 1], [9, 2, 3]]
    assert lengths.tolist() == [0, 1, 2] and lengths.dtype == np.int32
    vals, _ = pad(batch, length=3, side="end", value=9)
    assert vals.reshape(3, 3).tolist() == [[9, 9, 9], [1, 9, 9], [2, 3, 9]]


def test_pad_keeps_dtype_and_channels():
    values = np.array([[1.5, -1.0], [np.nan, 2.0]], dtype=np.float32)
    vals, lengths = pad(Ragged.from_lengths(values, np.array([2, 0])), length=3, side="end", value=0.0)
    assert vals.dtype == np.float32 and vals.shape == (6, 2)
    assert np.array_equal(vals[:2], values, equal_nan=True)
    assert vals[2:].tolist() == [[0, 0]] * 4


def test_pad_strings_with_null_or_value():
    batch = Ragged.from_lengths(pa.array(["a", "b", "c"]), np.array([1, 2]))
    vals, _ = pad(batch, length=3, side="start", value=None)
    assert vals.to_pylist() == [None, None, "a", None, "b", "c"]
    vals, _ = pad(batch, length=3, side="end", value="<pad>")
    assert vals.to_pylist() == ["a", "<pad>", "<pad>", "b", "c", "<pad>"]


def test_full_rows_are_returned_as_is():
    values = np.arange(6, dtype=np.int32)
    vals, lengths = pad(Ragged.from_lengths(values, np.array([3, 3])), length=3)
    assert vals is values and lengths.tolist() == [3, 3]


def test_rows_longer_than_length_are_a_bug():
    with pytest.raises(ValueError, match="truncate first"):
        pad(Ragged.from_lengths(np.arange(4), np.array([4])), length=3)


def test_bad_side():
    with pytest.raises(UsageError, match="pad_side='left' must be one of start, end"):
        pad(Ragged.from_lengths(np.arange(1), np.array([1])), length=3, side="left")


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(st.integers(0, 99), max_size=6), max_size=8), extra=st.integers(0, 4),
       side=st.sampled_from(["start", "end"]))
def test_matches_per_row_reference(rows, extra, side):
    length = max([len(r) for r in rows] + [1]) + extra
    values = np.array([v for r in rows for v in r], dtype=np.int64)
    vals, lengths = pad(Ragged.from_lengths(values, np.array([len(r) for r in rows])), length=length, side=side, value=-1)
    assert vals.reshape(len(rows), length).tolist() == [pad_row(r, length, side, -1) for r in rows]
    assert lengths.tolist() == [len(r) for r in rows]
