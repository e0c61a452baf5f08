"""Counter-based randomness: every draw is a hash of (seed, stream, id, counter).

Nothing depends on how rows fall into batches, shards or workers, and there is no global
state. The mixer is splitmix64's finalizer (Steele, Lea & Flood, 2014).
"""

from __future__ import annotations

import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer on uint64 values (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        return x ^ (x >> np.uint64(31))


def row_keys(seed: int, ids: np.ndarray, stream: int = 0) -> np.ndarray:
    """One uint64 key per row from the seed, a stream number (one per use) and the row's id."""
    base = mix64(np.array([(seed & 0xFFFFFFFFFFFFFFFF) ^ (stream * 0xD1B54A32D192ED03 & 0xFFFFFFFFFFFFFFFF)],
                          dtype=np.uint64))[0]
    with np.errstate(over="ignore"):
        return mix64(base + np.asarray(ids).astype(np.int64).view(np.uint64) * GOLDEN)


def draws(keys: np.ndarray, counters: np.ndarray) -> np.ndarray:
    """uint64 draws for (row key, counter) pairs, as splitmix64's stream seeded by the key;
    ``keys`` and ``counters`` broadcast."""
    with np.errstate(over="ignore"):
        return mix64(keys + (np.asarray(counters, dtype=np.uint64) + np.uint64(1)) * GOLDEN)


def uniform(bits: np.ndarray) -> np.ndarray:
    """uint64 draws as floats in [0, 1), from their top 53 bits."""
    return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
