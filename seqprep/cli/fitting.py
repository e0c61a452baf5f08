"""fit: statistics learned on the training split."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from . import InArg, OverwriteOpt, RichProgress, SchedulerOpt, WorkersOpt, app, err


@app.command(epilog="Example: seqprep fit data/train train-stats.json --max-size 50000")
def fit(
    src: InArg,
    dest: Annotated[str, typer.Argument(metavar="OUT.json", help="Where to write the statistics (a JSON file), or - for stdout.")],
    max_size: Annotated[Optional[int], typer.Option(help="Tokens: keep the N most frequent.", show_default="all")] = None,
    min_count: Annotated[int, typer.Option(help="Tokens: keep tokens seen at least C times.")] = 1,
    kmer: Annotated[Optional[int], typer.Option(help="Count the k-mers that `encode --kmer K` will make.")] = None,
    kmer_stride: Annotated[int, typer.Option(help="Steps between k-mer starts.")] = 1,
    lowercase: Annotated[bool, typer.Option("--lowercase", help="Lowercase string tokens first (as encode --lowercase).")] = False,
    inf: Annotated[str, typer.Option("--inf", metavar="error|nan", help="Readings: an infinite value stops the run (error), or is skipped like NaN and counted (nan).")] = "error",
    overwrite: OverwriteOpt = False,
    workers: WorkersOpt = 1,
    scheduler: SchedulerOpt = None,
) -> None:
    """Count the training split: token ranks, or each channel's mean, std, min and max.

    Fit on the training split only, then pass the file to the commands that use it
    (summarize --stats) for every split, so nothing is learned from test data.
    """
    from ..fit import fit as run

    with RichProgress("fit") as progress:
        stats = run(src, dest, max_size=max_size, min_count=min_count, kmer=kmer, kmer_stride=kmer_stride,
                    lowercase=lowercase, inf=inf, overwrite=overwrite, progress=progress,
                    workers=workers, scheduler=scheduler)
    what = f"{len(stats['tokens']):,} tokens" if stats["kind"] == "tokens" else f"{stats['channels'] or 1} channel(s)"
    err.print(f"fit: {stats['rows']:,} rows, {what}, {len(stats['classes'])} classes to {'stdout' if dest == '-' else dest}",
              markup=False)
    if stats.get("inf_ignored"):
        err.print(f"fit: skipped {stats['inf_ignored']:,} inf values (--inf nan)", markup=False)
