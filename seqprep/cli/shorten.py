"""Commands that shorten sequences: truncate, summarize, sample, split; and holdout, which
splits a dataset in two by id."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .. import options
from . import (FormatOpt, InArg, LengthOpt, OutArg, OverwriteOpt, PadOpt, PadSideOpt, PadValueOpt, RichProgress,
               OutFormat, SchedulerOpt, Side, WorkersOpt, app, summary)


Keep = options.choices("Keep", options.Keep)


@app.command(epilog="Example: seqprep truncate data/reviews data/reviews-500 --length 500 --keep both --head 128")
def truncate(
    src: InArg,
    dest: OutArg,
    length: LengthOpt,
    keep: Annotated[Keep, typer.Option(help="Keep the first L steps (start), the last (end), or the first --head and the last L-head (both).")] = Keep.end,
    head: Annotated[Optional[int], typer.Option(help="With --keep both: steps kept from the start.", show_default="L // 4")] = None,
    pad: PadOpt = True,
    pad_side: PadSideOpt = Side.start,
    pad_value: PadValueOpt = None,
    format: FormatOpt = OutFormat.parquet,
    overwrite: OverwriteOpt = False,
    workers: WorkersOpt = 1,
    scheduler: SchedulerOpt = None,
) -> None:
    """Keep L steps of each sequence (its start, its end, or both ends); pad shorter ones.

    The defaults (--keep end --pad-side start --pad-value 0) give the same arrays as
    keras.utils.pad_sequences(maxlen=L) with its defaults.
    """
    from ..steps import Padding, truncate as run


    padding = Padding(pad=pad, side=pad_side.value, value=pad_value)
    with RichProgress("truncate") as progress:
        manifest = run(src, dest, length=length, keep=keep.value, head=head, padding=padding,
                       format=format.value, overwrite=overwrite, progress=progress,
                       workers=workers, scheduler=scheduler)
    summary("truncate", dest, manifest)


Agg = options.choices("Agg", options.Agg)


@app.command(epilog="Example: seqprep summarize data/train data/train-short --stats train.json --drop-top 50")
def summarize(
    src: InArg,
    dest: OutArg,
    stats: Annotated[Optional[str], typer.Option(help="Token statistics from `seqprep fit` on the training split.")] = None,
    drop_top: Annotated[Optional[int], typer.Option(help="Tokens: drop the K most frequent tokens (by --stats ranks).")] = None,
    min_count: Annotated[Optional[int], typer.Option(help="Tokens: drop tokens seen fewer than C times in training (by --stats).")] = None,
    stopwords: Annotated[Optional[str], typer.Option(help="Tokens: drop the tokens listed in FILE, one per line.")] = None,
    paa: Annotated[Optional[int], typer.Option(help="Numbers: piecewise aggregate approximation to exactly M steps.")] = None,
    factor: Annotated[Optional[int], typer.Option(help="Numbers: aggregate every F consecutive steps (the last group may be shorter).")] = None,
    agg: Annotated[Agg, typer.Option(help="Numbers: how each group of steps is aggregated, per channel.")] = Agg.mean,
    format: Annotated[OutFormat, typer.Option("--format", help="parquet: a dataset; npy (with --paa or --factor): X.npy "
                                              "etc., rows padded at the end to the longest.")] = OutFormat.parquet,
    overwrite: OverwriteOpt = False,
    workers: WorkersOpt = 1,
    scheduler: SchedulerOpt = None,
) -> None:
    """Shorten sequences: drop frequent, rare or listed tokens, or aggregate runs of steps.

    Tokens keep their order. With --paa M a sequence of T steps becomes M segments:
    segment i covers steps floor(i*T/M) to floor((i+1)*T/M) - 1, so when M divides T each holds
    T/M steps and --agg mean equals tslearn's PiecewiseAggregateApproximation; otherwise
    segment sizes differ by one and every step is used (tslearn drops the last T mod M
    steps). When T < M, each segment is the single step floor(i*T/M): the sequence is
    stretched to M steps. Empty sequences stay empty. NaN in a group makes its mean, sum,
    max and min NaN.
    """
    from ..steps import summarize as run


    with RichProgress("summarize") as progress:
        manifest = run(src, dest, stats=stats, drop_top=drop_top, min_count=min_count, stopwords=stopwords,
                       paa=paa, factor=factor, agg=agg.value, format=format.value, overwrite=overwrite, progress=progress,
                       workers=workers, scheduler=scheduler)
    summary("summarize", dest, manifest)


Mode = options.choices("Mode", options.SampleMode)


@app.command(epilog="Example: seqprep sample data/train data/train-crops --length 500 --mode crop --copies 4 --seed 1")
def sample(
    src: InArg,
    dest: OutArg,
    length: LengthOpt,
    seed: Annotated[int, typer.Option(help="Random seed; draws depend only on (seed, id), never on sharding.")],
    mode: Annotated[Mode, typer.Option(help="steps: keep L random steps in order; crop: random windows of L steps.")] = Mode.steps,
    copies: Annotated[int, typer.Option(help="crop: windows per sequence (each a row with a part number).")] = 1,
    overlap: Annotated[bool, typer.Option("--overlap/--no-overlap", help="crop: whether a sequence's windows may overlap.")] = True,
    pad: PadOpt = True,
    pad_side: PadSideOpt = Side.start,
    pad_value: PadValueOpt = None,
    format: FormatOpt = OutFormat.parquet,
    overwrite: OverwriteOpt = False,
    workers: WorkersOpt = 1,
    scheduler: SchedulerOpt = None,
) -> None:
    """Keep L random steps of each longer sequence, or take random crops as augmentation.

    --mode steps keeps L steps of each sequence longer than L, every subset of L steps
    equally likely, in their original order. --mode crop takes --copies random windows of L
    steps per sequence, numbered by where they start; with --no-overlap they are disjoint, so
    a sequence of T steps gives at most T // L. A sequence of at most L steps is kept whole,
    as one row.
    """
    from ..steps import Padding, sample as run


    padding = Padding(pad=pad, side=pad_side.value, value=pad_value)
    with RichProgress("sample") as progress:
        manifest = run(src, dest, length=length, seed=seed, mode=mode.value, copies=copies, overlap=overlap,
                       padding=padding, format=format.value, overwrite=overwrite, progress=progress,
                       workers=workers, scheduler=scheduler)
    summary("sample", dest, manifest)


Last = options.choices("Last", options.Last)


@app.command(epilog="Example: seqprep split data/train data/train-windows --length 500 --stride 250")
def split(
    src: InArg,
    dest: OutArg,
    length: LengthOpt,
    stride: Annotated[Optional[int], typer.Option(help="Steps between window starts.", show_default="L (no overlap)")] = None,
    last: Annotated[Last, typer.Option(help="The final partial window: pad it to L, drop it, or keep it shorter (with --no-pad).")] = Last.pad,
    as_features: Annotated[bool, typer.Option("--as-features", help="Stack a sequence's windows as parallel channels of one row.")] = False,
    parts: Annotated[Optional[int], typer.Option(help="--as-features: windows per row.", show_default="ceil(longest / L)")] = None,
    pad: PadOpt = True,
    pad_side: PadSideOpt = Side.start,
    pad_value: PadValueOpt = None,
    format: FormatOpt = OutFormat.parquet,
    overwrite: OverwriteOpt = False,
    workers: WorkersOpt = 1,
    scheduler: SchedulerOpt = None,
) -> None:
    """Cut sequences into windows of L steps: as separate rows, or as parallel features.

    Each window row keeps its parent's id and label, numbered by a part column. Window k
    starts at step k * stride; when steps are left after the last full window, one more
    (partial) window holds them, which --last decides. A sequence shorter than L is one
    partial window. With --as-features each sequence becomes one row of L steps whose
    channel block k is window k, K = --parts windows (missing steps padded at the end, steps
    past K * L dropped).
    """
    from ..steps import Padding, split as run


    padding = Padding(pad=pad, side=pad_side.value, value=pad_value)
    with RichProgress("split") as progress:
        manifest = run(src, dest, length=length, stride=stride, last=last.value, features=as_features, parts=parts,
                       padding=padding, format=format.value, overwrite=overwrite, progress=progress,
                       workers=workers, scheduler=scheduler)
    summary("split", dest, manifest)


@app.command(epilog="Example: seqprep holdout data/train data/fit data/val --fraction 0.2 --seed 1 --stratify")
def holdout(
    src: Annotated[str, typer.Argument(metavar="IN", help="Input dataset: a directory, a .parquet/.arrow file, or - "
                                       "for an Arrow stream on stdin (not with --stratify).")],
    train_out: Annotated[str, typer.Argument(metavar="TRAIN_OUT", help="The dataset directory for the training rows.")],
    val_out: Annotated[str, typer.Argument(metavar="VAL_OUT", help="The dataset directory for the held-out rows.")],
    fraction: Annotated[float, typer.Option(help="The share of ids held out for validation, between 0 and 1.")],
    seed: Annotated[int, typer.Option(help="Random seed; which ids are held out depends only on (seed, id).")],
    stratify: Annotated[bool, typer.Option("--stratify", help="Hold out round(F * n) of each class's n ids, so "
                                           "both sets keep the class proportions (reads IN twice).")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace TRAIN_OUT and VAL_OUT if they exist "
                                            "(atomically, both or neither).")] = False,
) -> None:
    """Split a dataset by id into training and validation sets, reproducibly from --seed.

    All rows of one id (the windows and crops of one sequence) go to the same set. Each id's
    place comes from a hash of --seed and the id, never from row order or sharding. Without
    --stratify an id is held out when its hash, as a number in [0, 1), is below F, so VAL
    holds about F of the ids; with --stratify each class's ids are ranked by their hash and
    the lowest round(F * n) held out (every class keeps at least one id for training), which
    takes memory for the distinct ids, 8 bytes each. Both outputs are committed together at
    the end, or neither is.
    """
    from ..steps.holdout import holdout as run

    with RichProgress("holdout") as progress:
        manifests = run(src, train_out, val_out, fraction=fraction, seed=seed, stratify=stratify,
                        overwrite=overwrite, progress=progress)
    for target, manifest in zip((train_out, val_out), manifests):
        summary("holdout", target, manifest)
