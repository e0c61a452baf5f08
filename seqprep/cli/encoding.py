"""encode: from tokens and readings to model-ready arrays."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from . import (FormatOpt, InArg, OutArg, OutFormat, OverwriteOpt, PadOpt, PadSideOpt, RichProgress, SchedulerOpt, Side,
               WorkersOpt, app, err, summary)
from .shorten import Keep


@app.command(epilog="Example: seqprep encode data/test data/test-ids --stats train-stats.json --length 500 --format npy")
def encode(
    src: InArg,
    dest: OutArg,
    stats: Annotated[Optional[str], typer.Option(help="Tokens: ids by training frequency rank (0 padding, 1 unknown, 2 the most frequent); also the classes.")] = None,
    hash: Annotated[Optional[int], typer.Option("--hash", help="Tokens: 2 + a stable hash of the token's UTF-8 bytes mod N.")] = None,
    onehot: Annotated[Optional[str], typer.Option(help="Tokens: one channel per symbol, e.g. ACGT; other symbols are all zeros.")] = None,
    kmer: Annotated[Optional[int], typer.Option(help="One-character tokens (DNA): overlapping k-mers as the tokens (fit with the same --kmer).")] = None,
    kmer_stride: Annotated[int, typer.Option(help="Steps between k-mer starts.")] = 1,
    autoencoder: Annotated[Optional[str], typer.Option(help="Replace each chunk by its code from a run trained with --model autoencoder.")] = None,
    normalize: Annotated[Optional[str], typer.Option(help="Readings: z-score each channel with this training split's mean and std (from `seqprep fit`), or per-row: each row and channel over its own steps (constant ones become zeros).")] = None,
    nan_value: Annotated[float, typer.Option(help="Readings: what NaN becomes after --normalize.")] = 0.0,
    inf: Annotated[str, typer.Option("--inf", metavar="error|nan", help="Readings: an infinite value stops the run (error), or becomes --nan-value like NaN and is counted apart (nan).")] = "error",
    max_size: Annotated[Optional[int], typer.Option(help="--stats: keep the N most frequent tokens.")] = None,
    min_count: Annotated[Optional[int], typer.Option(help="--stats: keep tokens seen at least C times in training.")] = None,
    lowercase: Annotated[bool, typer.Option("--lowercase", help="Lowercase string tokens first.")] = False,
    length: Annotated[Optional[int], typer.Option("--length", "-l", help="Then keep L steps per row (as truncate does).")] = None,
    keep: Annotated[Keep, typer.Option(help="With --length: keep the start, the end, or both ends.")] = Keep.end,
    head: Annotated[Optional[int], typer.Option(help="With --keep both: steps kept from the start.", show_default="L // 4")] = None,
    pad: PadOpt = True,
    pad_side: PadSideOpt = Side.start,
    format: FormatOpt = OutFormat.parquet,
    overwrite: OverwriteOpt = False,
    workers: WorkersOpt = 1,
    scheduler: SchedulerOpt = None,
) -> None:
    """Turn prepared sequences into model input: token ids, one-hot channels or z-scores.

    Statistics come from `seqprep fit` on the training split and are used, unchanged, for every
    split; labels are checked against the fitted classes (a label training never saw is an
    error), and y.npy indexes those classes, so train and test agree. Padding is id 0 (or
    zeros). The output's manifest (or meta.json) records the vocabulary, its size, the
    channels and the classes.
    """
    from ..steps import Padding, encode as run

    padding = Padding(pad=pad, side=pad_side.value)
    with RichProgress("encode") as progress:
        manifest = run(src, dest, stats=stats, hash=hash, onehot_alphabet=onehot, autoencoder=autoencoder, kmer=kmer, kmer_stride=kmer_stride,
                       normalize_with=normalize, nan_value=nan_value, inf=inf, max_size=max_size, min_count=min_count,
                       lowercase=lowercase, length=length, keep=keep.value, head=head, padding=padding,
                       format=format.value, overwrite=overwrite, progress=progress,
                       workers=workers, scheduler=scheduler)
    summary("encode", dest, manifest)
    replaced = manifest.get("encoding", {}).get("nan_replaced")
    if replaced:
        err.print(f"encode: replaced {replaced:,} NaN values with {nan_value}", markup=False)
    constant = manifest.get("encoding", {}).get("constant_rows")
    if constant:
        what = "constant row channels" if manifest["encoding"].get("channels") else "constant rows"
        err.print(f"encode: {constant:,} {what} became zeros (--normalize per-row)", markup=False)
    infs = manifest.get("encoding", {}).get("inf_replaced")
    if infs:
        err.print(f"encode: replaced {infs:,} inf values with {nan_value} (--inf nan)", markup=False)
