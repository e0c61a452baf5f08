"""matplotlib, imported only when a plot is asked for (it is the optional `plot` extra)."""

from __future__ import annotations

from .errors import UsageError


def pyplot(option: str = "--plot"):
    """matplotlib.pyplot on the file-only Agg backend; a clear error when it is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError(f"{option} needs matplotlib; install it with: pip install 'seqprep[plot]'") from None
    return plt
