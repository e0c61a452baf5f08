"""Fitted state: statistics learned on the training split, saved as one JSON file.

Counting is map-then-merge: each batch is counted on its own and the counts are merged, so
the same code runs shard by shard, in a process pool or on a cluster.

- Token data: every token's count and rank (rank 1 = most frequent; ties broken by the
  token itself, so the file is deterministic), and the label classes.
- Numeric data: per channel, the count of values that are not NaN, mean, standard deviation
  (population), min and max; and the label classes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import __version__
from .dataset import BATCH_ROWS, ShardFiles, open_source
from .engine import Progress, prefetch
from .errors import InputError, UsageError, positive
from .output import check_target, describe_steps
from .kernels.encode import kmers
from .ragged import from_arrow
from .workers import check_workers, open_pool

FORMAT = "seqprep-stats"


@dataclass
class TokenCounts:
    """Token -> count, merged from per-batch value counts."""

    parts: list[pa.Table] = field(default_factory=list)

    def add(self, values: pa.Array) -> None:
        vc = pc.value_counts(values.drop_null() if values.null_count else values)
        self.add_table(pa.table({"token": vc.field("values"), "count": vc.field("counts")}))

    def add_table(self, table: pa.Table) -> None:
        """Counts made elsewhere (another shard's), as a table of token, count."""
        self.parts.append(table)
        if len(self.parts) >= 64:  # keep memory bounded by the vocabulary, not the data
            self.parts = [self.merged()]

    def merged(self) -> pa.Table:
        if not self.parts:
            return pa.table({"token": pa.array([], pa.string()), "count": pa.array([], pa.int64())})
        table = pa.concat_tables(self.parts).group_by("token").aggregate([("count", "sum")])
        return table.rename_columns(["token", "count"])

    def ranked(self) -> pa.Table:
        """Most frequent first; ties by the token itself."""
        table = self.merged()
        return table.take(pc.sort_indices(table, [("count", "descending"), ("token", "ascending")]))


@dataclass
class Moments:
    """Per-channel count, mean, M2 (Chan et al.'s parallel update), min and max, ignoring NaN."""

    channels: int
    n: np.ndarray = None
    mean: np.ndarray = None
    m2: np.ndarray = None
    lo: np.ndarray = None
    hi: np.ndarray = None

    def __post_init__(self):
        c = self.channels
        self.n, self.mean, self.m2 = np.zeros(c), np.zeros(c), np.zeros(c)
        self.lo, self.hi = np.full(c, np.inf), np.full(c, -np.inf)

    def add(self, values: np.ndarray) -> None:
        x = values.reshape(len(values), self.channels).astype(np.float64)
        ok = ~np.isnan(x)
        batch = Moments(self.channels)
        batch.n = ok.sum(axis=0).astype(np.float64)
        if not batch.n.any():
            return
        x0 = np.where(ok, x, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            batch.mean = np.where(batch.n > 0, x0.sum(axis=0) / batch.n, 0.0)
        batch.m2 = (np.where(ok, x - batch.mean, 0.0) ** 2).sum(axis=0)
        batch.lo = np.where(ok, x, np.inf).min(axis=0)
        batch.hi = np.where(ok, x, -np.inf).max(axis=0)
        self.merge(batch)

    def merge(self, other: "Moments") -> None:
        """Add ``other``'s values (Chan et al.: exact up to rounding, which depends on the order)."""
        total = self.n + other.n
        delta = other.mean - self.mean
        with np.errstate(invalid="ignore", divide="ignore"):
            self.mean = np.where(total > 0, self.mean + delta * other.n / total, 0.0)
            self.m2 = self.m2 + other.m2 + np.where(total > 0, delta**2 * self.n * other.n / total, 0.0)
        self.n = total
        self.lo = np.minimum(self.lo, other.lo)
        self.hi = np.maximum(self.hi, other.hi)

    def to_json(self) -> list[dict]:
        out = []
        for c in range(self.channels):
            n = int(self.n[c])
            out.append({
                "count": n,
                "mean": float(self.mean[c]) if n else None,
                "std": float(np.sqrt(self.m2[c] / n)) if n else None,
                "min": float(self.lo[c]) if n else None,
                "max": float(self.hi[c]) if n else None,
            })
        return out


def fit(src: str, out: str, *, max_size: int | None = None, min_count: int = 1, kmer: int | None = None,
        kmer_stride: int = 1, lowercase: bool = False, overwrite: bool = False,
        batch_rows: int = BATCH_ROWS, progress: Progress | None = None, workers: int = 1,
        scheduler: str | None = None) -> dict:
    """Count ``src`` (the training split) and write the statistics to ``out`` (a .json file).
    With ``kmer`` the tokens counted are the k-mers that ``encode --kmer`` will make."""
    positive(("--max-size", max_size))
    if min_count < 1:
        raise UsageError(f"--min-count {min_count} must be at least 1")
    check_workers(workers, scheduler)
    check_target(out, inputs=(src,), overwrite=overwrite)
    source = open_source(src)
    steps = describe_steps(source.schema)
    is_tokens = steps["type"] in ("string", "int32", "int64", "large_string")
    if kmer is not None and steps["type"] != "string":
        raise UsageError(f"--kmer needs one-character string tokens (bases), but seq holds {steps['type']}")
    job = FitJob(files=source.shard_files(batch_rows), padding=source.padding, is_tokens=is_tokens,
                 channels=steps["channels"] or 1, lowercase=lowercase, kmer=kmer, kmer_stride=kmer_stride)
    if progress is not None:
        progress.start(source.rows)
    # Map then merge, in shard order, wherever the shards are counted: the same file either way.
    merged = Counts.empty(job)
    pool = None if source.is_stream else open_pool(workers, scheduler, shards=len(source.shards))
    if pool is None:
        for name, batches in source.shard_batches(batch_rows):
            merged.merge(count_batches(job, name, prefetch(batches), progress))
    else:
        with pool:
            for counts in pool.map(count_shard, job, len(job.files.paths)):
                merged.merge(counts)
                if progress is not None:
                    progress.advance(counts.rows)
    rows, total, tokens, moments, classes = merged.rows, merged.steps, merged.tokens, merged.moments, merged.classes
    stats = {
        "format": FORMAT,
        "version": 1,
        "kind": "tokens" if is_tokens else "numbers",
        "step_type": steps["type"],
        "channels": steps["channels"],
        "rows": rows,
        "steps": total,
        "classes": sorted(classes),
        "fitted_on": {"path": src, "manifest_sha256": source.input_sha256},
        "params": {"max_size": max_size, "min_count": min_count, "kmer": kmer,
                   "kmer_stride": kmer_stride if kmer else None, "lowercase": lowercase},
        "seqprep_version": __version__,
    }
    if tokens is not None:
        ranked = tokens.ranked()
        stats["distinct_tokens"] = ranked.num_rows
        ranked = ranked.filter(pc.greater_equal(ranked.column("count"), min_count))
        if max_size is not None:
            ranked = ranked.slice(0, max_size)
        stats["tokens"] = ranked.column("token").to_pylist()
        stats["counts"] = ranked.column("count").to_pylist()
    else:
        stats["channel_stats"] = moments.to_json()
    write_json_atomically(Path(out), stats)
    return stats


@dataclass
class FitJob:
    """What counting a shard needs (picklable, for worker processes and Dask)."""

    files: ShardFiles
    padding: dict | None
    is_tokens: bool
    channels: int
    lowercase: bool
    kmer: int | None
    kmer_stride: int


@dataclass
class Counts:
    """What one shard (or several, merged in order) holds."""

    rows: int
    steps: int
    tokens: TokenCounts | None
    moments: Moments | None
    classes: set

    @classmethod
    def empty(cls, job: FitJob) -> "Counts":
        return cls(0, 0, TokenCounts() if job.is_tokens else None, None if job.is_tokens else Moments(job.channels),
                   set())

    def merge(self, other: "Counts") -> None:
        self.rows += other.rows
        self.steps += other.steps
        if self.tokens is not None:
            if other.tokens.parts:
                self.tokens.add_table(other.tokens.merged())
        else:
            self.moments.merge(other.moments)
        self.classes |= other.classes


def count_shard(job: FitJob, i: int) -> Counts:
    """Run in a worker: count shard ``i``."""
    return count_batches(job, job.files.names[i], job.files.batches(i))


def count_batches(job: FitJob, name: str, batches, progress: Progress | None = None) -> Counts:
    counts = Counts.empty(job)
    side = (job.padding or {}).get("side", "end")
    for batch in batches:
        seq = batch.column("seq")
        lengths = batch.column("length") if job.padding and "length" in batch.schema.names else None
        try:
            r = from_arrow(seq, lengths, side) if lengths is not None else from_arrow(seq)
        except InputError as e:
            raise InputError(f"{name}: {e}") from None
        if job.lowercase and isinstance(r.values, pa.Array):
            r = type(r)(pc.utf8_lower(r.values), r.offsets)
        if job.kmer is not None:
            r = kmers(r, k=job.kmer, stride=job.kmer_stride)
        counts.rows += batch.num_rows
        counts.steps += int(r.offsets[-1])
        if counts.tokens is not None:
            counts.tokens.add(r.values if isinstance(r.values, pa.Array) else pa.array(r.values))
        else:
            counts.moments.add(r.values)
        if "label" in batch.schema.names:
            counts.classes.update(batch.column("label").drop_null().to_pylist())
        if progress is not None:
            progress.advance(batch.num_rows)
    return counts


def write_json_atomically(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.seqprep-tmp-{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"
    tmp.write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n")
    tmp.replace(path)


def load_stats(path: str) -> dict:
    """A stats file written by ``seqprep fit``; anything else is one clear error."""
    try:
        stats = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: no such stats file; make it with `seqprep fit TRAIN {path}`") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not a JSON stats file ({str(e).splitlines()[0]}); make it with `seqprep fit`") from None
    if not isinstance(stats, dict) or stats.get("format") != FORMAT:
        raise InputError(f"{path}: not a seqprep stats file; make it with `seqprep fit`")
    return stats
