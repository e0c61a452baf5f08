"""The ``seqprep`` command (and ``python -m seqprep``): set up the process, then run the CLI."""

import gc
import os
import signal
import sys

# Where OpenBLAS reads its thread count from; a user's own setting is kept.
_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt(signum)


def main() -> None:
    # numpy's OpenBLAS starts a thread per core when numpy is imported, and each spins for
    # ~0.1 s of CPU before it sleeps, taking a core from this process's own work (and from
    # each worker process's). seqprep's data commands do no BLAS work; train uses PyTorch's.
    if not any(name in os.environ for name in _BLAS_THREADS):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
    # Ctrl-C or SIGTERM while the imports run, before the CLI sets its own handlers: one line
    # and 128 + the signal, no traceback, as later.
    signal.signal(signal.SIGTERM, _interrupted)
    # The imports make ~10^5 objects and no garbage; the collector running through them as they
    # are made cost ~40 ms of every start. They live as long as the process: freeze them.
    gc.disable()
    try:
        from . import memory

        memory.before_arrow()
        from .cli import main as cli_main
    except KeyboardInterrupt as e:
        from .errors import Interrupted

        error = Interrupted(e.args[0] if e.args else signal.SIGINT)
        sys.stderr.write(f"Error: {error.cli_message}\n")
        sys.exit(error.exit_code)
    finally:
        gc.freeze()
        gc.enable()
    cli_main()


if __name__ == "__main__":
    main()
