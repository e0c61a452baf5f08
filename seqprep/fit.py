"""Fitted state: statistics learned on the training split, saved as one JSON file.

Counting is map-then-merge: each batch is counted on its own and the counts are merged, so
the same code runs shard by shard, in a process pool or on a cluster.

- Token data: every token's count and rank (rank 1 = most frequent; ties broken by the
  token itself, so the file is deterministic), and the label classes.
- Numeric data: per channel, the count of values that are not NaN, mean, standard deviation
  (population), min and max; and the label classes.
"""

from __future__ import annotations

import json
import math
import os
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import __version__
from .dataset import BATCH_ROWS, open_source
from .engine import Progress, map_shards
from .errors import InputError, OutputError, UsageError, positive
from . import storage
from .atomic import check_target
from .output import describe_steps
from .kernels.encode import MAX_KMER, check_inf, check_kmer, first_infinite, infinite_error, token_rows
from .labels import class_order
from .padding import PadSpec
from .ragged import Ragged, from_arrow
from .workers import check_workers

FORMAT = "seqprep-stats"
STATS_LIMIT = 1 << 30  # bytes: a stats file larger than this is not one seqprep wrote for any real vocabulary


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
        # Memory bounded by the vocabulary, not the data: merged once the counts waiting pass
        # 2**18 rows and those already merged (each count is merged O(log) times). Merging at
        # 64 parts only held up to 64 shards' vocabularies: fit's peak RSS on 10x the bench
        # data was 1.22x that on 1x, 1.05x this way.
        waiting = sum(len(part) for part in self.parts[1:])
        if len(self.parts) >= 64 or waiting > max(1 << 18, len(self.parts[0])):
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

    def add(self, values: np.ndarray) -> int:
        """Add a batch's readings; NaN and infinite ones are skipped (callers refuse infinite
        ones first unless asked to treat them as NaN). Returns how many were infinite."""
        x = values.reshape(len(values), self.channels).astype(np.float64)
        ok = np.isfinite(x)
        infinite = int(np.isinf(x).sum()) if not ok.all() else 0
        batch = Moments(self.channels)
        batch.n = ok.sum(axis=0).astype(np.float64)
        if not batch.n.any():
            return infinite
        x0 = np.where(ok, x, 0.0)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # overflow: refused in to_json
            batch.mean = np.where(batch.n > 0, x0.sum(axis=0) / batch.n, 0.0)
        with np.errstate(invalid="ignore", over="ignore"):
            batch.m2 = (np.where(ok, x - batch.mean, 0.0) ** 2).sum(axis=0)
        batch.lo = np.where(ok, x, np.inf).min(axis=0)
        batch.hi = np.where(ok, x, -np.inf).max(axis=0)
        self.merge(batch)
        return infinite

    def merge(self, other: "Moments") -> None:
        """Add ``other``'s values (Chan et al.: exact up to rounding, which depends on the order)."""
        total = self.n + other.n
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # overflow: refused in to_json
            delta = other.mean - self.mean
            self.mean = np.where(total > 0, self.mean + delta * other.n / total, 0.0)
            self.m2 = self.m2 + other.m2 + np.where(total > 0, delta**2 * self.n * other.n / total, 0.0)
        self.n = total
        self.lo = np.minimum(self.lo, other.lo)
        self.hi = np.maximum(self.hi, other.hi)

    def to_json(self) -> list[dict]:
        out = []
        for c in range(self.channels):
            n = int(self.n[c])
            std = float(np.sqrt(self.m2[c] / n)) if n else None
            mean = float(self.mean[c]) if n else None
            if n and not (math.isfinite(mean) and math.isfinite(std)):
                raise InputError(f"channel {c}: the readings are too large for float64 arithmetic (mean {mean}, "
                                 f"std {std}, values up to {float(self.hi[c])}); scale them down first")
            out.append({
                "count": n,
                "mean": mean,
                "std": std,
                "min": float(self.lo[c]) if n else None,
                "max": float(self.hi[c]) if n else None,
            })
        return out


def fit(src: str, out: str, *, max_size: int | None = None, min_count: int = 1, kmer: int | None = None,
        kmer_stride: int = 1, lowercase: bool = False, inf: str = "error", overwrite: bool = False,
        batch_rows: int = BATCH_ROWS, progress: Progress | None = None, workers: int = 1,
        scheduler: str | None = None) -> dict:
    """Count ``src`` (the training split) and write the statistics to ``out`` (a .json file,
    or - for stdout). With ``kmer`` the tokens counted are the k-mers that ``encode --kmer``
    will make. Infinite readings stop the run (``inf="error"``) or, with ``inf="nan"``, are
    skipped like NaN and counted (``inf_ignored``).

    The file is the one :class:`seqprep.Vocabulary` (``KmerVocabulary``, ``Standardizer``)
    saves: both count with :class:`Counts` and write :func:`to_stats`."""
    positive(("--max-size", max_size))
    if min_count < 1:
        raise UsageError(f"--min-count {min_count} must be at least 1")
    check_kmer(kmer, kmer_stride)
    check_inf(inf)
    check_workers(workers, scheduler)
    check_stats_target(out, src, overwrite)
    source = open_source(src)
    steps = describe_steps(source.schema)
    is_tokens = steps["type"] in ("string", "int32", "int64", "large_string")
    if kmer is not None and steps["type"] != "string":
        raise UsageError(f"--kmer needs one-character string tokens (bases), but seq holds {steps['type']}")
    job = FitJob(padding=source.padding, is_tokens=is_tokens,
                 channels=steps["channels"] or 1, lowercase=lowercase, kmer=kmer, kmer_stride=kmer_stride, inf=inf)
    if progress is not None:
        progress.start(source.rows)
    # Map then merge, in shard order, wherever the shards are counted: the same file either way.
    merged = Counts.empty(is_tokens, job.channels)
    for counts in map_shards(source, count_shard, job, batch_rows=batch_rows, workers=workers, scheduler=scheduler):
        merged.merge(counts)
        if progress is not None:
            progress.advance(counts.rows)
    params = {"max_size": max_size, "min_count": min_count, "kmer": kmer, "kmer_stride": kmer_stride,
              "lowercase": lowercase, "inf": inf}
    stats = to_stats(merged, step_type=steps["type"], channels=steps["channels"], params=params,
                     fitted_on={"path": storage.shown(src), "manifest_sha256": source.input_sha256})
    write_stats(out, stats)
    return stats


def to_stats(counts: "Counts", *, step_type: str, channels: int | None, params: dict, fitted_on: dict | None) -> dict:
    """The stats file's contents for ``counts``: ``params`` holds max_size, min_count, kmer,
    kmer_stride, lowercase and inf as fitted (token counts are capped by the first two here)."""
    kmer, max_size, min_count = params["kmer"], params["max_size"], params["min_count"]
    stats = {
        "format": FORMAT,
        "version": 1,
        "kind": "tokens" if counts.tokens is not None else "numbers",
        "step_type": step_type,
        "channels": channels,
        "rows": counts.rows,
        "steps": counts.steps,
        "classes": class_order(counts.classes),
        "fitted_on": fitted_on,
        "params": {"max_size": max_size, "min_count": min_count, "kmer": kmer,
                   "kmer_stride": params["kmer_stride"] if kmer else None, "lowercase": params["lowercase"]},
        "seqprep_version": __version__,
    }
    if counts.tokens is not None:
        ranked = counts.tokens.ranked()
        stats["distinct_tokens"] = ranked.num_rows
        ranked = ranked.filter(pc.greater_equal(ranked.column("count"), min_count))
        if max_size is not None:
            ranked = ranked.slice(0, min(max_size, ranked.num_rows))
        stats["tokens"] = ranked.column("token").to_pylist()
        stats["counts"] = ranked.column("count").to_pylist()
    else:
        stats["channel_stats"] = counts.moments.to_json()
        stats["params"]["inf"] = params["inf"]
        stats["inf_ignored"] = counts.infinite
    return stats


def check_stats_target(out: str, src: str | None, overwrite: bool) -> None:
    """fit writes one JSON file: refuse a directory, and replace (with ``overwrite``) only a
    stats file seqprep wrote; then the checks every output gets (not the input, a writable place)."""
    if out == "-":
        return
    path = Path(out)
    if out.endswith(("/", os.sep)) and not os.path.lexists(path):
        raise OutputError(f"{out}: names a directory, but fit writes one JSON file; give OUT as the path of a "
                          "file, e.g. train-stats.json")
    if os.path.lexists(path):
        if path.is_symlink():
            raise OutputError(f"{out}: is a symbolic link; fit writes a new stats file, give OUT as a new path")
        if path.is_dir():
            raise OutputError(f"{out}: is a directory, but fit writes one JSON file; give OUT as the path of a "
                              "file, e.g. train-stats.json")
        if not path.is_file():
            raise OutputError(f"{out}: not a regular file (a FIFO or device); give OUT as a new file path")
    # Then what every output gets: not an input, only a stats file replaced, a writable place.
    check_target(out, inputs=(src,) if src else (), overwrite=overwrite, replaces=("stats",))


@dataclass
class FitJob:
    """What counting a shard needs (picklable, for worker processes and Dask)."""

    padding: PadSpec | None
    is_tokens: bool
    channels: int
    lowercase: bool
    kmer: int | None
    kmer_stride: int
    inf: str = "error"


@dataclass
class Counts:
    """What one batch, shard or stream of chunks (several merged in order) holds: the one
    count-and-merge that ``seqprep fit`` and the fitted transformers share."""

    rows: int
    steps: int
    tokens: TokenCounts | None
    moments: Moments | None
    classes: set
    infinite: int = 0
    label_type: str | None = None  # the label column's type, and the shard it was first seen in
    label_from: str | None = None

    @classmethod
    def empty(cls, is_tokens: bool, channels: int = 1) -> "Counts":
        return cls(0, 0, TokenCounts() if is_tokens else None, None if is_tokens else Moments(channels), set())

    def add(self, rows: Ragged, *, labels: pa.Array | None = None, ids=None, inf: str = "error",
            where: str = "") -> None:
        """Count a batch of rows (tokens already lowercased or made k-mers, see ``token_rows``)
        and its labels. ``inf="error"`` refuses an infinite reading, naming the row by ``ids``
        (or position); ``where`` names the batch in that message and in mixed label types."""
        self.rows += rows.n_rows
        self.steps += int(rows.offsets[-1])
        if self.tokens is not None:
            if len(rows.values):
                self.tokens.add(rows.values if isinstance(rows.values, pa.Array) else pa.array(rows.values))
        else:
            if inf == "error":
                found = first_infinite(rows.values, rows.offsets, ids)
                if found is not None:
                    raise InputError(f"{where}: {infinite_error(found)}" if where else infinite_error(found).cli_message)
            self.infinite += self.moments.add(rows.values)
        if labels is not None:
            type_name = label_type_name(labels.type)
            if type_name is not None:
                self.note_labels(type_name, where)
                self.classes.update(labels.drop_null().to_pylist())

    def note_labels(self, type_name: str, name: str) -> None:
        if self.label_type is None:
            self.label_type, self.label_from = type_name, name
        elif type_name != self.label_type:
            raise InputError(mixed_labels(self.label_type, self.label_from, type_name, name))

    def merge(self, other: "Counts") -> None:
        if other.label_type is not None:
            self.note_labels(other.label_type, other.label_from)
        self.rows += other.rows
        self.steps += other.steps
        self.infinite += other.infinite
        if self.tokens is not None:
            if other.tokens.parts:
                self.tokens.add_table(other.tokens.merged())
        else:
            self.moments.merge(other.moments)
        self.classes |= other.classes

    @classmethod
    def from_stats(cls, stats: dict) -> "Counts":
        """The counts a stats file holds (checked by :func:`check_stats`), to count more data on
        top: exact for tokens the file kept; moments rebuilt from count, mean and std."""
        classes = set(stats.get("classes", []))
        if stats["kind"] == "tokens":
            counts = cls(stats["rows"], stats["steps"], TokenCounts(), None, classes)
            fitted_strings = stats["step_type"] in ("string", "large_string") or stats["params"].get("kmer")
            if stats["tokens"]:
                counts.tokens.add_table(pa.table({"token": pa.array(stats["tokens"], pa.string() if fitted_strings
                                                                    else pa.int64()),
                                                  "count": pa.array(stats["counts"], pa.int64())}))
        else:
            chans = stats["channel_stats"]
            moments = Moments(len(chans))
            for c, ch in enumerate(chans):
                if ch["count"]:
                    moments.n[c], moments.mean[c] = ch["count"], ch["mean"]
                    moments.m2[c] = ch["std"] ** 2 * ch["count"]
                    moments.lo[c], moments.hi[c] = ch["min"], ch["max"]
            counts = cls(stats["rows"], stats["steps"], None, moments, classes, stats.get("inf_ignored", 0))
        if classes:
            counts.label_type, counts.label_from = ("string" if isinstance(next(iter(classes)), str) else "int64",
                                                    "the fitted state")
        return counts


def label_type_name(t: pa.DataType) -> str | None:
    """The label type as the contract names it (int64, string); None for an all-null column."""
    if pa.types.is_null(t):
        return None
    if pa.types.is_integer(t):
        return "int64"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    return str(t)


def mixed_labels(first: str, first_in: str, other: str, other_in: str) -> str:
    return (f"labels are {first} in {first_in} but {other} in {other_in}; a dataset's labels must all be one "
            "type: re-ingest it, or cast the labels to string")


def count_shard(job: FitJob, i: int, name: str, batches) -> Counts:
    """Count one shard (here or in a worker: :func:`seqprep.engine.map_shards`)."""
    counts = Counts.empty(job.is_tokens, job.channels)
    side = job.padding.side if job.padding is not None else "end"
    for batch in batches:
        seq = batch.column("seq")
        lengths = batch.column("length") if job.padding and "length" in batch.schema.names else None
        try:
            r = from_arrow(seq, lengths, side) if lengths is not None else from_arrow(seq)
            r = token_rows(r, lowercase=job.lowercase, kmer=job.kmer, kmer_stride=job.kmer_stride)
        except InputError as e:
            raise InputError(f"{name}: {e}") from None
        ids = None
        if not job.is_tokens and job.inf == "error" and "id" in batch.schema.names:
            ids = batch.column("id").to_numpy(zero_copy_only=False)
        labels = batch.column("label") if "label" in batch.schema.names else None
        counts.add(r, labels=labels, ids=ids, inf=job.inf, where=name)
    return counts


def write_stats(out: str, stats: dict) -> None:
    """The stats as strict JSON (no NaN or Infinity, which JSON does not have): to stdout for
    -, else written beside OUT and renamed over it, so a reader sees the old file or the new."""
    try:
        text = json.dumps(stats, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError:
        raise InputError(f"{out}: the statistics hold a non-finite number, which JSON cannot store; "
                         "check the readings for infinities or overflow") from None
    if out == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_json_atomically(Path(out), text)


def write_json_atomically(path: Path, obj: dict | str) -> None:
    text = obj if isinstance(obj, str) else json.dumps(obj, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{path}: cannot create its folder ({e.strerror or e})") from None
    tmp = path.parent / f".{path.name}.seqprep-tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise OutputError(f"{path}: cannot write it ({e.strerror or e})") from None
        raise


def load_stats(path: str, option: str = "--stats") -> dict:
    """A stats file written by ``seqprep fit``, every field checked; anything else is one clear error."""
    remake = f"make it with `seqprep fit TRAIN {path}`"
    path = storage.local_only(path, f"{option} (a stats file)")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such stats file; {remake}") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read the stats file ({e.strerror or e})") from None
    if os.path.isdir(path):
        raise InputError(f"{path}: is a directory; {option} takes the JSON file written by `seqprep fit`")
    if not os.path.isfile(path):
        raise InputError(f"{path}: not a regular file (a FIFO or device); {option} takes the JSON file written by "
                         "`seqprep fit`")
    if st.st_size > STATS_LIMIT:
        raise InputError(f"{path}: {st.st_size:,} bytes, larger than any stats file seqprep writes "
                         f"({STATS_LIMIT:,}); {remake}")

    def no_constants(name):
        raise ValueError(f"{name} is not a JSON number")

    try:
        with open(path, "rb") as f:
            raw = f.read()
        stats = json.loads(raw.decode("utf-8"), parse_constant=no_constants)
    except OSError as e:
        raise InputError(f"{path}: cannot read the stats file ({e.strerror or e})") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not a JSON stats file ({str(e).splitlines()[0]}); {remake}") from None
    except RecursionError:
        raise InputError(f"{path}: not a JSON stats file (nested too deeply); {remake}") from None
    if not isinstance(stats, dict) or stats.get("format") != FORMAT:
        raise InputError(f"{path}: not a seqprep stats file; make it with `seqprep fit`")
    check_stats(stats, path)
    return stats


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_stats(stats: dict, path: str) -> None:
    """Type- and range-check a stats file's fields before anything uses them."""
    def bad(what: str):
        raise InputError(f"{path}: {what}; the stats file is damaged or was edited: make it again with `seqprep fit`")

    if stats.get("version") != 1 or not _is_int(stats.get("version")):
        bad(f"version {stats.get('version')!r} is not 1")
    kind = stats.get("kind")
    if kind not in ("tokens", "numbers"):
        bad(f"kind {kind!r} is not 'tokens' or 'numbers'")
    if not isinstance(stats.get("step_type"), str):
        bad(f"step_type {stats.get('step_type')!r} is not a type name")
    channels = stats.get("channels")
    if channels is not None and not (_is_int(channels) and 1 <= channels < 2**31):
        bad(f"channels {channels!r} is not a positive integer")
    params = stats.get("params", {})
    if not isinstance(params, dict):
        bad(f"params {params!r} is not an object")
    kmer = params.get("kmer")
    if kmer is not None and not (_is_int(kmer) and 1 <= kmer <= MAX_KMER):
        bad(f"params.kmer {kmer!r} is not an integer from 1 to {MAX_KMER}")
    classes = stats.get("classes", [])
    if not isinstance(classes, list):
        bad(f"classes {str(classes)[:40]!r} is not a list")
    kinds = {"string" if isinstance(c, str) else "int64" if _is_int(c) and -2**63 <= c < 2**63 else "bad"
             for c in classes}
    if "bad" in kinds:
        value = next(c for c in classes if not (isinstance(c, str) or (_is_int(c) and -2**63 <= c < 2**63)))
        bad(f"class {str(value)[:40]!r} is not a string or an int64")
    if len(kinds) > 1:
        bad("classes mix strings and integers")
    if len(set(classes)) != len(classes):
        bad("classes lists a class twice")
    if kind == "tokens":
        tokens, counts = stats.get("tokens"), stats.get("counts")
        if not isinstance(tokens, list) or not isinstance(counts, list) or len(tokens) != len(counts):
            bad("tokens and counts are not two lists of the same length")
        strings = stats["step_type"] in ("string", "large_string") or kmer is not None
        for i, t in enumerate(tokens):
            if strings and not isinstance(t, str) or not strings and not (_is_int(t) and -2**63 <= t < 2**63):
                bad(f"token {i} ({str(t)[:40]!r}) is not {'a string' if strings else 'an int64 token id'}")
        for i, c in enumerate(counts):
            if not (_is_int(c) and 0 <= c < 2**63):
                bad(f"count {i} ({str(c)[:40]!r}) is not a non-negative integer")
    else:
        chans = stats.get("channel_stats")
        if not isinstance(chans, list) or not chans or len(chans) != (channels or 1):
            bad(f"channel_stats does not hold one entry per channel ({channels or 1})")
        for c, ch in enumerate(chans):
            if not isinstance(ch, dict) or not (_is_int(ch.get("count")) and ch["count"] >= 0):
                bad(f"channel {c}: count {ch.get('count') if isinstance(ch, dict) else ch!r} is not a non-negative "
                    "integer")
            if ch["count"] == 0 and ch.get("mean") is None and ch.get("std") is None:
                continue
            mean, std, lo, hi = ch.get("mean"), ch.get("std"), ch.get("min"), ch.get("max")
            if not _is_number(mean):
                bad(f"channel {c}: mean {mean!r} is not a finite number")
            if not _is_number(std) or std < 0:
                bad(f"channel {c}: std {std!r} is not a finite number of at least 0")
            if std == 0 and not (_is_number(lo) and lo == hi):
                bad(f"channel {c}: std is 0 but its readings are not all equal (min {lo!r}, max {hi!r})")
            if not (_is_number(lo) and _is_number(hi) and lo <= hi):
                bad(f"channel {c}: min {lo!r} and max {hi!r} are not two finite numbers, min <= max")
    if not (_is_int(stats.get("rows")) and 0 <= stats["rows"] < 2**63):
        bad(f"rows {stats.get('rows')!r} is not a non-negative integer")
    if "params" not in stats:
        bad("params is missing")
    stride = params.get("kmer_stride")
    if stride is not None and not (_is_int(stride) and 1 <= stride <= MAX_KMER):
        bad(f"params.kmer_stride {stride!r} is not an integer from 1 to {MAX_KMER}")
    ignored = stats.get("inf_ignored", 0)
    if not (_is_int(ignored) and 0 <= ignored < 2**63):
        bad(f"inf_ignored {ignored!r} is not a non-negative integer")
    if kind == "tokens":
        distinct = stats.get("distinct_tokens")
        if not (_is_int(distinct) and len(stats["tokens"]) <= distinct < 2**63):
            bad(f"distinct_tokens {distinct!r} is not an integer of at least the {len(stats['tokens'])} tokens kept")
        if len(set(stats["tokens"])) != len(stats["tokens"]):
            bad("tokens lists a token twice")
