"""Every command's --help, rendered as users see it: no value placeholder after flags, a command
list that wraps only where the width says, help on every option, and an example per command."""

from __future__ import annotations

import inspect
import re

import pytest
import typer
from typer.testing import CliRunner

from seqprep.cli import app, show

COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)
GROUP = typer.main.get_command(app)


def render(*args: str, width: int = 100) -> str:
    runner = CliRunner(env={"COLUMNS": str(width), "TERM": "dumb", "NO_COLOR": "1"})
    result = runner.invoke(app, list(args), prog_name="seqprep")
    assert result.exit_code == 0, result.stderr
    return result.stdout


def short_help(name: str) -> str:
    """The first paragraph of a command's help, as one line."""
    return " ".join(inspect.cleandoc(GROUP.commands[name].help).split("\n\n")[0].split())


def command_list(width: int) -> dict[str, list[str]]:
    """The top-level help's command list: each command's lines of text, as rendered."""
    text = render("--help", width=width)
    panel = text[text.index("Commands"):].splitlines()[1:]
    entries: dict[str, list[str]] = {}
    for line in panel:
        if line.startswith("╰"):
            break
        cell = line.strip("│ ").rstrip()
        name, _, rest = cell.partition(" ")
        if name in COMMANDS and line.startswith("│ " + name):
            current = entries.setdefault(name, [])
            current.append(rest.strip())
        else:
            current.append(cell.strip())
    return entries


@pytest.mark.parametrize("command", [[]] + [[c] for c in COMMANDS], ids=["seqprep"] + COMMANDS)
def test_no_placeholder_after_flags(command):
    text = render(*command, "--help")
    assert "<bool>" not in text
    assert re.search(r"--help\s+Show this message and exit", text)


def test_the_command_list_has_one_sentence_a_command_on_one_line():
    entries = command_list(100)
    assert sorted(entries) == COMMANDS
    for name, lines in entries.items():
        assert lines == [short_help(name)], name
        sentence = lines[0]
        assert sentence.endswith(".") and sentence[0].isupper(), name
        assert sentence.count(". ") == 0, f"{name}: more than one sentence: {sentence}"


@pytest.mark.parametrize("width", [60, 80])
def test_a_narrow_command_list_wraps_only_between_words(width):
    for name, lines in command_list(width).items():
        assert " ".join(lines) == short_help(name), name
        assert all(line for line in lines), name  # no empty line in an entry: no hard line break


def test_every_argument_and_option_is_documented():
    for name in COMMANDS:
        command = GROUP.commands[name]
        for param in command.params:
            assert (param.help or "").strip(), f"seqprep {name}: {param.name} has no help"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_an_example(command):
    assert GROUP.commands[command].epilog.startswith(f"Example: seqprep {command} ")
    text = " ".join(render(command, "--help").split())
    assert f"Example: seqprep {command} " in text


def test_help_texts_say_what_users_look_for():
    def flat(*args):
        return " ".join(render(*args).split())

    train = flat("train", "--help")
    assert "fixed-length" not in train and "of one length or of many" in train
    assert "Replace RUN if it exists" in train and "Replace OUT" not in train
    compare = flat("compare", "--help")
    from seqprep.compare import TECHNIQUES

    for technique in TECHNIQUES:
        assert f" {technique} " in compare, technique
    assert ".gz" in flat("ingest", "--help")
    assert "seqprep[dask]" in flat("truncate", "--help")  # not eaten as rich markup
    holdout = flat("holdout", "--help")
    assert "--fraction" in holdout and "--stratify" in holdout and "--seed" in holdout


def test_tables_get_the_width_they_need_when_not_a_terminal(capsys, monkeypatch):
    from rich.table import Table

    table = Table(title="wide")
    for i in range(6):
        table.add_column(f"column number {i}", no_wrap=True)
    table.add_row(*(f"value {i} " + "x" * 12 for i in range(6)))
    monkeypatch.delenv("COLUMNS", raising=False)
    show(table)
    lines = capsys.readouterr().out.splitlines()
    assert max(map(len, lines)) > 80
    assert all(f"column number {i}" in "\n".join(lines) for i in range(6))
    assert "…" not in "\n".join(lines)
    monkeypatch.setenv("COLUMNS", "60")  # COLUMNS, when set, still wins
    show(table)
    assert max(map(len, capsys.readouterr().out.splitlines())) <= 60


def test_inspect_piped_is_not_cut(cli, tmp_path):
    from .conftest import make_dataset

    src = make_dataset(tmp_path / "d" / ("a-long-folder-name-" * 4), [[1] * (10 ** i) for i in range(6)],
                       labels=["x"] * 6)
    result = CliRunner(env={"COLUMNS": None, "TERM": "dumb"}).invoke(app, ["inspect", str(src)], prog_name="seqprep")
    assert result.exit_code == 0, result.stderr
    assert "steps kept by truncate" in result.stdout and "…" not in result.stdout
