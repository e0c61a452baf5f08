"""Split: fixed-length windows as separate rows, or stacked as parallel channels."""

from __future__ import annotations

import numpy as np

from ..options import Last, values
from ..errors import UsageError, positive
from ..ragged import Padded, Ragged, segment_indices

LASTS = values(Last)


def window_counts(lengths: np.ndarray, length: int, stride: int, last: str) -> tuple[np.ndarray, np.ndarray]:
    """Full windows per row, and whether each row also has a final partial window."""
    full = np.where(lengths >= length, (lengths - length) // stride + 1, 0)
    covered = np.where(full > 0, (full - 1) * stride + length, 0)
    partial = (covered < lengths) & (full * stride < lengths) & (last != "drop")
    empty = (lengths == 0) & (last != "drop")  # an empty sequence still gives one (empty) window
    return full, partial | empty


def windows(batch: Ragged, *, length: int, stride: int | None = None, last: str = "pad") -> Ragged:
    """Windows of ``length`` steps every ``stride`` steps (default: ``length``, no overlap).

    Window k covers [k*stride, k*stride + length). When steps are left after the last full
    window and the next start (a multiple of ``stride``) is inside the sequence, the window
    from there to the end is a partial one: ``last="drop"`` drops it, "pad" and "keep"
    keep it (shorter; "pad" asks the caller to pad it to ``length`` even without padding).
    A sequence shorter than ``length`` is one partial window. Returns the windows as a
    :class:`Ragged` whose ``parent`` and ``part`` say where each came from.
    """
    stride = length if stride is None else stride
    positive(("--length", length), ("--stride", stride))
    if last not in LASTS:
        raise UsageError(f"--last {last!r} must be one of {', '.join(LASTS)}")
    lens = batch.lengths
    full, partial = window_counts(lens, length, stride, last)
    per_row = full + partial
    parent = np.repeat(np.arange(batch.n_rows, dtype=np.int64), per_row)
    part = np.arange(len(parent)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    start = part * stride
    count = np.minimum(length, lens[parent] - start)
    values = batch.take(segment_indices(batch.offsets[parent] + start, count))
    return Ragged.from_lengths(values, count, parent, part.astype(np.int32))


def as_features(batch: Ragged, *, length: int, parts: int, value=0) -> Padded:
    """Each sequence's consecutive windows of ``length`` steps stacked as channel blocks.

    Row i becomes ``length`` steps of ``parts * C`` channels: channel block k holds window k
    (steps k*length .. k*length + length - 1). Missing steps and windows are ``value``; steps
    past ``parts * length`` are dropped. Returns (values of shape (N * length, parts * C),
    the real steps of window 0 per row).
    """
    positive(("--length", length), ("--parts", parts))
    values = batch.values
    if not isinstance(values, np.ndarray):
        raise UsageError("--as-features needs numbers or token ids, not string tokens; map them to ids first")
    channels = values.shape[1] if values.ndim == 2 else 1
    n = batch.n_rows
    lens = np.minimum(batch.lengths, parts * length)
    out = np.full((n, parts, length, channels), value, dtype=values.dtype)
    flat = out.reshape(n, parts * length, channels)
    dest = segment_indices(np.arange(n, dtype=np.int64) * parts * length, lens)
    src = segment_indices(batch.offsets[:-1], lens)
    flat.reshape(-1, channels)[dest] = values[src].reshape(-1, channels)
    # (N, K, L, C) -> (N, L, K, C): step j of every window side by side
    stacked = np.ascontiguousarray(out.transpose(0, 2, 1, 3)).reshape(n * length, parts * channels)
    return Padded(stacked, np.minimum(batch.lengths, length).astype(np.int32))
