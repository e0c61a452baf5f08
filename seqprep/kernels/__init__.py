"""Kernels: pure numpy functions on ragged batches, one module per technique.

No I/O, no global random state, no Python loop over rows.
"""

from .pad import pad
from .truncate import truncate

__all__ = ["pad", "truncate"]
