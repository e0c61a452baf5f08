"""The errors users read.

Each message is built where the error is raised, with the values in it; the CLI
prints it as one line (``Error: ...``) and exits with the class's ``exit_code``.
Anything else that escapes is a bug and keeps its traceback.

Options are named as the command line names them where an error is raised
(``--length 0 must be positive``); a :class:`UsageError` reads in Python's terms when
the library raises it (``str(e)``: ``length=0 must be positive``), and the CLI prints
:attr:`SeqprepError.cli_message`, the flags as typed.
"""

import re
import signal


class SeqprepError(Exception):
    """A problem the user can fix; exit code 1."""

    exit_code = 1

    def __init__(self, message: str):
        # Messages quote the user's data; escaping line breaks keeps every message one line.
        self.cli_message = str(message).replace("\r", "\\r").replace("\n", "\\n")
        super().__init__(self.cli_message)


class UsageError(SeqprepError, ValueError):
    """Options that do not fit together or are out of range; exit code 2 (Click's convention).
    A ``ValueError``: from Python it reads ``length=0 must be positive``."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(message)
        self.args = (python_terms(self.cli_message),)


_LEADING_OPTION = re.compile(r"--([a-z][a-z0-9-]*) (-?[0-9][0-9,._eE+-]*|'[^']*'|\S+(?= must )) ")
_OPTION = re.compile(r"--([a-z][a-z0-9-]*)")


def python_terms(message: str) -> str:
    """A message about command-line options as the Python parameters they are:
    ``--max-size 0 must be positive`` -> ``max_size=0 must be positive``."""
    m = _LEADING_OPTION.match(message)
    if m:
        message = f"{m[1]}={m[2]} {message[m.end():]}"
        message = m[1].replace("-", "_") + message[len(m[1]):]
    return _OPTION.sub(lambda o: o[1].replace("-", "_"), message)


def positive(*options: tuple[str, int | None]) -> None:
    """One line for the first given option (not None) that is not an int of at least 1:
    ``positive(("--length", 0))``."""
    for name, value in options:
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise UsageError(f"{name} {value!r} must be a whole number (an int)")
        if value is not None and value < 1:
            raise UsageError(f"{name} {value} must be positive")


class InputError(SeqprepError, ValueError):
    """Input data that is missing, malformed or of the wrong kind; names the file, row or column.
    A ``ValueError``, as the data is at fault rather than the call."""


class OutputError(SeqprepError, OSError):
    """The output cannot be written where asked (exists, unwritable, same as the input). An
    ``OSError``, as Python's own errors about paths are; its message is the whole line
    (``errno`` and ``filename`` are None)."""


class Interrupted(SeqprepError):
    """Stopped by a signal; exit code 128 + the signal's number, as a shell reports it."""

    def __init__(self, signum: int, committed: list[str] | None = None):
        name = signal.Signals(signum).name
        super().__init__(f"interrupted by {name} after {' and '.join(committed)} "
                         f"{'were' if len(committed) > 1 else 'was'} committed: complete, nothing else was written"
                         if committed else f"interrupted by {name}; no output was committed")
        self.exit_code = 128 + signum
