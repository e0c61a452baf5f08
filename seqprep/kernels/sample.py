"""Random sampling: random steps of each sequence, or random contiguous crops.

Every draw comes from (seed, id, position) through :mod:`seqprep.kernels.random`, so the
result does not depend on batches, shards or workers.
"""

from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ..ragged import Ragged, segment_indices
from .random import draws, row_keys, uniform

STREAM_STEPS, STREAM_CROPS = 1, 2


def _ranks_within_rows(row: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order of (row, key) pairs, and each pair's rank among its row's pairs in that order."""
    order = np.lexsort((key, row))
    r = row[order]
    first = np.r_[0, np.flatnonzero(np.diff(r)) + 1]
    sizes = np.diff(np.r_[first, len(r)])
    rank = np.arange(len(r)) - np.repeat(first, sizes)
    return order, rank


def sample_steps(batch: Ragged, *, length: int, ids: np.ndarray, seed: int) -> Ragged:
    """Keep ``length`` random steps of each longer sequence, in their original order.

    Each step of a row gets a uniform key from (seed, id, position); the ``length`` steps with
    the smallest keys are kept, which makes every subset of ``length`` steps equally likely.
    Found without sorting whole rows: steps with a key below length/T are taken first, then
    the few that this over- or under-shoots are settled by sorting keys near that threshold.
    """
    if length < 1:
        raise UsageError(f"--length {length} must be positive")
    lens = batch.lengths
    long_rows = np.flatnonzero(lens > length)
    if len(long_rows) == 0:
        return batch
    starts, t = batch.offsets[long_rows], lens[long_rows]
    pos_index = segment_indices(starts, t)  # flat positions of the long rows' steps
    row = np.repeat(np.arange(len(long_rows)), t)
    pos = pos_index - np.repeat(starts, t)
    u = uniform(draws(row_keys(seed, ids[long_rows], STREAM_STEPS)[row], pos))
    p = np.repeat(length / t, t)
    chosen = u < p
    count = np.bincount(row, weights=chosen, minlength=len(long_rows)).astype(np.int64)
    # Too many chosen: un-choose the largest keys below p; too few: choose the smallest above p.
    excess = np.maximum(count - length, 0)
    deficit = np.maximum(length - count, 0)
    need = excess + deficit
    width = np.repeat((need + 4 * np.sqrt(need) + 8) / t, t)
    band = (np.repeat(excess > 0, t) & chosen & (u >= p - width)) | \
           (np.repeat(deficit > 0, t) & ~chosen & (u < p + width))
    b = np.flatnonzero(band)
    brow = row[b]
    key = np.where(chosen[b], -u[b], u[b])  # nearest to the threshold first
    order, rank = _ranks_within_rows(brow, key)
    flip = b[order[rank < need[brow[order]]]]
    chosen[flip] = ~chosen[flip]
    short = np.flatnonzero(np.bincount(row, weights=chosen, minlength=len(long_rows)) != length)
    for r in short:  # the band missed (vanishingly rare): settle this row with a full sort
        sl = slice(int(np.searchsorted(row, r)), int(np.searchsorted(row, r, side="right")))
        chosen[sl] = False
        chosen[sl.start + np.argsort(u[sl], kind="stable")[:length]] = True
    mask = np.ones(int(batch.offsets[-1]), dtype=bool)
    mask[pos_index] = chosen
    kept_before = np.zeros(len(mask) + 1, dtype=np.int64)
    np.cumsum(mask, out=kept_before[1:])
    values = batch.values[mask] if isinstance(batch.values, np.ndarray) else batch.values.filter(mask)
    return Ragged(values, kept_before[batch.offsets])


def crops(batch: Ragged, *, length: int, ids: np.ndarray, seed: int, copies: int = 1, overlap: bool = True):
    """Random contiguous windows of ``length`` steps: ``copies`` per longer sequence.

    With ``overlap=False`` the windows of a sequence are disjoint, so a sequence of T steps
    gives at most T // length of them. A sequence of at most ``length`` steps gives one row,
    itself. Windows are numbered by where they start. Returns (windows, parent row, part).
    """
    if length < 1:
        raise UsageError(f"--length {length} must be positive")
    if copies < 1:
        raise UsageError(f"--copies {copies} must be positive")
    lens = batch.lengths
    long = lens > length
    per_row = np.where(long, copies if overlap else np.minimum(copies, lens // length), 1)
    parent = np.repeat(np.arange(batch.n_rows, dtype=np.int64), per_row)
    k = np.arange(len(parent)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    t = lens[parent]
    u = uniform(draws(row_keys(seed, ids, STREAM_CROPS)[parent], k))
    n_windows = per_row[parent]
    room = np.where(long[parent], t - n_windows * length if not overlap else t - length, 0)
    offset = np.floor(u * (room + 1)).astype(np.int64)
    order, rank = _ranks_within_rows(parent, offset)  # sort each row's draws; rows stay grouped
    offset = offset[order]
    start = offset + (rank * length if not overlap else 0)
    count = np.minimum(t, length)
    values = batch.take(segment_indices(batch.offsets[parent] + start, count))
    return Ragged.from_lengths(values, count), parent, rank.astype(np.int32)
