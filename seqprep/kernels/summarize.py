"""Summarize: drop tokens, or aggregate runs of time steps."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..options import Agg, values
from ..errors import UsageError, positive
from ..ragged import Ragged, segment_indices

AGGS = values(Agg)


def kept_per_row(batch: Ragged, mask: np.ndarray) -> np.ndarray:
    """How many steps of each row ``mask`` keeps (a pass over one byte per step)."""
    counts = np.zeros(batch.n_rows, dtype=np.int64)
    nonempty = batch.lengths > 0
    if nonempty.any():  # reduceat over the non-empty rows' starts: each sums exactly its row
        # int32 sums are much faster, and no row holds 2**31 steps
        counts[nonempty] = np.add.reduceat(mask.view(np.uint8), batch.offsets[:-1][nonempty], dtype=np.int32)
    return counts


def keep_values(batch: Ragged, mask: np.ndarray) -> Ragged:
    """Keep the steps where ``mask`` (one bool per value) is true, in their order."""
    counts = kept_per_row(batch, mask)
    if isinstance(batch.values, np.ndarray):
        return Ragged.from_lengths(np.compress(mask, batch.values, axis=0), counts)  # faster than values[mask]
    return Ragged.from_lengths(batch.values.filter(pa.array(mask, pa.bool_())), counts)


def paa_segments(offsets: np.ndarray, lengths: np.ndarray, m: int):
    """Absolute (start, end) of the M segments of each non-empty row, and each row's count.

    Segment i of a row of T steps is [floor(i*T/M), floor((i+1)*T/M)): all steps are used and
    segment sizes differ by at most one; when M divides T every segment has T/M steps, as in
    tslearn. When T < M, segment i is the single step floor(i*T/M): short rows are stretched to
    M steps by repeating steps. Empty rows give no segments.
    """
    nonempty = lengths > 0
    bounds = (lengths[nonempty, None] * np.arange(m + 1)) // m  # (rows, M + 1), relative
    start = bounds[:, :-1]
    end = np.maximum(bounds[:, 1:], start + 1)
    base = offsets[:-1][nonempty, None]
    return (start + base).ravel(), (end + base).ravel(), np.where(nonempty, m, 0)


def factor_segments(offsets: np.ndarray, lengths: np.ndarray, f: int):
    """Groups of F consecutive steps; the last group of a row may be shorter."""
    counts = -(-lengths // f)
    row = np.repeat(np.arange(len(lengths), dtype=np.int64), counts)
    start = offsets[:-1][row] + segment_indices(np.zeros_like(counts), counts) * f  # group k at k*F
    return start, np.minimum(start + f, offsets[1:][row]), counts


def reduce_segments(values: np.ndarray, start: np.ndarray, end: np.ndarray, agg: str) -> np.ndarray:
    """``agg`` over ``values[start:end]`` for each (non-empty) segment, per channel.

    The segments come in order, as paa_segments and factor_segments make them: each one ends
    where the next begins, or is a single step that the next one starts at or before (rows
    shorter than M, stretched). reduceat then needs one index per segment: it runs each to
    the next one's start, or takes its one value where the next does not start later.

    NaN propagates (a segment holding NaN has a NaN mean, sum, max and min), as numpy's and
    tslearn's means do.
    """
    if agg not in AGGS:
        raise UsageError(f"--agg {agg!r} must be one of {', '.join(AGGS)}")
    if len(start) == 0:
        return np.zeros((0,) + values.shape[1:], dtype=np.float32 if agg == "mean" else values.dtype)
    if agg == "first":
        return values[start]
    if agg == "last":
        return values[end - 1]
    values = values[:end[-1]]  # the last segment runs to the end
    if agg in ("mean", "sum"):
        # Sums in float64 (as tslearn's means), over a float64 copy: faster than reduceat's cast.
        sums = np.add.reduceat(values.astype(np.float64, copy=False), start, axis=0)
        if agg == "sum":
            return sums.astype(values.dtype)
        size = (end - start).reshape((-1,) + (1,) * (values.ndim - 1))
        return (sums / size).astype(np.float32 if values.dtype != np.float64 else np.float64)
    op = np.maximum if agg == "max" else np.minimum
    return op.reduceat(values, start, axis=0)


def aggregate(batch: Ragged, *, paa: int | None = None, factor: int | None = None, agg: str = "mean") -> Ragged:
    """Shorten numeric sequences: to exactly ``paa`` steps (piecewise aggregate approximation),
    or by aggregating each ``factor`` consecutive steps. Channels are aggregated separately."""
    if (paa is None) == (factor is None):
        raise UsageError("give one of --paa M or --factor F")
    positive(("--paa", paa), ("--factor", factor))
    segments = paa_segments if paa else factor_segments
    start, end, counts = segments(batch.offsets, batch.lengths, paa or factor)
    out = reduce_segments(batch.values, start, end, agg)
    return Ragged.from_lengths(out, counts)
