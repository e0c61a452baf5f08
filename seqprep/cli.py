"""The command line: each command parses options, calls one library function, prints.

Data goes to stdout; messages, summaries and progress bars to stderr. Errors users can fix
(SeqprepError, and Click's usage errors) print one line and exit 1 (bad data) or 2 (bad usage).
"""

from __future__ import annotations

import json
import os
import sys
from enum import Enum
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .errors import OutputError, SeqprepError

# Click's base class for usage errors; Typer may vendor Click, so reach it through a public subclass.
ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


class SeqprepGroup(typer.core.TyperGroup):
    """Turns the errors a user can fix into one line on stderr; bugs keep their traceback."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except ClickException as e:
            message = e.format_message().rstrip()
            if getattr(e, "ctx", None) is not None:
                message += ("" if message.endswith((".", "!", "?")) else ".") + f" See '{e.ctx.command_path} --help'."
            code = _fail(message, e.exit_code)
        except SeqprepError as e:
            code = _fail(str(e), e.exit_code)
        except typer.Abort:
            code = _fail("aborted", 130)
        else:
            code = rv if isinstance(rv, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader went away (`| head`): say so once, and keep Python from failing again at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise OutputError("stdout was closed before all the data was written") from None


def _fail(message: str, code: int) -> int:
    err.print(f"Error: {message}", markup=False)
    return code


app = typer.Typer(
    cls=SeqprepGroup,
    help="Turn very long sequences into model-ready fixed-length datasets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def main() -> None:
    app()


class RichProgress:
    """A progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, label: str):
        self.label = label
        self.bar: Progress | None = None
        self.task = None

    def __enter__(self):
        return self

    def start(self, total: int | None) -> None:
        if not err.is_terminal:
            return
        self.bar = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
                            TimeElapsedColumn(), console=err, transient=True)
        self.bar.start()
        self.task = self.bar.add_task(self.label, total=total)

    def advance(self, rows: int) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, rows)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False


def _summary(command: str, target: str, manifest: dict) -> None:
    if target == "-":
        return
    shards = manifest.get("shards")
    where = f" in {len(shards)} shard{'s' * (len(shards) != 1)}" if shards is not None else ""
    err.print(f"{command}: wrote {manifest['rows']:,} rows{where} to {target}", markup=False)


def _version(value: bool) -> None:
    if value:
        out.print(f"seqprep {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Turn very long sequences into model-ready fixed-length datasets."""


SRC_HELP = "Input dataset: a directory, a .parquet/.arrow file, or - for an Arrow stream on stdin."
OUT_HELP = "Output: a directory (written beside and renamed at the end), or - for an Arrow stream on stdout."
OVERWRITE_HELP = "Replace OUT if it exists (atomically)."


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
                                            "a folder of LABEL/*.txt, FASTA, .ts, or NPY; - for stdin.")],
    dest: Annotated[str, typer.Argument(metavar="OUT", help="The dataset directory to write, or - for an Arrow stream on stdout.")],
    format: Annotated[InFormat, typer.Option("--format", help="Input format; auto tells it from the name.")] = InFormat.auto,
    shard_rows: Annotated[int, typer.Option(help="Rows per Parquet shard.")] = 10_000,
    text_column: Annotated[str, typer.Option(help="JSON lines/CSV: the field holding the document.")] = "text",
    label_column: Annotated[Optional[str], typer.Option(help="The label field or column.", show_default="label, if present")] = None,
    seq_column: Annotated[str, typer.Option(help="Parquet/Arrow: the column of sequences (lists, or text to tokenize).")] = "seq",
    id_column: Annotated[Optional[str], typer.Option(help="Keep this integer column as the ids.", show_default="0..N-1 in input order")] = None,
    tokenizer: Annotated[str, typer.Option(help="Text: whitespace, char, or regex:PATTERN (every match is a token).")] = "whitespace",
    lowercase: Annotated[bool, typer.Option("--lowercase", help="Lowercase text (and FASTA bases) first.")] = False,
    labels: Annotated[Optional[str], typer.Option(help="FASTA: a CSV of record id,label.")] = None,
    label_regex: Annotated[Optional[str], typer.Option(help="FASTA: a regex on the header; group 1 (or the match) is the label.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help=OVERWRITE_HELP)] = False,
) -> None:
    """Turn the files you have into a dataset: Parquet shards with id, seq, label."""
    from .ingest import IngestOptions, ingest as run_ingest

    options = IngestOptions(format=format.value, text_column=text_column, label_column=label_column,
                            seq_column=seq_column, id_column=id_column, tokenizer=tokenizer, lowercase=lowercase,
                            labels=labels, label_regex=label_regex, shard_rows=shard_rows)
    with RichProgress("ingest") as progress:
        manifest = run_ingest(src, dest, options=options, overwrite=overwrite, progress=progress)
    _summary("ingest", dest, manifest)


# --------------------------------------------------------------------------------------------- inspect


@app.command(epilog="Example: seqprep inspect data/reviews --plot lengths.png   (or piped: seqprep truncate data/raw - --length 500 | seqprep inspect -)")
def inspect(
    src: Annotated[str, typer.Argument(metavar="IN", help=SRC_HELP)],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
    plot: Annotated[Optional[str], typer.Option(help="Also write the length histogram to this PNG file.")] = None,
    bins: Annotated[int, typer.Option(help="Histogram bins.")] = 20,
) -> None:
    """Rows, step type, labels, the length distribution, and what candidate lengths keep."""
    from .inspect import inspect as run_inspect
    from .inspect import plot as write_plot

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
            kind += f" (padded at the {r.padding['side']} with {r.padding['value']!r})"
    name = "stdin" if r.path == "-" else r.path
    out.print(f"[bold]{name}[/]: {r.rows:,} sequences in {r.shards} shard{'s' * (r.shards != 1)}; steps: {kind}")
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
    counts, edges = r.histogram["counts"], r.histogram["edges"]
    top = max(counts) or 1
    hist = Table(box=None, show_header=False, padding=(0, 1))
    for i, c in enumerate(counts):
        lo, hi = edges[i], edges[i + 1] - 1
        hist.add_row(f"{lo:>9,}" if lo == hi else f"{lo:>9,} - {hi:<9,}", "[blue]" + "█" * round(40 * c / top) + "[/]", f"{c:,}")
    out.print(f"\nlength histogram{' (log-spaced bins)' if r.histogram['log'] else ''}:")
    out.print(hist)
    cand = Table(title="if you cut to length L", title_justify="left")
    cand.add_column("L", justify="right")
    cand.add_column("about", justify="right")
    cand.add_column("sequences that fit", justify="right")
    cand.add_column("steps kept by truncate", justify="right")
    for c in r.candidates:
        cand.add_row(f"{c['length']:,}", f"p{c['quantile'] * 100:g}", f"{c['fit']:.1%}", f"{c['kept']:.1%}")
    out.print(cand)


# --------------------------------------------------------------------------------------------- truncate


class Keep(str, Enum):
    start = "start"
    end = "end"
    both = "both"


class Side(str, Enum):
    start = "start"
    end = "end"


class OutFormat(str, Enum):
    parquet = "parquet"
    npy = "npy"


@app.command(epilog="Example: seqprep truncate data/reviews data/reviews-500 --length 500 --keep both --head 128")
def truncate(
    src: Annotated[str, typer.Argument(metavar="IN", help=SRC_HELP)],
    dest: Annotated[str, typer.Argument(metavar="OUT", help=OUT_HELP)],
    length: Annotated[int, typer.Option("--length", "-l", help="Steps to keep per sequence.")],
    keep: Annotated[Keep, typer.Option(help="Keep the first L steps (start), the last (end), or the first --head and the last L-head (both).")] = Keep.end,
    head: Annotated[Optional[int], typer.Option(help="With --keep both: steps kept from the start.", show_default="L // 4")] = None,
    pad: Annotated[bool, typer.Option("--pad/--no-pad", help="Pad shorter sequences to exactly L steps (fixed_size_list + a length column).")] = True,
    pad_side: Annotated[Side, typer.Option(help="Where padding goes: before the steps (start) or after (end).")] = Side.start,
    pad_value: Annotated[Optional[str], typer.Option(help="The padding value.", show_default="0 for numbers, null for string tokens")] = None,
    format: Annotated[OutFormat, typer.Option("--format", help="parquet: a dataset; npy: X.npy, y.npy, lengths.npy, ids.npy, meta.json.")] = OutFormat.parquet,
    overwrite: Annotated[bool, typer.Option("--overwrite", help=OVERWRITE_HELP)] = False,
) -> None:
    """Keep L steps of every sequence: its start, its end, or both ends; pad the shorter ones.

    The defaults (--keep end --pad-side start --pad-value 0) give the same arrays as
    keras.utils.pad_sequences(maxlen=L) with its defaults.
    """
    from .steps import Padding, truncate as run_truncate

    padding = Padding(pad=pad, side=pad_side.value, value=pad_value)
    with RichProgress("truncate") as progress:
        manifest = run_truncate(src, dest, length=length, keep=keep.value, head=head, padding=padding,
                                format=format.value, overwrite=overwrite, progress=progress)
    _summary("truncate", dest, manifest)
