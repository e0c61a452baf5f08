"""holdout: split a dataset into training and validation sets by id.

Every row goes where its id goes, so the windows and crops of one sequence (which keep their
parent's id) never straddle the two sets. Where an id goes is decided from a counter-based
hash of (seed, id) alone (:mod:`seqprep.kernels.random`), never from row order, shards or
workers, so the same input and seed give the same split however the input is cut.

- Without ``stratify``: an id goes to VAL when its hash, as a number in [0, 1), is below
  ``fraction``. One pass (a stream on stdin works); VAL holds about ``fraction`` of the ids.
- With ``stratify``: within each class, the ids are ranked by their hash and the lowest
  ``round(fraction * n)`` go to VAL (halves rounded up; at most ``n - 1``, so every class
  keeps an id for training). Two passes: the first counts the distinct ids of each class,
  the second writes. Memory is bounded by the number of distinct ids (8 bytes each, plus
  what sorting them takes), not by the rows or their steps; the second pass holds one
  threshold per class. Rows without a label are a class of their own. An input read once
  (stdin) cannot be read twice, and is refused.

Both outputs are written beside their targets and put in place together at the end: a
failure before then leaves neither, and both targets are checked again just before the
first is renamed into place.
"""

from __future__ import annotations

import math
import shutil
from contextlib import ExitStack

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import storage
from ..objectstore import interrupted_after, signals_wait
from ..dataset import BATCH_ROWS, Source, open_source
from ..engine import Progress
from ..errors import InputError, OutputError, UsageError
from ..kernels.random import row_keys, uniform
from ..output import DatasetSink, check_target, step_record

STREAM = 0x401D  # this step's stream of randomness (kernels.random.row_keys)
COMPACT_EVERY = 1 << 20  # ids gathered for a class between two de-duplications


def holdout(src: str, train_out: str, val_out: str, *, fraction: float, seed: int, stratify: bool = False,
            overwrite: bool = False, batch_rows: int = BATCH_ROWS,
            progress: Progress | None = None) -> tuple[dict, dict]:
    """Write the rows of ``src`` into ``train_out`` and ``val_out``, each id wholly in one;
    returns the two manifests (train, val). See the module's docstring for how ids are chosen."""
    _check(fraction, seed)
    for out in (train_out, val_out):
        if out == "-":
            raise UsageError("holdout writes two datasets; give TRAIN_OUT and VAL_OUT as paths, not '-'")
    if storage.same_place(train_out, val_out):
        raise UsageError(f"TRAIN_OUT and VAL_OUT are the same path ({storage.shown(train_out)}); give two paths")
    for a, b in ((train_out, val_out), (val_out, train_out)):
        if storage.inside(a, b):
            raise UsageError(f"{storage.shown(a)} is inside {storage.shown(b)}; give TRAIN_OUT and VAL_OUT side by side")
    check_target(train_out, inputs=(src,), overwrite=overwrite)
    check_target(val_out, inputs=(src,), overwrite=overwrite)
    source = open_source(src)
    if stratify:
        if "label" not in source.schema.names:
            raise UsageError(f"--stratify keeps class proportions, but {src} has no label column; drop --stratify")
        if source.is_stream:
            raise UsageError("--stratify reads IN twice (to count each class's ids, then to write), and stdin "
                             "can be read only once; write the stream to a directory first")
        thresholds = _thresholds(_class_ids(source, batch_rows), fraction, seed)
        source = open_source(src)  # the second pass: the manifest is read (and checked) again
        decide = _stratified(thresholds, seed)
    else:
        decide = _plain(fraction, seed)

    params = {"fraction": fraction, "stratify": stratify}
    extra = {k: source.manifest[k] for k in ("encoding",) if source.manifest and k in source.manifest}
    schema = source.schema.remove_metadata()
    with ExitStack() as stack:
        sinks = {}
        for role, out in (("train", train_out), ("val", val_out)):
            lineage = source.lineage + [step_record("holdout", {**params, "output": role},
                                                    input_sha256=source.input_sha256, seed=seed)]
            sink = stack.enter_context(DatasetSink(out, lineage=lineage, padding=source.padding, overwrite=overwrite,
                                                   shard_rows=STREAM_SHARD_ROWS if source.in_process else None,
                                                   extra=dict(extra)))
            sink.expect(schema)
            sink.dir = _Deferred(sink.dir)
            sinks[role] = sink
        _write(source, sinks["train"], sinks["val"], decide, batch_rows, progress)
        manifests = sinks["train"].finish(), sinks["val"].finish()  # manifests written, nothing committed yet
        _commit_both(sinks["train"].dir, sinks["val"].dir)
    return manifests


STREAM_SHARD_ROWS = 10_000  # as the other steps cut a stream's output


def _check(fraction, seed) -> None:
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not math.isfinite(fraction) \
            or not 0 < fraction < 1:
        raise UsageError(f"--fraction {fraction} must be between 0 and 1 (exclusive): the share of ids held out")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64:
        raise UsageError(f"--seed {seed} must be an integer from 0 to 2**64 - 1")


# ---------------------------------------------------------------------------------------------
# Where each row goes


def _ids(name: str, batch: pa.RecordBatch) -> np.ndarray:
    col = batch.column("id")
    if col.null_count:
        raise InputError(f"{name}: column 'id' has {col.null_count:,} nulls; every row needs an id to be split by")
    return col.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def _plain(fraction: float, seed: int):
    def decide(name: str, batch: pa.RecordBatch) -> np.ndarray:
        return uniform(row_keys(seed, _ids(name, batch), STREAM)) < fraction
    return decide


def _codes(batch: pa.RecordBatch) -> tuple[np.ndarray, list]:
    """Each row's class as an index into the batch's classes (None: no label)."""
    col = batch.column("label")
    if pa.types.is_null(col.type):
        return np.zeros(batch.num_rows, np.int64), [None]
    encoded = pc.dictionary_encode(col)
    classes = encoded.dictionary.to_pylist() + [None]
    codes = encoded.indices.fill_null(len(classes) - 1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, classes


class _ClassIds:
    """The distinct ids of one class, gathered batch by batch, de-duplicated as they grow."""

    def __init__(self):
        self.unique = np.zeros(0, np.int64)
        self.pending: list[np.ndarray] = []
        self.pending_rows = 0

    def add(self, ids: np.ndarray) -> None:
        self.pending.append(ids)
        self.pending_rows += len(ids)
        if self.pending_rows > max(COMPACT_EVERY, len(self.unique)):
            self.compact()

    def compact(self) -> np.ndarray:
        if self.pending:
            self.unique = np.unique(np.concatenate([self.unique, *self.pending]))
            self.pending, self.pending_rows = [], 0
        return self.unique


def _class_ids(source: Source, batch_rows: int) -> dict:
    """The first pass: the distinct ids of each class; an id under two labels is refused."""
    by_class: dict = {}
    for name, batches in source.shard_batches(batch_rows):
        for batch in batches:
            ids = _ids(name, batch)
            codes, classes = _codes(batch)
            order = np.argsort(codes, kind="stable")
            bounds = np.searchsorted(codes[order], np.arange(len(classes) + 1))
            for c, label in enumerate(classes):
                if bounds[c] < bounds[c + 1]:
                    by_class.setdefault(label, _ClassIds()).add(ids[order[bounds[c]:bounds[c + 1]]])
    unique = {label: ids.compact() for label, ids in by_class.items()}
    if len(unique) > 1:
        every = np.concatenate(list(unique.values()))
        seen, counts = np.unique(every, return_counts=True)
        if (counts > 1).any():
            twice = int(seen[counts > 1][0])
            labels = [label for label, ids in unique.items() if np.isin(twice, ids)]
            raise InputError(f"{source.path}: id {twice} has rows labelled {labels[0]!r} and {labels[1]!r}; a split "
                             "by id needs one label per id (re-ingest with unique ids, or drop --stratify)")
    return unique


def _thresholds(unique: dict, fraction: float, seed: int) -> dict:
    """Per class, the (hash, id) of the last id that goes to VAL, or None when none does."""
    out = {}
    for label, ids in unique.items():
        n = len(ids)
        k = min(math.floor(fraction * n + 0.5), n - 1)
        if k <= 0:
            out[label] = None
            continue
        keys = row_keys(seed, ids, STREAM)
        last = np.lexsort((ids, keys))[k - 1]  # ranked by hash, ties (never in practice) by id
        out[label] = (keys[last], ids[last])
    return out


def _stratified(thresholds: dict, seed: int):
    def decide(name: str, batch: pa.RecordBatch) -> np.ndarray:
        ids = _ids(name, batch)
        keys = row_keys(seed, ids, STREAM)
        codes, classes = _codes(batch)
        val = np.zeros(len(ids), dtype=bool)
        for c, label in enumerate(classes):
            rows = codes == c
            if not rows.any():
                continue
            if label not in thresholds:
                raise InputError(f"{name}: label {label!r} appeared between the two reads of the input; "
                                 "it changed while holdout ran")
            if thresholds[label] is None:
                continue
            key, last = thresholds[label]
            val[rows] = (keys[rows] < key) | ((keys[rows] == key) & (ids[rows] <= last))
        return val
    return decide


# ---------------------------------------------------------------------------------------------
# Writing both outputs


def _write(source: Source, train: DatasetSink, val: DatasetSink, decide, batch_rows: int,
           progress: Progress | None) -> None:
    if progress is not None:
        progress.start(source.rows)
    for name, batches in source.shard_batches(batch_rows):
        for batch in batches:
            to_val = decide(name, batch)
            for sink, mask in ((val, to_val), (train, ~to_val)):
                if mask.any():
                    sink.write(batch.filter(pa.array(mask)))
            if progress is not None:
                progress.advance(batch.num_rows)
        train.end_shard()  # each output's shards mirror the input's
        val.end_shard()


class _Deferred:
    """A sink's AtomicDir whose commit waits: ``finish()`` writes the manifest and calls
    ``commit``, which here only marks it ready; :func:`_commit_both` commits for real."""

    def __init__(self, atomic):
        self.atomic = atomic
        self.ready = False

    def __getattr__(self, name):
        return getattr(self.atomic, name)

    def commit(self) -> None:
        self.ready = True


def _commit_both(train: _Deferred, val: _Deferred) -> None:
    """Put both outputs in place, or neither. Each target is checked first as its commit will
    check it (nothing appeared there unasked while the run wrote, or became something seqprep
    did not make), so a refusal comes before either rename. Should the second commit fail all
    the same, a first output that replaced nothing is taken back out."""
    for d in (train, val):
        _check_commit(d.atomic)
    new = train.atomic.present() is None
    with signals_wait() as caught:  # Ctrl-C or SIGTERM wait for both commits
        train.atomic.commit()
        try:
            val.atomic.commit()
        except BaseException:
            if new:
                train.atomic.take_back()
            raise
    if caught:
        raise interrupted_after(caught, f"{train.atomic.out} and {val.atomic.out}")


def _check_commit(atomic) -> None:
    present = atomic.present()
    if present is not None:
        if not atomic.overwrite:
            raise OutputError(f"{atomic.out}: appeared while writing; pass --overwrite to replace it")
        if present == "other":
            raise OutputError(f"{atomic.out}: changed while writing and now holds files seqprep did not make; "
                              "nothing was replaced")
