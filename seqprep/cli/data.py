"""Commands that read files and datasets: ingest, inspect."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Optional

import typer
from rich.markup import escape

from . import InArg, OverwriteOpt, RichProgress, app, out, show, summary

# --------------------------------------------------------------------------------------------- ingest


class InFormat(str, Enum):
    auto = "auto"
    parquet = "parquet"
    arrow = "arrow"
    jsonl = "jsonl"
    csv = "csv"
    text = "text"
    fasta = "fasta"
    ts = "ts"
    npy = "npy"


@app.command(epilog="Example: seqprep ingest reviews.jsonl data/reviews --tokenizer whitespace --lowercase")
def ingest(
    src: Annotated[str, typer.Argument(metavar="SRC", help="A file or folder: Parquet/Arrow, JSON lines, CSV/TSV, "
                                            "a folder of LABEL/*.txt, FASTA, .ts, or NPY (the text formats "
                                            "also gzipped, .gz); - for stdin.")],
    dest: Annotated[str, typer.Argument(metavar="OUT", help="The dataset directory to write, or - for an Arrow stream on stdout.")],
    format: Annotated[InFormat, typer.Option("--format", help="Input format; auto tells it from the name.")] = InFormat.auto,
    shard_rows: Annotated[int, typer.Option(help="Rows per Parquet shard.")] = 10_000,
    text_column: Annotated[Optional[str], typer.Option(help="JSON lines/CSV: the field holding the document or numbers.", show_default="text, else seq")] = None,
    label_column: Annotated[Optional[str], typer.Option(help="The label field or column.", show_default="label, if present")] = None,
    seq_column: Annotated[Optional[str], typer.Option(help="Parquet/Arrow: the column of sequences (lists, or text to tokenize).", show_default="seq, else text")] = None,
    id_column: Annotated[Optional[str], typer.Option(help="Keep this integer column as the ids.", show_default="id, if present, else 0..N-1")] = None,
    row_ids: Annotated[bool, typer.Option("--row-ids", help="Number the rows 0..N-1 even where there is an id column.")] = False,
    tokenizer: Annotated[str, typer.Option(help="Text: whitespace, char, or regex:PATTERN (every match is a token).")] = "whitespace",
    lowercase: Annotated[bool, typer.Option("--lowercase", help="Lowercase text (and FASTA bases) first.")] = False,
    labels: Annotated[Optional[str], typer.Option(help="FASTA: a CSV of record id,label; a folder of .txt: a CSV of file name,label.")] = None,
    label_regex: Annotated[Optional[str], typer.Option(help="FASTA: a regex on the header; group 1 (or the match) is the label.")] = None,
    as_text: Annotated[bool, typer.Option("--as-text", help="JSON lines/CSV: read the column as text tokens, even where it holds numbers.")] = False,
    as_ids: Annotated[bool, typer.Option("--as-ids", help="JSON lines/CSV: numbers are integer token ids, not float32 readings.")] = False,
    sep: Annotated[Optional[str], typer.Option(help="JSON lines/CSV: the cells hold numbers separated by this.", show_default="whitespace, numbers if every row is")] = None,
    wide: Annotated[bool, typer.Option("--wide", help="CSV: one series a row in numbered columns (t0..tN), with a label column.")] = False,
    split: Annotated[Optional[str], typer.Option(help="A folder of SPLIT/LABEL/*.txt: the split to read.")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Turn the files you have into a dataset: Parquet shards with id, seq, label.

    The format comes from the name (.parquet, .arrow, .jsonl, .csv/.tsv, .txt, .fasta/.fa, .ts,
    .npy) or from the folder's files; --format says it where the name cannot. JSON lines,
    CSV/TSV, FASTA and .ts files may be gzipped: reviews.jsonl.gz, genome.fa.gz.
    """
    from ..ingest import IngestOptions, ingest as run_ingest

    options = IngestOptions(format=format.value, text_column=text_column, label_column=label_column,
                            seq_column=seq_column, id_column=id_column, tokenizer=tokenizer, lowercase=lowercase,
                            labels=labels, label_regex=label_regex, shard_rows=shard_rows, row_ids=row_ids,
                            as_text=as_text, as_ids=as_ids, sep=sep, wide=wide, split=split)
    with RichProgress("ingest") as progress:
        manifest = run_ingest(src, dest, options=options, overwrite=overwrite, progress=progress)
    summary("ingest", dest, manifest)


# --------------------------------------------------------------------------------------------- inspect


@app.command(epilog="Example: seqprep inspect data/reviews --plot lengths.png   (or piped: seqprep truncate data/raw - --length 500 | seqprep inspect -)")
def inspect(
    src: InArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
    plot: Annotated[Optional[str], typer.Option(help="Also write the length histogram to this PNG file.")] = None,
    bins: Annotated[int, typer.Option(help="Histogram bins.")] = 20,
) -> None:
    """Show rows, step type, labels, the length distribution and what cutting would keep."""
    from ..inspect import inspect as run_inspect
    from ..inspect import check_plot_path
    from ..inspect import plot as write_plot

    if plot:
        check_plot_path(plot)
    with RichProgress("inspect") as progress:
        report = run_inspect(src, bins=bins, progress=progress)
    if plot:
        write_plot(report, plot)
    if as_json:
        out.print(json.dumps(report.to_dict(), indent=2), markup=False)
        return
    _render_report(report)


def _render_report(r) -> None:
    steps = r.steps
    kind = steps["type"] + (f" x {steps['channels']} channels" if steps["channels"] else "")
    if steps["fixed_length"]:
        kind += f", fixed length {steps['fixed_length']}"
        if r.padding:
            value = "null" if r.padding.value is None else repr(r.padding.value)
            kind += f" (padded at the {r.padding.side} with {value})"
    name = "stdin" if r.path == "-" else r.path
    out.print(f"[bold]{escape(name)}[/]: {r.rows:,} sequences in {r.shards} shard{'s' * (r.shards != 1)}; steps: {kind}")
    if r.labels is not None:
        labels = ", ".join(f"{k} {v:,}" for k, v in r.labels.items())
        nulls = f"; {r.null_labels:,} without a label" if r.null_labels else ""
        out.print(f"labels ({len(r.labels)}): {labels}{nulls}", markup=False)
    else:
        out.print("labels: none")
    ln = r.lengths
    if not r.rows:
        out.print("lengths: no sequences")
        return
    out.print(f"lengths: min {ln['min']:,}  median {ln['median']:,.0f}  p95 {ln['p95']:,}  p99 {ln['p99']:,}  "
              f"max {ln['max']:,}  ({ln['total']:,} steps)")
    from rich.table import Table

    counts, edges = r.histogram["counts"], r.histogram["edges"]
    top = max(counts) or 1
    hist = Table(box=None, show_header=False, padding=(0, 1))
    for i, c in enumerate(counts):
        lo, hi = edges[i], edges[i + 1] - 1
        hist.add_row(f"{lo:>9,}" if lo == hi else f"{lo:>9,} - {hi:<9,}", "[blue]" + "█" * round(40 * c / top) + "[/]", f"{c:,}")
    out.print(f"\nlength histogram{' (log-spaced bins)' if r.histogram['log'] else ''}:")
    show(hist)
    cand = Table(title="if you cut to length L", title_justify="left")
    cand.add_column("L", justify="right")
    cand.add_column("about", justify="right")
    cand.add_column("sequences that fit", justify="right")
    cand.add_column("steps kept by truncate", justify="right")
    for c in r.candidates:
        cand.add_row(f"{c['length']:,}", f"p{c['quantile'] * 100:g}", f"{c['fit']:.1%}", f"{c['kept']:.1%}")
    show(cand)




@app.command(epilog="Example: seqprep verify data/train && echo unchanged")
def verify(src: Annotated[str, typer.Argument(metavar="DATASET", help="A dataset directory.")]) -> None:
    """Check every shard's sha256 and row count against the manifest; exit 1 if one differs.

    The message names the first shard that differs. For CI jobs that regenerate datasets and
    must prove nothing changed.
    """
    from ..dataset import verify as run
    from ..storage import shown

    result = run(src)
    out.print(f"{shown(src)}: {result['rows']:,} rows in {result['shards']} shard{'s' * (result['shards'] != 1)} match "
              f"{result['against']}", markup=False)


@app.command(epilog="Example: seqprep synth data/synth --task tokens-end --n 2000 --length 3000 --seed 1")
def synth(
    dest: Annotated[str, typer.Argument(metavar="OUT", help="The dataset directory to write.")],
    task: Annotated[str, typer.Option(help="DOMAIN-PLACE: tokens, readings or dna; start, end, middle or spread.")],
    n: Annotated[int, typer.Option("--n", help="Sequences.")] = 1000,
    length: Annotated[int, typer.Option(help="About how many steps (each 0.75 to 1.25 times it).")] = 2000,
    classes: Annotated[int, typer.Option(help="Classes (2 to 4).")] = 2,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same dataset.")] = 0,
    overwrite: OverwriteOpt = False,
) -> None:
    """Make labelled long sequences whose answer is known, to try the techniques on.

    The class signal sits at the start, the end, the middle, or is spread thinly over the
    whole sequence; the steps are tokens, 3-channel readings or DNA.
    """
    from ..synth import synth as run

    manifest = run(dest, task=task, n=n, length=length, classes=classes, seed=seed, overwrite=overwrite)
    summary("synth", dest, manifest)
