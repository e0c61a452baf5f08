"""What a dataset holds: rows, step type, labels, the length distribution, and what a
candidate length would keep. One streaming pass; the CLI renders the report."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import storage
from .dataset import BATCH_ROWS, open_source
from .engine import Progress
from .errors import InputError, UsageError, positive
from .output import Stats, counted_quantile, describe_steps
from .fit import label_type_name, mixed_labels
from .padding import PadSpec
from .plotting import check_image_target, pyplot, save

QUANTILES = (0.5, 0.75, 0.9, 0.95, 0.99, 1.0)
MAX_BINS = 10_000


@dataclass
class Report:
    path: str
    rows: int
    shards: int
    steps: dict
    padding: PadSpec | None
    labels: dict | None  # label -> count
    null_labels: int
    lengths: dict
    histogram: dict  # edges (len bins + 1) and counts
    candidates: list[dict]  # length, share of sequences that fit, share of steps truncation keeps

    def to_dict(self) -> dict:
        return asdict(self)


def round_up_2sig(x: int) -> int:
    """Round up to two significant digits: 1847 -> 1900, 97 -> 97."""
    if x < 100:
        return int(x)
    step = 10 ** (int(math.log10(x)) - 1)
    return int(-(-x // step) * step)


def candidates(lengths: np.ndarray, counts: np.ndarray | None = None) -> list[dict]:
    """For lengths near the 50th..100th percentiles: the share of sequences that fit, and of steps
    kept. ``counts``: how many rows have each of ``lengths`` (distinct, ascending); else one each."""
    values, counts = _counted(lengths, counts)
    if len(values) == 0:
        return []
    n, total = int(counts.sum()), int((values * counts).sum())
    out = []
    for q in QUANTILES:
        cand = max(1, round_up_2sig(counted_quantile(values, counts, q)))
        if out and cand <= out[-1]["length"]:
            continue
        out.append({
            "length": cand,
            "quantile": q,
            "fit": int(counts[values <= cand].sum()) / n,
            "kept": int((np.minimum(values, cand) * counts).sum()) / total if total else 1.0,
        })
    return out


def _counted(lengths: np.ndarray, counts: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if counts is None:
        return np.unique(np.asarray(lengths, dtype=np.int64), return_counts=True)
    return np.asarray(lengths, dtype=np.int64), np.asarray(counts, dtype=np.int64)


def histogram(lengths: np.ndarray, bins: int = 20, counts: np.ndarray | None = None) -> dict:
    """Counts of lengths in at most ``bins`` integer bins [edges[i], edges[i+1]), log-spaced when
    lengths span more than 50x, else linear; one bin per length when there are few lengths.
    ``counts`` as for :func:`candidates`."""
    values, counts = _counted(lengths, counts)
    if len(values) == 0:
        return {"edges": [], "counts": [], "log": False}
    lo, hi = int(values.min()), int(values.max())
    log = hi > 50 * max(lo, 1)
    if hi - lo + 1 <= bins:
        edges = np.arange(lo, hi + 2)
    else:
        raw = np.geomspace(max(lo, 1), hi + 1, bins + 1) if log else np.linspace(lo, hi + 1, bins + 1)
        edges = np.unique(np.concatenate([[lo], np.ceil(raw[1:-1]), [hi + 1]]).astype(np.int64))
    binned = np.bincount(np.searchsorted(edges, values, side="right") - 1, weights=counts, minlength=len(edges) - 1)
    return {"edges": edges.tolist(), "counts": binned[:len(edges) - 1].astype(np.int64).tolist(), "log": bool(log)}


def inspect(src: str, *, bins: int = 20, batch_rows: int = BATCH_ROWS, progress: Progress | None = None) -> Report:
    """Read ``src`` once and describe it."""
    positive(("--bins", bins))
    if bins > MAX_BINS:
        raise UsageError(f"--bins {bins:,} must be at most {MAX_BINS:,}")
    source = open_source(src)
    stats = Stats()
    if progress is not None:
        progress.start(source.rows)
    label_type = label_from = None
    for name, batches in source.shard_batches(batch_rows):
        for batch in batches:
            if "label" in batch.schema.names:
                type_name = label_type_name(batch.schema.field("label").type)
                if type_name is not None and label_type is None:
                    label_type, label_from = type_name, name
                elif type_name is not None and type_name != label_type:
                    raise InputError(mixed_labels(label_type, label_from, type_name, name))
            stats.add(batch)
            if progress is not None:
                progress.advance(batch.num_rows)
    values, counts = stats.lengths.merged()
    summary = stats.summary()
    return Report(
        path=storage.shown(src),
        rows=stats.rows,
        shards=len(source.shards) if not source.in_process else 1,
        steps=describe_steps(source.schema),
        padding=source.padding,
        labels=summary["labels"]["counts"] if summary["labels"] else None,
        null_labels=summary["labels"]["nulls"] if summary["labels"] else 0,
        lengths=summary["lengths"],
        histogram=histogram(values, bins, counts),
        candidates=candidates(values, counts),
    )


def check_plot_path(path: str) -> None:
    """Refuse, before reading any data, a --plot path that cannot be written."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{path}: is a directory; --plot takes the path of a PNG file to write")
    if os.path.lexists(p) and not p.is_file():
        raise InputError(f"{path}: not a regular file; --plot takes the path of a PNG file to write")
    check_image_target(path)
    fmt = p.suffix[1:].lower() or "png"
    pyplot()  # matplotlib on the Agg backend, or a clear error
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    supported = FigureCanvasAgg.get_supported_filetypes()
    if fmt not in supported:
        raise UsageError(f"--plot {path}: cannot tell an image format from {p.suffix!r}; name the file .png "
                         f"(or {', '.join(sorted(supported))})")
    parent = p.parent if str(p.parent) else Path(".")  # (that it exists: check_image_target)
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise InputError(f"{path}: cannot write the plot there (permission denied)")


def plot(report: Report, path: str) -> None:
    """Write the length histogram as a PNG (needs matplotlib: ``pip install 'seqprep[plot]'``),
    beside ``path`` first and renamed onto it, so a failed write leaves no half a file."""
    check_plot_path(path)
    plt = pyplot()
    edges, counts = report.histogram["edges"], report.histogram["counts"]
    fig, ax = plt.subplots(figsize=(7, 3.5), dpi=100)
    if counts:
        ax.stairs(counts, edges, fill=True, color="#4477aa")
        if report.histogram["log"]:
            ax.set_xscale("symlog", linthresh=1)
        for c in report.candidates:
            if c["quantile"] in (0.5, 0.95):
                ax.axvline(c["length"], color="#cc6677", linestyle="--", linewidth=1)
                ax.annotate(f"p{int(c['quantile'] * 100)} ~ {c['length']}", (c["length"], max(counts)),
                            rotation=90, va="top", ha="right", fontsize=8)
    ax.set_xlabel("sequence length (steps)")
    ax.set_ylabel("sequences")
    ax.set_title(f"{Path(report.path).name}: {report.rows:,} sequences")
    fig.tight_layout()
    try:
        save(fig, path)
    finally:
        plt.close(fig)
