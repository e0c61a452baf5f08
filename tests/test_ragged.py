import numpy as np
import pyarrow as pa
import pytest

from seqprep.errors import InputError
from seqprep.ragged import Ragged, fixed_to_arrow, from_arrow, segment_indices, to_arrow


def test_segment_indices():
    assert segment_indices(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist() == [5, 6, 9, 10, 11]
    assert segment_indices(np.array([], dtype=np.int64), np.array([], dtype=np.int64)).tolist() == []


def test_sliced_list_array_respects_the_slice():
    arr = pa.array([[1, 2], [3], [4, 5, 6], [7]], pa.list_(pa.int32())).slice(1, 2)
    r = from_arrow(arr)
    assert r.values.tolist() == [3, 4, 5, 6]
    assert r.offsets.tolist() == [0, 1, 4]


def test_null_rows_are_empty_even_when_they_cover_values():
    # A null row whose offsets still span values: build it from buffers.
    values = pa.array([1, 2, 3, 4], pa.int32())
    offsets = pa.array([0, 2, 3, 4], pa.int32())
    arr = pa.ListArray.from_arrays(offsets, values, mask=pa.array([False, True, False]))
    r = from_arrow(arr)
    assert r.lengths.tolist() == [2, 0, 1]
    assert r.values.tolist() == [1, 2, 4]


def test_chunked_array():
    chunked = pa.chunked_array([pa.array([[1]]), pa.array([[2, 3]])])
    r = from_arrow(chunked)
    assert r.values.tolist() == [1, 2, 3] and r.lengths.tolist() == [1, 2]


def test_large_list_and_fixed_size_list():
    r = from_arrow(pa.array([[1, 2], []], pa.large_list(pa.int64())))
    assert r.lengths.tolist() == [2, 0]
    r = from_arrow(pa.array([[1, 2], [3, 4]], pa.list_(pa.int32(), 2)))
    assert r.values.tolist() == [1, 2, 3, 4] and r.lengths.tolist() == [2, 2]


@pytest.mark.parametrize("side, expected", [("start", [[2], [3, 4]]), ("end", [[1], [3, 4]])])
def test_padded_rows_give_back_their_real_steps(side, expected):
    arr = pa.array([[1, 2], [3, 4]], pa.list_(pa.int32(), 2))
    r = from_arrow(arr, pa.array([1, 2], pa.int32()), side)
    assert [r.values[a:b].tolist() for a, b in zip(r.offsets[:-1], r.offsets[1:])] == expected


def test_padded_length_out_of_range():
    arr = pa.array([[1, 2]], pa.list_(pa.int32(), 2))
    with pytest.raises(InputError, match="outside 0..2"):
        from_arrow(arr, pa.array([3], pa.int32()), "end")


def test_channels_round_trip():
    inner = pa.list_(pa.float32(), 3)
    arr = pa.array([[[1, 2, 3], [4, 5, 6]], []], pa.list_(inner))
    r = from_arrow(arr)
    assert r.channels == 3 and r.values.shape == (2, 3)
    back = to_arrow(r)
    assert back.type == pa.list_(inner) and back.to_pylist() == arr.to_pylist()


def test_float_nulls_become_nan_and_int_nulls_are_refused():
    r = from_arrow(pa.array([[1.0, None]], pa.list_(pa.float32())))
    assert np.isnan(r.values[1])
    with pytest.raises(InputError, match="null token ids"):
        from_arrow(pa.array([[1, None]], pa.list_(pa.int32())))


def test_not_a_list_column():
    with pytest.raises(InputError, match="needs a list of steps per row"):
        from_arrow(pa.array([1, 2]))


def test_strings_stay_arrow():
    r = from_arrow(pa.array([["a", "b"], ["c"]], pa.list_(pa.large_string())))
    assert isinstance(r.values, pa.Array) and r.values.type == pa.string()
    assert to_arrow(r).to_pylist() == [["a", "b"], ["c"]]


def test_fixed_to_arrow():
    arr = fixed_to_arrow(np.arange(6, dtype=np.int32), 3)
    assert arr.type == pa.list_(pa.int32(), 3) and arr.to_pylist() == [[0, 1, 2], [3, 4, 5]]


def test_to_arrow_uses_32_bit_offsets_when_they_fit():
    r = Ragged.from_lengths(np.arange(3, dtype=np.int32), np.array([1, 2]))
    assert to_arrow(r).type == pa.list_(pa.int32())
