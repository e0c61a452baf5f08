"""Random sampling: random steps of each sequence, or random contiguous crops.

Every draw comes from (seed, id, position) through :mod:`seqprep.kernels.random`, so the
result does not depend on batches, shards or workers.
"""

from __future__ import annotations

import numpy as np

from ..errors import positive
from ..ragged import Ragged, segment_indices
from .random import draws, row_keys, step_keys, uniform

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

    Each step of a row gets a 32-bit key from (seed, id, position); the ``length`` steps with
    the smallest keys are kept (equal keys: the earlier step), so every subset of ``length``
    steps is equally likely. Found without sorting whole rows: steps with a key below
    length/T of the key range are taken first, then the few that this over- or under-shoots
    are settled by sorting only the keys near that threshold.
    """
    positive(("--length", length))
    lens = batch.lengths
    long_rows = np.flatnonzero(lens > length)
    if len(long_rows) == 0:
        return batch
    t = lens[long_rows]
    first = np.cumsum(t) - t  # where each long row starts among the long rows' steps
    key = step_keys(row_keys(seed, ids[long_rows], STREAM_STEPS), t)
    threshold = np.minimum(np.floor(length / t * 2.0**32), 2.0**32 - 1).astype(np.uint32)
    chosen = key < np.repeat(threshold, t)
    count = np.add.reduceat(chosen.view(np.uint8), first, dtype=np.int32).astype(np.int64)
    excess = count > length
    need = np.abs(count - length)
    # Candidates: keys within a few standard deviations of the threshold, on the side to fix.
    width = np.minimum((need + 4 * np.sqrt(need) + 8) / t * 2.0**32, 2.0**31).astype(np.uint32)
    with np.errstate(over="ignore"):
        near = (key - np.repeat(threshold - width, t)) < np.repeat(width * np.uint32(2), t)
    side = np.repeat(excess, t) == chosen
    b = np.flatnonzero(near & side & np.repeat(need > 0, t))
    brow = np.searchsorted(first, b, side="right") - 1
    # Excess rows drop their largest chosen keys (the later step first among equals);
    # deficit rows add their smallest unchosen keys (the earlier step first). One stable sort
    # by (row, key), with each excess row's candidates fed in reverse for its ties.
    dropping = chosen[b]
    by = (brow.astype(np.uint64) << np.uint64(32)) | np.where(dropping, ~key[b], key[b])
    starts = np.r_[0, np.flatnonzero(np.diff(brow)) + 1]
    ends = np.r_[starts[1:], len(b)]
    fed = np.arange(len(b))
    fed = np.where(dropping, np.repeat(starts + ends - 1, ends - starts) - fed, fed)
    order = fed[np.argsort(by[fed], kind="stable")]
    ranked = brow[order]
    start_of_row = np.r_[0, np.flatnonzero(np.diff(ranked)) + 1]
    rank = np.arange(len(order)) - np.repeat(start_of_row, np.diff(np.r_[start_of_row, len(order)]))
    flip = b[order[rank < need[ranked]]]
    chosen[flip] = ~chosen[flip]
    count = np.add.reduceat(chosen.view(np.uint8), first, dtype=np.int32)
    for r in np.flatnonzero(count != length):  # the band missed (vanishingly rare): a full sort
        sl = slice(int(first[r]), int(first[r] + t[r]))
        chosen[sl] = False
        chosen[sl.start + np.argsort(key[sl], kind="stable")[:length]] = True
    mask = np.ones(int(batch.offsets[-1]), dtype=bool)
    mask[np.repeat(lens > length, lens)] = chosen
    counts = lens.copy()
    counts[long_rows] = length
    values = np.compress(mask, batch.values, axis=0) if isinstance(batch.values, np.ndarray) else batch.values.filter(mask)
    return Ragged.from_lengths(values, counts)


def crops(batch: Ragged, *, length: int, ids: np.ndarray, seed: int, copies: int = 1, overlap: bool = True) -> Ragged:
    """Random contiguous windows of ``length`` steps: ``copies`` per longer sequence.

    With ``overlap=False`` the windows of a sequence are disjoint, so a sequence of T steps
    gives at most T // length of them. A sequence of at most ``length`` steps gives one row,
    itself. Windows are numbered by where they start. Returns them as a :class:`Ragged` whose
    ``parent`` and ``part`` say which row each came from and its number there.
    """
    positive(("--length", length), ("--copies", copies))
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
    return Ragged.from_lengths(values, count, parent, rank.astype(np.int32))
