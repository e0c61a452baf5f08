"""The data commands as library functions: each opens its input, runs a kernel through the
engine and returns the manifest it wrote. The CLI calls exactly one of these per command."""

from .common import Padding
from .encode import encode
from .sample import sample
from .split import split
from .summarize import summarize
from .truncate import truncate

__all__ = ["Padding", "encode", "sample", "split", "summarize", "truncate"]
