"""Every option with a fixed set of values, declared once: a ``Literal`` type the library's
signatures use and checks against, and the same values as the CLI's choices (:func:`choices`).
"""

from __future__ import annotations

from enum import Enum
from typing import Literal, get_args

from .padding import Side

Keep = Literal["start", "end", "both"]  # which steps truncate keeps
Last = Literal["pad", "drop", "keep"]  # what split does with a shorter last window
SampleMode = Literal["steps", "crop"]
Agg = Literal["mean", "max", "min", "first", "last", "sum"]  # how summarize aggregates a segment
Format = Literal["parquet", "npy"]  # what a data command writes
InfMode = Literal["error", "nan"]  # what an infinite reading does: stop the run, or count as NaN
Model = Literal["lstm", "segments", "autoencoder"]
Device = Literal["auto", "cpu", "cuda"]
Pool = Literal["last", "mean", "max", "concat"]  # how the LSTM's outputs over time become one vector
Schedule = Literal["cosine", "constant"]  # the learning rate over a run
TbpttLoss = Literal["last", "every"]  # --tbptt: the loss at a sequence's end, or after every chunk

__all__ = ["Agg", "Device", "Format", "InfMode", "Keep", "Last", "Model", "Pool", "SampleMode", "Schedule", "Side",
           "TbpttLoss",
           "choices", "count", "values"]


def values(literal) -> tuple[str, ...]:
    """The values of a ``Literal`` type, in declared order."""
    return get_args(literal)


def choices(name: str, literal) -> type[Enum]:
    """A ``str`` Enum of the literal's values, as Typer needs for an option's choices."""
    return Enum(name, [(v, v) for v in values(literal)], type=str)


_SUFFIXES = {"": 1, "k": 10**3, "K": 10**3, "m": 10**6, "M": 10**6, "g": 10**9, "G": 10**9}


def count(text: str | int, flag: str) -> int:
    """A positive whole number given as ``2000000``, ``2M``, ``500k`` or ``1.5G``."""
    from .errors import UsageError

    if isinstance(text, int) and not isinstance(text, bool):
        number = text
    else:
        raw = str(text).strip().replace("_", "").replace(",", "")
        unit = raw[-1:] if raw[-1:] in _SUFFIXES else ""
        try:
            value = float(raw[:len(raw) - len(unit)]) * _SUFFIXES[unit]
        except ValueError:
            value = float("nan")
        if value == value and value >= 2**63:
            raise UsageError(f"{flag} {text!s} is too large: at most {2**63 - 1:,}")
        if not (value == value and 1 <= value) or value != int(value):
            raise UsageError(f"{flag} {text!s} must be a positive whole number, e.g. 2000000, 500k, 2M or 1.5G")
        number = int(value)
    if number < 1:
        raise UsageError(f"{flag} {number} must be positive")
    return number
