"""Labelled long sequences whose answer is known: the class signal sits at the start, the end,
the middle, or is spread thinly over the whole sequence. For tests, benchmarks and demos.

Tokens: string tokens from a Zipf-like vocabulary of 1,000 words; class k plants its marker
word "class{k}". Readings: 3 channels of noise; class k adds a burst of frequency
(k + 1) / 20 to channel 0 (spread: shifts channel 1's mean by 0.3 * (k - 0.5)). DNA: random
bases; class k plants its motif (spread: raises the G/C share of its bases).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import __version__
from .errors import UsageError, positive
from .output import DatasetSink, check_target

DOMAINS = ("tokens", "readings", "dna")
PLACES = ("start", "end", "middle", "spread")
TASKS = tuple(f"{d}-{p}" for d in DOMAINS for p in PLACES)
MOTIFS = ("TATAAT", "GGCGCC", "CATCAT", "TTGACA")
MAX_LENGTH = 10_000_000  # steps per sequence (each up to 1.25 times it)
MAX_N = 100_000_000  # sequences
REGION = 0.05  # the share of a sequence that holds the signal (start, end, middle)
SPREAD = 0.01  # the share of steps that carry it when spread


def _region(place: str, t: int, rng: np.random.Generator) -> tuple[int, int]:
    width = max(1, int(round(REGION * t)))
    if place == "start":
        return 0, width
    if place == "end":
        return t - width, t
    mid = t // 2 - width // 2
    return mid, mid + width


def _positions(place: str, t: int, count: int, rng: np.random.Generator) -> np.ndarray:
    if place == "spread":
        return np.sort(rng.choice(t, size=max(1, int(SPREAD * t)), replace=False))
    lo, hi = _region(place, t, rng)
    return np.sort(rng.choice(np.arange(lo, hi), size=min(count, hi - lo), replace=False))


def _tokens(place: str, t: int, label: int, rng: np.random.Generator) -> list:
    words = (rng.zipf(1.3, t) - 1) % 1000
    seq = np.array([f"w{w}" for w in words], dtype=object)
    seq[_positions(place, t, 3, rng)] = f"class{label}"
    return seq.tolist()


def _readings(place: str, t: int, label: int, rng: np.random.Generator) -> np.ndarray:
    x = rng.standard_normal((t, 3)).astype(np.float32)
    if place == "spread":
        x[:, 1] += 0.3 * (label - 0.5)
        return x
    lo, hi = _region(place, t, rng)
    steps = np.arange(hi - lo)
    x[lo:hi, 0] += 2.0 * np.sin(2 * np.pi * (label + 1) / 20 * steps)
    return x


def _dna(place: str, t: int, label: int, rng: np.random.Generator) -> list:
    if place == "spread":
        gc = 0.5 + 0.06 * (1 if label else -1)
        p = [(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2]
        return rng.choice(list("ACGT"), size=t, p=p).tolist()
    bases = rng.choice(list("ACGT"), size=t)
    motif = MOTIFS[label % len(MOTIFS)]
    lo, hi = _region(place, t, rng)
    first = min(lo, t - len(motif))  # a region narrower than the motif: it ends where the region ends
    at = int(rng.integers(first, max(first + 1, hi - len(motif) + 1)))
    bases[at:at + len(motif)] = list(motif)
    return bases.tolist()


def synth(out: str, *, task: str, n: int = 1000, length: int = 2000, classes: int = 2, seed: int = 0,
          overwrite: bool = False) -> dict:
    """Write ``n`` labelled sequences of about ``length`` steps (from 0.75 to 1.25 times it)."""
    if task not in TASKS:
        raise UsageError(f"--task {task!r} must be one of {', '.join(TASKS)}")
    positive(("--n", n))
    if n > MAX_N:
        raise UsageError(f"--n {n:,} must be at most {MAX_N:,}")
    if length < 20:
        raise UsageError(f"--length {length} must be at least 20")
    if length > MAX_LENGTH:
        raise UsageError(f"--length {length:,} must be at most {MAX_LENGTH:,}")
    if not 0 <= seed < 2**128:
        raise UsageError(f"--seed {seed} must be a non-negative integer below 2**128")
    if not 2 <= classes <= len(MOTIFS):
        raise UsageError(f"--classes {classes} must be between 2 and {len(MOTIFS)}")
    check_target(out, overwrite=overwrite)
    domain, place = task.split("-")
    rng = np.random.default_rng(seed)
    make = {"tokens": _tokens, "readings": _readings, "dna": _dna}[domain]
    params = {"task": task, "n": n, "length": length, "classes": classes}
    lineage = [{"command": "synth", "params": params, "seed": seed, "input_sha256": None,
                "seqprep_version": __version__}]
    step = pa.list_(pa.float32(), 3) if domain == "readings" else pa.string()
    with DatasetSink(out, lineage=lineage, overwrite=overwrite, shard_rows=10_000) as sink:
        for start in range(0, n, 1024):
            rows = range(start, min(n, start + 1024))
            labels = [int(rng.integers(classes)) for _ in rows]
            seqs = [make(place, int(rng.integers(int(0.75 * length), int(1.25 * length) + 1)), y, rng)
                    for y in labels]
            if domain == "readings":
                seq = pa.array([s.tolist() for s in seqs], pa.list_(step))
            else:
                seq = pa.array(seqs, pa.list_(step))
            sink.write(pa.RecordBatch.from_arrays(
                [pa.array(list(rows), pa.int64()), seq, pa.array([f"c{y}" for y in labels])],
                names=["id", "seq", "label"]))
        return sink.finish()
