"""A batch of sequences as flat values + int64 offsets: Arrow's list layout.

Row ``i`` is ``values[offsets[i]:offsets[i + 1]]``. ``values`` is a numpy array,
``(n_values,)`` for one number per step or ``(n_values, C)`` for C channels, or a
``pyarrow.StringArray`` for string tokens (kept in Arrow: numpy has no fast
variable-length strings). Kernels only compute index arrays with numpy and move
values with :meth:`Ragged.take`, so they work on every step type.

Converting from Arrow deals with its pitfalls once, here: a sliced ListArray's
``.values`` ignores the slice, a null list row may still cover values, a
ChunkedArray has no offsets, and 32-bit offsets overflow past 2**31 values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .errors import InputError

INT32_MAX = 2**31 - 1


@dataclass(frozen=True, eq=False)
class Ragged:
    """Rows of steps: ``values`` flat, row ``i`` at ``offsets[i]:offsets[i + 1]``.

    Kernels that make several output rows from one input row (windows, crops) also say where
    each came from: ``parent`` (the input row, int64) and ``part`` (its number there, int32).
    """

    values: np.ndarray | pa.Array
    offsets: np.ndarray  # (n_rows + 1,) int64, offsets[0] == 0
    parent: np.ndarray | None = None
    part: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def channels(self) -> int | None:
        """Values per step for multi-channel data, None for one value per step."""
        if isinstance(self.values, np.ndarray) and self.values.ndim == 2:
            return self.values.shape[1]
        return None

    def take(self, index: np.ndarray) -> np.ndarray | pa.Array:
        """The flat values at ``index`` (int64 positions into ``values``)."""
        return take_values(self.values, index)

    @staticmethod
    def from_lengths(values, lengths: np.ndarray, parent: np.ndarray | None = None,
                     part: np.ndarray | None = None) -> "Ragged":
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return Ragged(values, offsets, parent, part)


class Padded(NamedTuple):
    """Rows of one length: ``values`` flat (``N * length`` steps; numpy, or Arrow for string
    tokens) and ``lengths`` (int32, the real steps per row). Unpacks as ``values, lengths``."""

    values: np.ndarray | pa.Array
    lengths: np.ndarray


def take_values(values, index: np.ndarray):
    if isinstance(values, np.ndarray):
        return values[index]
    return values.take(pa.array(index, type=pa.int64()))


def segment_indices(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + c)`` for each (start, count) pair, without a Python loop.

    >>> segment_indices(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist()
    [5, 6, 9, 10, 11]
    """
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    # Each output position gets its segment's start minus where that segment begins in the output.
    shift = np.repeat(np.asarray(starts, dtype=np.int64) - (ends - counts), counts)
    return np.arange(total, dtype=np.int64) + shift


# ---------------------------------------------------------------------------------------------
# Arrow <-> Ragged


def step_values_to_numpy_or_arrow(values: pa.Array):
    """Flat step values as numpy (numbers, channels) or Arrow (strings)."""
    t = values.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return values.cast(pa.string()) if pa.types.is_large_string(t) else values
    if pa.types.is_fixed_size_list(t):
        c = t.list_size
        inner = values.flatten()
        if values.null_count:
            raise InputError("seq holds null steps in a multi-channel column; fill or drop them first")
        return _numeric_to_numpy(inner).reshape(-1, c)
    return _numeric_to_numpy(values)


def _numeric_to_numpy(values: pa.Array) -> np.ndarray:
    t = values.type
    if pa.types.is_floating(t):
        if values.null_count:
            values = values.fill_null(float("nan"))
        return values.to_numpy(zero_copy_only=False)
    if pa.types.is_integer(t):
        if values.null_count:
            raise InputError("seq holds null token ids; fill or drop them first")
        return values.to_numpy(zero_copy_only=False)
    raise InputError(f"seq steps have type {t}; seqprep needs integers, floats, strings or fixed-size lists of floats")


def from_arrow(seq, lengths=None, pad_side: str = "end") -> Ragged:
    """A Ragged view of a ``seq`` column (list, large_list or fixed_size_list; array or chunked).

    Null rows become empty sequences. For padded data pass the ``length`` column and the
    side the padding is on: only the real steps come back.
    """
    if isinstance(seq, pa.ChunkedArray):
        seq = seq.combine_chunks() if seq.num_chunks != 1 else seq.chunk(0)
    n = len(seq)
    if pa.types.is_fixed_size_list(seq.type) and lengths is not None:
        width = seq.type.list_size
        real = np.asarray(lengths.to_numpy(zero_copy_only=False) if hasattr(lengths, "to_numpy") else lengths, dtype=np.int64)
        if len(real) and (real.min() < 0 or real.max() > width):
            raise InputError(f"the length column has values outside 0..{width}")
        flat = seq.flatten()
        base = np.arange(n, dtype=np.int64) * width
        starts = base + (width - real if pad_side == "start" else 0)
        values = step_values_to_numpy_or_arrow(flat)
        return Ragged.from_lengths(take_values(values, segment_indices(starts, real)), real)
    if not (pa.types.is_list(seq.type) or pa.types.is_large_list(seq.type) or pa.types.is_fixed_size_list(seq.type)):
        raise InputError(f"the seq column has type {seq.type}; seqprep needs a list of steps per row")
    if seq.null_count or pa.types.is_fixed_size_list(seq.type):
        lens = pc.list_value_length(seq).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    else:  # the offsets give the lengths (a null row's offsets may span values, so not there)
        lens = np.diff(seq.offsets.to_numpy().astype(np.int64, copy=False))
    values = step_values_to_numpy_or_arrow(seq.flatten())
    return Ragged.from_lengths(values, lens)


def values_to_arrow(values) -> pa.Array:
    if isinstance(values, pa.Array):
        return values
    if values.ndim == 2:
        return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), values.shape[1])
    return pa.array(values)


def to_arrow(batch: Ragged) -> pa.Array:
    """A ``list<T>`` array (``large_list`` past 2**31 values)."""
    vals = values_to_arrow(batch.values)
    if batch.offsets[-1] > INT32_MAX:
        return pa.LargeListArray.from_arrays(pa.array(batch.offsets, pa.int64()), vals)
    return pa.ListArray.from_arrays(pa.array(batch.offsets.astype(np.int32)), vals)


def fixed_to_arrow(values, length: int) -> pa.Array:
    """Flat values of N * length steps as ``fixed_size_list<T, length>``."""
    return pa.FixedSizeListArray.from_arrays(values_to_arrow(values), length)
