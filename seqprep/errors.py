"""The errors users read.

Each message is built where the error is raised, with the values in it; the CLI
prints it as one line (``Error: ...``) and exits with the class's ``exit_code``.
Anything else that escapes is a bug and keeps its traceback.
"""


class SeqprepError(Exception):
    """A problem the user can fix; exit code 1."""

    exit_code = 1

    def __init__(self, message: str):
        # Messages quote the user's data; escaping line breaks keeps every message one line.
        super().__init__(str(message).replace("\r", "\\r").replace("\n", "\\n"))


class UsageError(SeqprepError):
    """Options that do not fit together or are out of range; exit code 2 (Click's convention)."""

    exit_code = 2


def positive(*options: tuple[str, int | None]) -> None:
    """One line for the first given option (not None) below 1: ``positive(("--length", 0))``."""
    for name, value in options:
        if value is not None and value < 1:
            raise UsageError(f"{name} {value} must be positive")


class InputError(SeqprepError):
    """Input data that is missing, malformed or of the wrong kind; names the file, row or column."""


class OutputError(SeqprepError):
    """The output cannot be written where asked (exists, unwritable, same as the input)."""
