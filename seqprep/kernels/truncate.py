"""Truncation: keep the start, the end, or both ends of each sequence."""

from __future__ import annotations

import numpy as np

from ..options import Keep, values
from ..errors import UsageError, positive
from ..ragged import Padded, Ragged, segment_indices
from .pad import SIDES, pad

KEEPS = values(Keep)
MAX_LENGTH = 2**31 - 1


def default_head(length: int) -> int:
    """Steps kept from the start with ``keep="both"`` when no head is given: a quarter of the length.

    The head+tail split that Sun et al. (2019) found best for long documents was 128 + 382 of 512.
    """
    return length // 4


def check_options(length: int, keep: str, head: int | None) -> int | None:
    """Validate the options; returns the head to use (None unless keep="both")."""
    positive(("--length", length))
    if length > MAX_LENGTH:
        raise UsageError(f"--length {length:,} must be at most {MAX_LENGTH:,} (2**31 - 1, the largest list Arrow holds)")
    if keep not in KEEPS:
        raise UsageError(f"--keep {keep!r} must be one of {', '.join(KEEPS)}")
    if keep != "both":
        if head is not None:
            raise UsageError(f"--head {head} applies only with --keep both")
        return None
    head = default_head(length) if head is None else head
    if not 0 <= head < length:
        raise UsageError(f"--head {head} must be at least 0 and below --length {length}")
    return head


def truncate(batch: Ragged, *, length: int, keep: str = "end", head: int | None = None) -> Ragged:
    """Cut every sequence longer than ``length`` down to ``length`` steps.

    keep="end" keeps the last ``length`` steps (keras ``truncating="pre"``), "start" the first
    (``truncating="post"``), "both" the first ``head`` and the last ``length - head``.
    Shorter sequences are kept whole.
    """
    head = check_options(length, keep, head)
    lens = batch.lengths
    row_starts = batch.offsets[:-1]
    kept = np.minimum(lens, length)
    if keep == "start":
        idx = segment_indices(row_starts, kept)
    elif keep == "end":
        idx = segment_indices(row_starts + lens - kept, kept)
    else:
        # Two segments per row, head then tail; rows that fit are all "head".
        fits = lens <= length
        head_count = np.where(fits, lens, head)
        tail_count = np.where(fits, 0, length - head)
        starts = np.stack([row_starts, row_starts + lens - tail_count], axis=1).reshape(-1)
        counts = np.stack([head_count, tail_count], axis=1).reshape(-1)
        idx = segment_indices(starts, counts)
    return Ragged.from_lengths(batch.take(idx), kept)


def truncate_pad(batch: Ragged, *, length: int, keep: str = "end", head: int | None = None,
                 side: str = "start", value=0) -> Padded:
    """``pad(truncate(batch, ...), ...)`` in one pass, for numeric values.

    Every padded row is one contiguous window of the flat values: seen through a strided
    view of all windows of ``length`` steps, gathering the rows is a row-by-row copy, and a
    mask then writes the padding. keep="both" and string tokens take the two-step path.
    Returns a :class:`Padded` as :func:`seqprep.kernels.pad.pad` does.
    """
    head = check_options(length, keep, head)
    values = batch.values
    if keep == "both" or not isinstance(values, np.ndarray):
        return pad(truncate(batch, length=length, keep=keep, head=head), length=length, side=side, value=value)
    if side not in SIDES:
        raise UsageError(f"--pad-side {side!r} must be one of {', '.join(SIDES)}")
    if batch.n_rows == 0:
        return Padded(np.zeros((0,) + values.shape[1:], dtype=values.dtype), np.zeros(0, dtype=np.int32))
    lens = batch.lengths
    kept = np.minimum(lens, length)
    src = batch.offsets[:-1] + (lens - kept if keep == "end" else 0)  # first kept step of each row
    window = src - (length - kept) if side == "start" else src  # where each output row's window starts
    # Extend the values with padding on both sides so every window lies inside them.
    n = len(values)
    before = int(max(0, -window.min()))
    after = int(max(0, window.max() + length - n))
    if before or after:
        fill_before = np.full((before,) + values.shape[1:], value, dtype=values.dtype)
        fill_after = np.full((after,) + values.shape[1:], value, dtype=values.dtype)
        values = np.concatenate([fill_before, values, fill_after])
    values = np.ascontiguousarray(values)
    windows = np.lib.stride_tricks.as_strided(
        values, shape=(len(values) - length + 1, length) + values.shape[1:],
        strides=(values.strides[0],) + values.strides, writeable=False)
    out = windows[window + before]  # (N, length[, C]): a copy
    steps = np.arange(length)
    is_pad = steps < (length - kept)[:, None] if side == "start" else steps >= kept[:, None]
    out[is_pad] = value
    return Padded(out.reshape((-1,) + values.shape[1:]), kept.astype(np.int32))
