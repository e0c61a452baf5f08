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


G32 = np.uint32(0x9E3779B9)


def fmix32(x: np.ndarray) -> np.ndarray:
    """murmur3's 32-bit finalizer, in place on a uint32 array (returned)."""
    tmp = np.empty_like(x)
    with np.errstate(over="ignore"):
        for shift, mult in ((16, 0x85EBCA6B), (13, 0xC2B2AE35)):
            np.right_shift(x, shift, out=tmp)
            np.bitwise_xor(x, tmp, out=x)
            np.multiply(x, np.uint32(mult), out=x)
        np.right_shift(x, 16, out=tmp)
        np.bitwise_xor(x, tmp, out=x)
    return x


def step_keys(keys: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """One uint32 draw per step of rows with these row keys and lengths, concatenated:
    step j of a row gets fmix32(top 32 bits of its key + (j + 1) * G32)."""
    total = int(lengths.sum())
    first = np.cumsum(lengths) - lengths
    with np.errstate(over="ignore"):
        base = (keys >> np.uint64(32)).astype(np.uint32) + (np.uint32(1) - first.astype(np.uint32)) * G32
        state = np.arange(total, dtype=np.uint32)
        np.multiply(state, G32, out=state)
        state += np.repeat(base, lengths)
    return fmix32(state)
