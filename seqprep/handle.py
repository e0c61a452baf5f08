"""Datasets from Python: ``sp.open(path)`` and steps applied to them.

    import seqprep as sp

    reviews = sp.open("data/reviews")
    print(reviews.rows, reviews.labels, reviews.lengths["p95"])
    short = reviews.apply(sp.Truncate(400, keep="both", head=100), "data/reviews-400")
    table = short.to_arrow()

A step is a small frozen dataclass holding its options (plain-picklable); ``apply`` runs it
over the dataset's shards into OUT with the same contract as the command line (atomic commit,
lineage, one-line errors) and returns the new dataset.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, fields

import pyarrow as pa

from .dataset import BATCH_ROWS, open_source
from .errors import InputError, UsageError
from .steps import Padding

__all__ = ["Dataset", "open", "Truncate", "Sample", "Split", "Summarize", "Encode", "Padding"]


class Dataset:
    """A dataset directory, a Parquet/Arrow file or an NPY export, opened and checked.

    Attributes
    ----------
    path : str
    schema : pyarrow.Schema
    rows : int or None
        From the manifest (None for a single file that has none).
    lengths : dict
        Length statistics (min, median, mean, p95, p99, max, total), from the manifest when
        there is one, else computed by one pass over the data.
    labels : dict or None
        ``{"type", "counts", "nulls"}``, or None when there is no label column.
    padding : PadSpec or None
        ``PadSpec(length, side, value)`` when ``seq`` is padded, else None.
    lineage : list
        Every step that made the dataset, with its parameters.
    """

    def __init__(self, path: str):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path: a dataset directory, Parquet/Arrow file or NPY export, not {path!r}")
        if path == "-":
            raise InputError("sp.open reads files and directories; a stream on stdin is for the command line")
        self.path = str(path)
        source = open_source(self.path, need_seq=False)
        self.schema: pa.Schema = source.schema
        self.padding = source.padding
        self.lineage = list(source.lineage)
        self._manifest = source.manifest
        self._summary: dict | None = None
        if source.manifest is not None:
            self._summary = {"rows": source.manifest["rows"], "lengths": source.manifest.get("lengths"),
                             "labels": source.manifest.get("labels")}

    def _summarized(self) -> dict:
        if self._summary is None or self._summary.get("lengths") is None:
            from .output import Stats

            stats = Stats()
            for batch in self.batches():
                stats.add(batch)
            self._summary = {"rows": stats.rows, **stats.summary()}
        return self._summary

    @property
    def rows(self) -> int:
        return self._summarized()["rows"]

    @property
    def lengths(self) -> dict:
        return self._summarized()["lengths"]

    @property
    def labels(self) -> dict | None:
        return self._summarized()["labels"]

    def batches(self, batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
        """The rows as Arrow record batches, shard by shard, in order (memory: one batch)."""
        if batch_rows < 1:
            raise ValueError(f"batch_rows={batch_rows} must be >= 1")
        for _, batches in open_source(self.path, need_seq=False).shard_batches(batch_rows):
            yield from batches

    def to_arrow(self) -> pa.Table:
        """Every row in one table (the whole dataset in memory)."""
        return pa.Table.from_batches(list(self.batches()), schema=self.schema)

    def apply(self, step, out: str, *, format: str = "parquet", workers: int = 1, scheduler: str | None = None,
              overwrite: bool = False) -> "Dataset":
        """Run ``step`` (a :class:`Truncate`, :class:`Sample`, ... object) over this dataset into
        ``out``, a dataset directory (``format="parquet"``) or an NPY export (``"npy"``);
        returns the new dataset."""
        if not hasattr(step, "_run"):
            raise TypeError(f"step: a seqprep step (Truncate, Sample, Split, Summarize, Encode), not {step!r}")
        for name, value, hint in (("out", out, "str"), ("format", format, "str"), ("workers", workers, "int"),
                                  ("scheduler", scheduler, "str | None"), ("overwrite", overwrite, "bool")):
            _check_option("apply", name, value, hint)
        if str(out) == "-":
            raise UsageError("apply: out='-' (a stream on stdout) is for the command line; give a directory")
        step._run(self.path, str(out), format=format, workers=workers, scheduler=scheduler, overwrite=overwrite)
        return Dataset(str(out))

    def __repr__(self) -> str:
        rows = self._summary["rows"] if self._summary else "?"
        return f"Dataset({self.path!r}, rows={rows}, columns={self.schema.names})"


def open(path: str) -> Dataset:  # noqa: A001 - sp.open, as the issue asks
    """Open a dataset directory, a Parquet/Arrow file or an NPY export (checked as every command
    checks its input)."""
    return Dataset(path)


def _check_option(owner: str, name: str, value, hint: str) -> None:
    """``value`` of the type ``hint`` (an annotation as written: ``int | None``...) names, or
    one line: a step never runs, let alone commits a dataset, with an option of another type."""
    kinds = {k.strip() for k in str(hint).split("|")}
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if value is None and "None" in kinds:
        return
    if "int" in kinds and number and isinstance(value, int):
        return
    if "float" in kinds and number and math.isfinite(value):
        return
    if "bool" in kinds and isinstance(value, bool):
        return
    if "str" in kinds and isinstance(value, (str, os.PathLike)):
        return
    if "dict" in kinds and isinstance(value, dict):
        return
    if "Padding" in kinds and isinstance(value, Padding):
        if not isinstance(value.pad, bool) or not isinstance(value.side, str):
            raise UsageError(f"{owner}: padding={value!r}: pad is True or False, side 'start' or 'end'")
        v = value.value
        if not (v is None or isinstance(v, str) or (isinstance(v, (int, float)) and not isinstance(v, bool)
                                                   and math.isfinite(v))):
            raise UsageError(f"{owner}: padding value={v!r} must be a finite number or a string (or None)")
        return
    wanted = " or ".join(sorted(k for k in kinds if k != "None")) + (" (or None)" if "None" in kinds else "")
    raise UsageError(f"{owner}: {name}={value!r} must be {wanted}")


class _Step:
    """Calls the library function of the command of the same name with the step's options."""

    def __post_init__(self):
        for f in fields(self):
            _check_option(type(self).__name__, f.name, getattr(self, f.name), f.type)

    def _options(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def _run(self, src: str, out: str, **how) -> dict:
        raise NotImplementedError


@dataclass(frozen=True)
class Truncate(_Step):
    """Keep ``length`` steps of every sequence (``keep``: "end", "start" or "both" with ``head``)."""

    length: int
    keep: str = "end"
    head: int | None = None
    padding: Padding = field(default_factory=Padding)

    def _run(self, src, out, **how):
        from .steps import truncate

        return truncate(src, out, **self._options(), **how)


@dataclass(frozen=True)
class Sample(_Step):
    """``length`` random steps ("steps") or ``copies`` random crops ("crop") of each sequence."""

    length: int
    seed: int
    mode: str = "steps"
    copies: int = 1
    overlap: bool = True
    padding: Padding = field(default_factory=Padding)

    def _run(self, src, out, **how):
        from .steps import sample

        return sample(src, out, **self._options(), **how)


@dataclass(frozen=True)
class Split(_Step):
    """Windows of ``length`` steps every ``stride`` steps, as rows, or as parallel features."""

    length: int
    stride: int | None = None
    last: str = "pad"
    features: bool = False
    parts: int | None = None
    padding: Padding = field(default_factory=Padding)

    def _run(self, src, out, **how):
        from .steps import split

        return split(src, out, **self._options(), **how)


@dataclass(frozen=True)
class Summarize(_Step):
    """Drop frequent, rare or listed tokens (with a stats file), or aggregate steps (``paa``, ``factor``)."""

    stats: str | None = None
    drop_top: int | None = None
    min_count: int | None = None
    stopwords: str | None = None
    paa: int | None = None
    factor: int | None = None
    agg: str = "mean"

    def _run(self, src, out, **how):
        from .steps import summarize

        return summarize(src, out, **self._options(), **how)


@dataclass(frozen=True)
class Encode(_Step):
    """Token ids, hashing, one-hot, k-mers or z-scored readings; the options of
    :func:`seqprep.steps.encode`, e.g. ``Encode(stats="stats.json", length=400)``."""

    options: dict = field(default_factory=dict)

    def __init__(self, **options):
        import inspect

        from .steps import encode

        params = inspect.signature(encode).parameters
        for name, value in options.items():
            if name in ("src", "out", "format", "overwrite", "workers", "scheduler", "progress") or name not in params:
                raise UsageError(f"Encode: no option {name}=; choose from "
                                 f"{', '.join(p for p in params if p not in ('src', 'out', 'progress'))}")
            _check_option("Encode", name, value, params[name].annotation)
        object.__setattr__(self, "options", dict(options))

    def _run(self, src, out, **how):
        from .steps import encode

        return encode(src, out, **self.options, **how)
