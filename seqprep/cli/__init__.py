"""The command line: each command parses options, calls one library function, prints.

Data goes to stdout; messages, summaries and progress bars to stderr. Errors users can fix
(SeqprepError, and Click's usage errors) print one line and exit 1 (bad data) or 2 (bad usage).
"""

from __future__ import annotations

import inspect
import os
import signal
import sys
from typing import Annotated, Optional

import typer
from rich.console import Console

from .. import options
from .. import __version__, memory
from ..errors import Interrupted, OutputError, SeqprepError, UsageError
from ..storage import shown

# Click's base class for usage errors; Typer may vendor Click, so reach it through a public subclass.
ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


class SeqprepGroup(typer.core.TyperGroup):
    """Turns the errors a user can fix into one line on stderr; bugs keep their traceback.

    Also tidies every command's help: paragraphs unwrapped (:func:`_unwrap`), no metavar
    after a flag (:func:`_plain_flags`)."""

    def __init__(self, **attrs):
        super().__init__(**attrs)
        for command in (self, *self.commands.values()):
            command.help = _unwrap(command.help)
            _plain_flags(command.params)

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        _plain_flags([option])
        return option

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is not None:
            _plain_flags([command.get_help_option(ctx)])
        return command

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        _signalled.clear()
        try:
            _no_empty_values(sys.argv[1:] if args is None else list(args))
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            if _signalled and rv == 130:
                # A signal outside the command (while options were parsed): Typer turns it
                # into exit 130, silently, whichever signal it was.
                raise Interrupted(_last_signal())
        except KeyboardInterrupt:
            error = Interrupted(_last_signal())
            code = _fail(error.cli_message, error.exit_code)
        except ClickException as e:
            if type(e).__name__ == "NoArgsIsHelpError":  # bare `seqprep`: the help is the answer
                return _exit(0, standalone_mode)
            message = e.format_message().rstrip()
            if getattr(e, "ctx", None) is not None:
                message += ("" if message.endswith((".", "!", "?")) else ".") + f" See '{e.ctx.command_path} --help'."
            code = _fail(message, e.exit_code)
        except SeqprepError as e:
            code = _fail(e.cli_message, e.exit_code)
        except typer.Abort:
            code = _fail("aborted", 130)
        else:
            code = rv if isinstance(rv, int) else 0
        return _exit(code, standalone_mode)


    def invoke(self, ctx):
        from .. import atomic

        atomic.COMMITTED.clear()
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # Raised by Ctrl-C or SIGTERM (see main) wherever the work was; the sinks have
            # removed their temporaries on the way out, and say what they had committed.
            raise Interrupted(_last_signal(), list(atomic.COMMITTED)) from None
        except BrokenPipeError:
            # The reader went away (`| head`): say so once, and keep Python from failing again at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise OutputError("stdout was closed before all the data was written") from None


def _plain_flags(params) -> None:
    """No value placeholder after a flag: Typer 0.2x shows ``--overwrite <bool>`` in the rich
    help, as if the flag took a value. An empty metavar shows nothing (and only the help uses it)."""
    for p in params:
        if p is not None and getattr(p, "is_flag", False) and p.metavar is None:
            p.metavar = ""


def _unwrap(help: str | None) -> str | None:
    """Join the hard-wrapped lines of each paragraph of a docstring. In its rich markup mode
    Typer keeps single line breaks, so a docstring wrapped at 100 columns breaks mid-sentence
    in the command list and wherever the terminal is narrower; joined, rich wraps at the width
    there is. A paragraph starting with \\b (Click's mark) keeps its lines, the mark dropped."""
    if not help:
        return help
    paragraphs = inspect.cleandoc(help).split("\n\n")
    return "\n\n".join(p[1:].lstrip("\n") if p.startswith("\b") else " ".join(line.strip() for line in p.splitlines())
                       for p in paragraphs)


def _no_empty_values(args: list) -> None:
    """Refuse an option given an empty value (``--stats ''``, ``--labels=``): in a Makefile
    that is an unset variable, and taking it as "not given" would run something else."""
    for i, arg in enumerate(args):
        if arg == "--":
            return
        if arg.startswith("--") and arg.endswith("=") and len(arg) > 3:
            raise UsageError(f"{arg[:-1]} is given an empty value; give a value or leave the option out")
        if arg.startswith("-") and len(arg) > 1 and i + 1 < len(args) and args[i + 1] == "":
            raise UsageError(f"{arg} is given an empty value; give a value or leave the option out")


def _exit(code: int, standalone_mode: bool) -> int:
    if standalone_mode:
        sys.exit(code)
    return code


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


_signalled: list[int] = []  # the signals this run was sent (see SeqprepGroup.main)


def _on_signal(signum, frame) -> None:
    _signalled.append(signum)
    raise KeyboardInterrupt


def _last_signal() -> int:
    """The signal that stopped this run: the last one sent, or SIGINT (Python's own Ctrl-C)."""
    return _signalled[-1] if _signalled else signal.SIGINT


def _show_notes() -> None:
    """Library notes (a :class:`~seqprep.workers.WorkersNote`) as one plain line on stderr."""
    import warnings

    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if category.__name__ == "WorkersNote":
            err.print(f"seqprep: {message}", markup=False, highlight=False)
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def main() -> None:
    memory.tune()
    _show_notes()
    # SIGTERM (kill, timeout, a CI job cancelled) unwinds like Ctrl-C, so temporaries go too.
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    app()


class RichProgress:
    """A progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, label: str):
        self.label = label
        self.bar = None
        self.task = None

    def __enter__(self):
        return self

    def start(self, total: int | None) -> None:
        if not err.is_terminal:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

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


def show(renderable) -> None:
    """Print a rich table (or any renderable) to stdout at the width it needs, never cut: a
    pipe or a file has no width (rich would cut at 80 columns), and on a narrow terminal a cell
    cut to "1.000-1.0…" says nothing; the terminal wraps a long line instead (COLUMNS, when
    set, still wins)."""
    if os.environ.get("COLUMNS", "").isdigit():
        out.print(renderable)
        return
    from rich.measure import Measurement

    width = max(out.width, Measurement.get(out, out.options.update(width=1 << 16), renderable).maximum)
    Console(file=out.file, highlight=False, width=width).print(renderable)  # print() caps width at the console's


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


# Choices are the library's Literal types (seqprep.options), declared once for both.
Side = options.choices("Side", options.Side)
OutFormat = options.choices("OutFormat", options.Format)


# Options that several commands share, declared once.
PadOpt = Annotated[bool, typer.Option("--pad/--no-pad", help="Pad shorter rows to exactly L steps (fixed_size_list + a length column).")]
PadSideOpt = Annotated[Side, typer.Option(help="Where padding goes: before the steps (start) or after (end).")]
PadValueOpt = Annotated[Optional[str], typer.Option(help="The padding value.", show_default="0 for numbers, null for string tokens")]
FormatOpt = Annotated[OutFormat, typer.Option("--format", help="parquet: a dataset; npy: X.npy, y.npy, lengths.npy, ids.npy, meta.json.")]
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="Replace OUT if it exists (atomically).")]
InArg = Annotated[str, typer.Argument(metavar="IN", help="Input dataset: a directory, a .parquet/.arrow file, or - for an Arrow stream on stdin.")]
OutArg = Annotated[str, typer.Argument(metavar="OUT", help="Output: a directory (written beside and renamed at the end), or - for an Arrow stream on stdout.")]
LengthOpt = Annotated[int, typer.Option("--length", "-l", help="Steps per output row.")]
WorkersOpt = Annotated[int, typer.Option(
    "--workers", "-w", help="Processes that run shards at once on this machine; the output is byte-identical to one. "
    "A stream or a one-shard input runs in one; no more start than the spare cores keep busy (about 1.5 each; "
    "SEQPREP_CORES=N sets the cores), and seqprep says so.")]
SchedulerOpt = Annotated[Optional[str], typer.Option(
    "--scheduler", metavar="ADDRESS", help="Run the shards as tasks on this Dask cluster (tcp://host:8786; needs "
    "seqprep\\[dask] on every worker, and IN and OUT on a file system they all see or in object storage); "
    "byte-identical output.")]


def summary(command: str, target: str, manifest: dict) -> None:
    if target == "-":
        return
    shards = manifest.get("shards")
    where = f" in {len(shards)} shard{'s' * (len(shards) != 1)}" if shards is not None else ""
    notes = []
    if manifest.get("layout"):  # ingest says which layout it read
        notes.append(f"read as {manifest['layout']}")
    nulls = (manifest.get("labels") or {}).get("nulls")
    if nulls:
        notes.append(f"{nulls:,} without a label")
    notes = f" ({'; '.join(notes)})" if notes else ""
    err.print(f"{command}: wrote {manifest['rows']:,} rows{where} to {shown(target)}{notes}", markup=False)



from . import data, encoding, fitting, shorten, training  # noqa: E402,F401  (register the commands)
