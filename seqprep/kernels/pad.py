"""Padding: ragged sequences of at most L steps to flat (N * L) values plus real lengths."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..errors import UsageError
from ..ragged import Padded, Ragged, segment_indices

from ..padding import SIDES


def pad(batch: Ragged, *, length: int, side: str = "start", value=0) -> Padded:
    """Place each sequence in a row of ``length`` steps, the rest filled with ``value``.

    side="start" puts the padding before the steps (keras ``padding="pre"``), "end" after.
    Returns a :class:`Padded` ``(values, lengths)``: values flat, ``N * length`` steps (numpy, or Arrow for string
    tokens, where ``value=None`` pads with nulls); lengths int32, the real steps per row.
    Every row must already be at most ``length`` long (truncate first).
    """
    if side not in SIDES:
        raise UsageError(f"--pad-side {side!r} must be one of {', '.join(SIDES)}")
    lens = batch.lengths
    if len(lens) and lens.max() > length:
        raise ValueError(f"pad: a row has {lens.max()} steps, more than length={length}; truncate first")
    n = batch.n_rows
    lengths = lens.astype(np.int32)
    if np.all(lens == length):
        return Padded(batch.values, lengths)
    base = np.arange(n, dtype=np.int64) * length
    dest = segment_indices(base + (length - lens if side == "start" else 0), lens)
    values = batch.values
    if isinstance(values, np.ndarray):
        out = np.full((n * length,) + values.shape[1:], value, dtype=values.dtype)
        out[dest] = values
        return Padded(out, lengths)
    index = np.full(n * length, -1, dtype=np.int64)
    index[dest] = np.arange(len(dest), dtype=np.int64)
    out = values.take(pa.array(index, mask=index < 0))
    if value is not None:
        out = out.fill_null(value)
    return Padded(out, lengths)
