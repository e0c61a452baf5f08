"""matplotlib, imported only when a plot is asked for (it is the optional `plot` extra)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from . import storage
from .errors import OutputError, UsageError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MARK = b"Software\x00seqprep"  # the PNG text chunk seqprep's plots carry: what a later plot may replace


def pyplot(option: str = "--plot"):
    """matplotlib.pyplot on the file-only Agg backend; a clear error when it is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError(f"{option} needs matplotlib; install it with: pip install 'seqprep[plot]'") from None
    return plt


def check_image_target(path: str, option: str = "--plot") -> None:
    """Refuse, before any work, to write a plot over a file that is not one seqprep wrote."""
    p = Path(path)
    check_folder(path, option)
    if os.path.lexists(p) and not made_by_seqprep(p):
        raise OutputError(f"{path}: exists and is not a plot seqprep wrote; remove it or give {option} another path")


def check_folder(path: str, option: str) -> None:
    """Refuse, before any work, a file path whose folder is missing, or that is a folder (or a URI)."""
    p = Path(storage.local_only(path, option))
    if p.is_dir():
        raise OutputError(f"{path}: is a directory; give {option} a file path")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{path}: the folder {parent} does not exist; create it or give {option} another path")


def made_by_seqprep(p: Path) -> bool:
    """A regular PNG file carrying seqprep's mark (see :func:`save`)."""
    if p.is_symlink() or not p.is_file():
        return False
    with open(p, "rb") as f:
        head = f.read(4096)
    return head.startswith(PNG_MAGIC) and MARK in head


def save(fig, path: str) -> None:
    """``fig`` to ``path``, written beside it and renamed over it; PNGs carry seqprep's mark."""
    p = Path(path)
    fmt = p.suffix[1:].lower() or "png"
    tmp = p.parent / f".{p.name}.seqprep-tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        fig.savefig(tmp, format=fmt, metadata={"Software": "seqprep"} if fmt == "png" else None)
        os.replace(tmp, p)
    except OSError as e:
        raise OutputError(f"{path}: cannot write the plot ({e.strerror or e})") from None
    finally:
        if tmp.exists():
            tmp.unlink()
