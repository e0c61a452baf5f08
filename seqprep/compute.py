"""The kernels on sequences in memory, pyarrow.compute-style: data first, options by keyword.

``seqs`` is a pyarrow list array (``list``, ``large_list`` or ``fixed_size_list``; an Array or a
ChunkedArray) or a Python list of numpy arrays (one per sequence, ``(T,)`` or ``(T, C)``).
Each function returns the same kind it was given (a ChunkedArray comes back as one chunk),
except :func:`pad`, which returns numpy arrays. A null row is an empty sequence.

    >>> import seqprep as sp
    >>> sp.truncate([np.arange(5), np.arange(2)], 3)
    [array([2, 3, 4]), array([0, 1])]
    >>> X, lengths = sp.pad([np.arange(5), np.arange(2)], 3, side="end")
    >>> X.tolist(), lengths.tolist()
    ([[2, 3, 4], [0, 1, 0]], [3, 2])

Bad options raise ``ValueError`` naming the parameter (``length=0 must be >= 1``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .padding import SIDES
from .kernels.sample import crops as _crops
from .kernels.sample import sample_steps as _sample_steps
from .kernels.split import windows as _windows
from .kernels.summarize import AGGS
from .kernels.summarize import aggregate as _aggregate
from .kernels.truncate import truncate as _truncate
from .kernels.truncate import truncate_pad as _truncate_pad
from .ragged import INT32_MAX, Ragged, from_arrow, to_arrow

__all__ = ["truncate", "pad", "paa", "sample", "windows"]

KEEPS = ("end", "start", "both")


def _at_least(name: str, value, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}={value!r} must be an integer")
    if value < low:
        raise ValueError(f"{name}={value} must be >= {low}")
    if value > INT32_MAX:
        raise ValueError(f"{name}={value} must be <= {INT32_MAX} (the longest list Arrow holds)")


def _one_of(name: str, value, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} must be one of {', '.join(map(repr, choices))}")


def _ragged(seqs) -> tuple[Ragged, str, object]:
    """``seqs`` as a Ragged batch, with its kind and what rebuilding the same kind needs."""
    if isinstance(seqs, (pa.Array, pa.ChunkedArray)):
        return from_arrow(seqs), "arrow", None
    if isinstance(seqs, (list, tuple)):
        arrays = [np.asarray(s) for s in seqs]
        if not arrays:
            return Ragged(np.zeros(0), np.zeros(1, dtype=np.int64)), "numpy", np.dtype(np.float64)
        dims = {a.ndim for a in arrays}
        if not dims <= {1, 2} or len(dims) > 1 or (2 in dims and len({a.shape[1] for a in arrays}) > 1):
            raise ValueError("seqs: every sequence must be (T,) or every one (T, C) with the same C")
        return Ragged.from_lengths(np.concatenate(arrays), np.array([len(a) for a in arrays])), "numpy", None
    raise TypeError(f"seqs: a pyarrow list array or a list of numpy arrays, not {type(seqs).__name__}")


def _back(r: Ragged, kind: str):
    if kind == "arrow":
        return to_arrow(r)
    values = r.values if isinstance(r.values, np.ndarray) else np.asarray(r.values.to_pylist(), dtype=object)
    return [values[r.offsets[i]:r.offsets[i + 1]] for i in range(r.n_rows)]


def truncate(seqs, length: int, *, keep: str = "end", head: int | None = None):
    """Cut every sequence longer than ``length`` steps down to ``length``.

    Parameters
    ----------
    seqs : list array or list of numpy arrays
    length : int
        Steps to keep, >= 1.
    keep : {"end", "start", "both"}, default "end"
        Keep the last steps (keras ``truncating="pre"``), the first (``"post"``), or the first
        ``head`` and the last ``length - head``.
    head : int, optional
        With ``keep="both"``: steps from the start, 0 <= head < length; default length // 4.

    Returns
    -------
    The same kind as ``seqs``; shorter sequences come back whole.
    """
    _at_least("length", length)
    _one_of("keep", keep, KEEPS)
    if head is not None:
        if keep != "both":
            raise ValueError(f"head={head} applies only with keep='both'")
        _at_least("head", head, 0)
        if not 0 <= head < length:
            raise ValueError(f"head={head} must be >= 0 and < length={length}")
    r, kind, _ = _ragged(seqs)
    return _back(_truncate(r, length=length, keep=keep, head=head), kind)


def pad(seqs, length: int | None = None, *, side: str = "start", value=0, keep: str = "end"):
    """Sequences as one array of ``length`` steps per row, truncating longer ones.

    Parameters
    ----------
    length : int, optional
        Default: the longest sequence (keras ``pad_sequences(maxlen=None)``).
    side : {"start", "end"}, default "start"
        Where the padding goes (keras ``padding="pre"`` / ``"post"``).
    value : default 0
        The padding value (string tokens: null, unless a string is given).
    keep : {"end", "start", "both"}, default "end"
        Which steps longer sequences keep (see :func:`truncate`).

    Returns
    -------
    X : numpy.ndarray
        ``(N, length)`` or ``(N, length, C)``.
    lengths : numpy.ndarray
        ``(N,)`` int32, the real steps of each row.
    """
    _one_of("side", side, SIDES)
    r, _, _ = _ragged(seqs)
    if length is None:
        length = int(r.lengths.max()) if r.n_rows else 0
        if length == 0:
            return np.zeros((r.n_rows, 0) + r.values.shape[1:], dtype=r.values.dtype), np.zeros(r.n_rows, np.int32)
    _at_least("length", length)
    _one_of("keep", keep, KEEPS)
    if not isinstance(r.values, np.ndarray):  # string tokens: null unless a string is given, as the CLI pads
        if type(value) is int and value == 0:
            value = None
        elif value is not None and not isinstance(value, str):
            raise ValueError(f"value={value!r}: string tokens pad with a string (or None for null)")
    if isinstance(r.values, np.ndarray) and len(r.values):
        try:
            fill = np.asarray(value).astype(r.values.dtype, casting="same_kind" if r.values.dtype.kind == "f" else "unsafe")
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"value={value!r} is not a {r.values.dtype} value like the sequences'") from None
        if r.values.dtype.kind in "iu" and (not isinstance(value, (int, np.integer)) or isinstance(value, bool)
                                           or fill != value):
            raise ValueError(f"value={value!r} does not fit the sequences' {r.values.dtype} values")
    values, lengths = _truncate_pad(r, length=length, keep=keep, side=side, value=value)
    if not isinstance(values, np.ndarray):
        values = np.asarray(values.to_pylist(), dtype=object)
    return values.reshape((r.n_rows, length) + values.shape[1:]), lengths


def paa(seqs, segments: int, *, agg: str = "mean"):
    """Piecewise aggregate approximation: each sequence as ``segments`` steps, per channel.

    Segment k of a sequence of T steps covers steps ``[k*T // segments, (k+1)*T // segments)``
    and is their mean (or ``agg``: "min", "max", "sum", "first", "last"); a sequence of at
    most ``segments`` steps is kept as it is. NaN readings are skipped in a segment's mean.
    """
    _at_least("segments", segments)
    _one_of("agg", agg, AGGS)
    r, kind, _ = _ragged(seqs)
    if not isinstance(r.values, np.ndarray) or r.values.dtype.kind != "f":
        raise ValueError("seqs: paa works on float readings, not token ids or strings")
    return _back(_aggregate(r, paa=segments, agg=agg), kind)


def sample(seqs, length: int, *, seed: int, ids=None, mode: str = "steps", copies: int = 1):
    """Random steps (in order) or random contiguous crops of ``length`` steps.

    Draws depend only on ``seed``, each sequence's id (``ids``, default its position) and the
    step, never on how the data is batched. ``mode="steps"`` keeps ``length`` random steps of
    each longer sequence, in their order; ``mode="crop"`` takes ``copies`` random windows of
    each longer sequence (returned one after another, grouped by sequence). Sequences of at
    most ``length`` steps come back whole, once.
    """
    _at_least("length", length)
    _one_of("mode", mode, ("steps", "crop"))
    _at_least("copies", copies)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
        raise ValueError(f"seed={seed!r} must be an integer >= 0 and < 2**63 (as the command line takes)")
    r, kind, _ = _ragged(seqs)
    try:
        ids = np.arange(r.n_rows, dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
    except (OverflowError, TypeError, ValueError):
        raise ValueError("ids: one int64 integer per sequence") from None
    if ids.shape != (r.n_rows,):
        raise ValueError(f"ids: {ids.shape[0] if ids.ndim else 0} ids for {r.n_rows} sequences")
    if mode == "steps":
        return _back(_sample_steps(r, length=length, ids=ids, seed=seed), kind)
    return _back(_crops(r, length=length, ids=ids, seed=seed, copies=copies), kind)


def windows(seqs, length: int, *, stride: int | None = None, last: str = "keep", return_parent: bool = False):
    """Windows of ``length`` steps every ``stride`` steps (default: ``length``, no overlap).

    ``last="keep"`` keeps a shorter last window, ``"drop"`` drops it. With ``return_parent``,
    also returns each window's sequence index and its number within that sequence.
    """
    _at_least("length", length)
    if stride is not None:
        _at_least("stride", stride)
    _one_of("last", last, ("keep", "drop"))
    r, kind, _ = _ragged(seqs)
    out = _windows(r, length=length, stride=stride, last=last)
    result = _back(out, kind)
    return (result, out.parent, out.part) if return_parent else result
