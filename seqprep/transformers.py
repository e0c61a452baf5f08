"""Fitted transformers, scikit-learn-style: what ``seqprep fit`` learns and ``seqprep encode`` applies.

``seqs`` is what :mod:`seqprep.compute` takes: a pyarrow list array (an Array or a
ChunkedArray) or a Python list of sequences (numpy arrays or lists, ``(T,)`` or ``(T, C)``;
token sequences as lists of strings or of integer ids). ``transform`` returns the same kind.

The constructor only stores parameters; ``fit(seqs, y=None)`` is a reset followed by
``partial_fit(seqs, y)``, which counts one chunk and can be called again for the next one (a
stream of chunks: shards, files, batches). Fitted attributes end in ``_``; ``transform``
refuses to run before ``fit`` (or ``load``), raising :class:`NotFittedError`. ``save(path)``
writes the JSON stats file ``seqprep fit`` writes, and ``load(path)`` reads one, so a file
fitted on the command line serves Python and the other way round.

    >>> import seqprep as sp
    >>> vocab = sp.Vocabulary().fit([["b", "a", "b"], ["c"]], y=["pos", "neg"])
    >>> vocab.vocabulary_, vocab.classes_
    ({'b': 2, 'a': 3, 'c': 4}, ['neg', 'pos'])
    >>> vocab.transform([["a", "b", "zzz"]])
    [array([3, 2, 1], dtype=int32)]

Ids: 0 is padding, 1 an unknown token, 2 the most frequent token (ties by the token).
:class:`Hasher`, :class:`OneHot` and :class:`RowStandardizer` learn nothing: their ``fit``
only checks the parameters and returns the transformer. Fit on the training split only, then
transform every split with the same fitted transformer (fitting on all the data before
splitting leaks the test set into the statistics).
"""

from __future__ import annotations

import copy
import inspect
import os

import numpy as np
import pyarrow as pa

from .compute import _back
from .errors import InputError, UsageError
from .fit import (FORMAT, Counts, Moments, check_stats, check_stats_target, label_type_name, load_stats, to_stats,
                  write_stats)
from .kernels.encode import (FIRST_ID, INF_MODES, INT32_MAX, MAX_HASH, MAX_KMER, MAX_ONEHOT, first_infinite, hash_ids, normalize, normalize_rows, onehot, token_rows, vocab_ids)
from .ragged import Ragged, from_arrow

__all__ = ["NotFittedError", "Vocabulary", "KmerVocabulary", "Hasher", "OneHot", "Standardizer", "RowStandardizer"]

STRING_TYPES = ("string", "large_string")


class NotFittedError(ValueError, AttributeError):
    """A transformer used before ``fit``, ``partial_fit`` or ``load``; the message says which to call."""


# ---------------------------------------------------------------------------------------------
# Parameters and inputs


def _integer(name: str, value, *, low: int = 1, high: int | None = None, why: str = "", none: bool = False) -> None:
    if value is None and none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}={value!r} must be an integer" + (" or None" if none else ""))
    if value < low:
        raise ValueError(f"{name}={value} must be >= {low}")
    if high is not None and value > high:
        raise ValueError(f"{name}={value} must be <= {high}" + (f" ({why})" if why else ""))


def _choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} must be one of {', '.join(map(repr, choices))}")


def _flag(name: str, value) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}={value!r} must be True or False")


def _number(name: str, value) -> None:
    """A finite number a float32 holds (the CLI refuses the rest too)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}={value!r} must be a number")
    if not (np.isfinite(value) and abs(value) <= np.finfo(np.float32).max):
        raise ValueError(f"{name}={value!r} must be a finite number a float32 holds")


def _rows(seqs) -> tuple[Ragged, str]:
    """``seqs`` as a Ragged batch (string tokens as an Arrow array), and the kind to give back."""
    if isinstance(seqs, (pa.Array, pa.ChunkedArray)):
        return from_arrow(seqs), "arrow"
    if not isinstance(seqs, (list, tuple)):
        raise TypeError(f"seqs: a pyarrow list array or a list of sequences, not {type(seqs).__name__}")
    arrays = [np.asarray(s) for s in seqs]
    shaped = [a for a in arrays if a.size or a.ndim > 1]
    dims = {a.ndim for a in shaped}
    if not dims <= {1, 2} or len(dims) > 1 or (2 in dims and len({a.shape[1] for a in shaped}) > 1):
        raise ValueError("seqs: every sequence must be (T,) or every one (T, C) with the same C")
    if not shaped:  # nothing but empty sequences
        return Ragged(np.zeros(0), np.zeros(len(arrays) + 1, dtype=np.int64)), "numpy"
    like = shaped[0]
    arrays = [a if a.size or a.ndim > 1 else a.reshape((0,) + like.shape[1:]).astype(like.dtype) for a in arrays]
    values = np.concatenate(arrays)
    if values.dtype.kind in "USO":  # strings: kept in Arrow, as the kernels want them
        values = pa.array(values.tolist() if values.dtype.kind == "O" else values)
        if pa.types.is_large_string(values.type):
            values = values.cast(pa.string())
    return Ragged.from_lengths(values, np.array([len(a) for a in arrays])), "numpy"


def _step_type(values) -> str:
    """The step type as a dataset's schema names it (string, int64, float, double, ...)."""
    if isinstance(values, pa.Array):
        return str(values.type)
    return str(pa.from_numpy_dtype(values.dtype))


def _labels(y, n: int) -> pa.Array | None:
    if y is None:
        return None
    if isinstance(y, pa.ChunkedArray):
        y = y.combine_chunks()
    try:
        labels = y if isinstance(y, pa.Array) else pa.array(np.asarray(y) if isinstance(y, np.ndarray) else list(y))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as e:
        raise ValueError(f"y: labels must be int64 integers or strings ({e})") from None
    if len(labels) != n:
        raise ValueError(f"y: {len(labels)} labels for {n} sequences")
    if pa.types.is_integer(labels.type) and labels.type != pa.int64():
        try:
            labels = labels.cast(pa.int64())
        except pa.ArrowInvalid:
            raise ValueError("y: integer labels must fit int64") from None
    elif pa.types.is_large_string(labels.type):
        labels = labels.cast(pa.string())
    if label_type_name(labels.type) not in (None, "int64", "string"):
        raise ValueError(f"y: labels must be integers or strings, not {labels.type}")
    return labels


def _infinite(where: str) -> InputError:
    return InputError(f"seqs: {where}, not a finite reading; drop or fill it, or pass inf='nan' to treat infinite "
                      "readings like NaN")


# ---------------------------------------------------------------------------------------------
# The shared shape


class _Transformer:
    """Parameters kept as given (``get_params``/``set_params``), ``fit_transform``, ``transform``."""

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters, by name (scikit-learn's protocol)."""
        return {name: getattr(self, name) for name in inspect.signature(type(self).__init__).parameters
                if name != "self"}

    def set_params(self, **params) -> "_Transformer":
        """Set constructor parameters; what was fitted stays until the next ``fit``. Returns self."""
        known = self.get_params()
        for name, value in params.items():
            if name not in known:
                raise ValueError(f"{name}={value!r}: {type(self).__name__} has no parameter {name!r} "
                                 f"(it has {', '.join(known)})")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {n: p.default for n, p in inspect.signature(type(self).__init__).parameters.items()}
        shown = [f"{n}={v!r}" for n, v in self.get_params().items() if defaults.get(n, inspect.Parameter.empty) is
                 inspect.Parameter.empty or v != defaults[n]]
        return f"{type(self).__name__}({', '.join(shown)})"

    def fit_transform(self, seqs, y=None):
        """``fit(seqs, y)``, then ``transform(seqs)``."""
        return self.fit(seqs, y).transform(seqs)

    def transform(self, seqs):
        """Encode ``seqs``; returns the same kind (a list of numpy arrays, or an Arrow list array)."""
        self._check_params()
        self._ready()
        rows, kind = _rows(seqs)
        self._check_transform_input(rows)
        out, _ = self._encode(rows)
        return _back(out, kind)

    # What each transformer defines:
    def _check_params(self) -> None:
        raise NotImplementedError

    def _ready(self) -> None:
        """Raise NotFittedError unless transform can run."""

    def _check_transform_input(self, rows: Ragged) -> None:
        pass

    def _encode(self, rows: Ragged) -> tuple[Ragged, dict]:
        """Rows (already checked) to encoded rows, with what was counted on the way
        (``nan_replaced``, ...): the step ``seqprep encode`` runs on each batch."""
        raise NotImplementedError


class _Stateless(_Transformer):
    """A transformer with nothing to learn: ``fit`` checks the parameters and returns self."""

    def fit(self, seqs=None, y=None):
        """Nothing to learn: checks the parameters. Returns self."""
        self._check_params()
        return self

    def partial_fit(self, seqs=None, y=None):
        """Nothing to learn: checks the parameters. Returns self."""
        return self.fit(seqs, y)


class _Counted(_Transformer):
    """Counts chunk by chunk with :class:`seqprep.fit.Counts`, as ``seqprep fit`` counts shards,
    and keeps the fitted state as the stats file's contents (``to_stats``)."""

    _kind = "tokens"  # or "numbers": which stats files this class reads and writes

    def fit(self, seqs, y=None):
        """Learn from ``seqs`` (and class labels ``y``), forgetting anything fitted before.

        Parameters
        ----------
        seqs : list array or list of sequences
        y : array-like, optional
            One label (an integer or a string) per sequence; the classes become ``classes_``.

        Returns
        -------
        self
        """
        self._reset()
        return self.partial_fit(seqs, y)

    def partial_fit(self, seqs, y=None):
        """Count one more chunk of ``seqs`` (and labels ``y``) on top of what is fitted.

        Counting chunk by chunk gives the counts of the whole (mean and std up to rounding).
        A transformer loaded from a file counts on top of it, if the file kept every token.

        Returns
        -------
        self
        """
        self._check_params()
        rows, _ = _rows(seqs)
        labels = _labels(y, rows.n_rows)
        rows, step_type, channels = self._prepare_fit(rows)
        if not hasattr(self, "_counts"):
            self._reset()
        if self._counts is None:
            if self._state is not None:
                self._resume()
            else:
                self._counts = Counts.empty(self._kind == "tokens", channels or 1)
                self._step_type, self._channels, self._fit_params, self._chunks = step_type, channels, \
                    self._params_now(), 0
        self._check_same_kind(step_type, channels)
        if labels is not None and self._counts.label_type not in (None, label_type_name(labels.type)) \
                and label_type_name(labels.type) is not None:
            raise ValueError(f"y: {label_type_name(labels.type)} labels, but earlier chunks had "
                             f"{self._counts.label_type} labels; give labels of one type")
        chunk = Counts.empty(self._kind == "tokens", channels or 1)
        chunk.add(rows, labels=labels, inf="nan", where=f"chunk {self._chunks}")  # inf refused in _prepare_fit
        self._counts.merge(chunk)  # as fit merges a shard
        self._chunks += 1
        self._state = None
        return self

    def save(self, path, *, overwrite: bool = True) -> None:
        """Write the fitted state to ``path`` as the JSON stats file ``seqprep fit`` writes
        (``-``: stdout), atomically: a reader sees the old file or the new one. An existing
        stats file is replaced (``overwrite=False``: refused); anything else there (a dataset's
        file, a directory, a link, a FIFO, a file seqprep did not write) is never replaced."""
        if not isinstance(path, (str, os.PathLike)):
            raise UsageError(f"path={path!r} must be a file path (str or os.PathLike)")
        fitted = self._fitted()
        check_stats_target(os.fspath(path), None, overwrite)
        write_stats(os.fspath(path), fitted)

    def to_stats(self) -> dict:
        """The fitted state as the stats file's contents (a new dict)."""
        return copy.deepcopy(self._fitted())

    @classmethod
    def load(cls, path):
        """A transformer fitted as the stats file at ``path`` says (written by ``seqprep fit``
        or :meth:`save`); the file is checked, field by field, first."""
        return cls._from_checked(load_stats(str(path), f"{cls.__name__}.load"), str(path))

    @classmethod
    def from_stats(cls, stats: dict, **params):
        """A transformer fitted as ``stats`` (a stats file's contents) says, with ``params``
        overriding the file's (see the class for which may)."""
        if not isinstance(stats, dict) or stats.get("format") != FORMAT:
            raise InputError("stats: not a seqprep stats file; make one with `seqprep fit` or save()")
        check_stats(stats, "stats")
        return cls._from_checked(copy.deepcopy(stats), "stats", **params)  # the caller's dict stays theirs

    @property
    def classes_(self) -> list:
        """The labels seen in fitting (natural order: numbers by value), the index of each in y."""
        return list(self._fitted()["classes"])

    @property
    def n_rows_(self) -> int:
        """Sequences fitted on."""
        return self._fitted()["rows"]

    @property
    def n_steps_(self) -> int:
        """Steps (tokens, k-mers or readings) fitted on."""
        return self._fitted()["steps"]

    # -- internals

    def _ready(self) -> None:
        self._fitted()

    def _reset(self) -> None:
        self._counts: Counts | None = None
        self._state: dict | None = None
        self._step_type, self._channels, self._fit_params, self._chunks = None, None, None, 0

    def _fitted(self) -> dict:
        state = getattr(self, "_state", None)
        if state is None:
            if getattr(self, "_counts", None) is None:
                name = type(self).__name__
                raise NotFittedError(f"This {name} is not fitted yet: call fit(seqs) (or partial_fit(seqs) chunk "
                                     f"by chunk) first, or load a stats file with {name}.load(path)")
            state = self._state = to_stats(self._counts, step_type=self._step_type, channels=self._channels,
                                           params=self._fit_params, fitted_on=None)
        return state

    def _params_now(self) -> dict:
        return {"max_size": None, "min_count": 1, "kmer": None, "kmer_stride": 1, "lowercase": False, "inf": "error"}

    @classmethod
    def _from_checked(cls, stats: dict, source: str, **params):
        wrong = cls._wrong_file(stats)
        if wrong:
            raise InputError(f"{source}: {wrong}")
        file_params = stats.get("params", {})
        obj = cls(**{**cls._params_from(stats), **{k: v for k, v in params.items() if v is not None}})
        try:
            obj._check_params()
        except (TypeError, ValueError) as e:
            raise InputError(f"{source}: params: {e}; the stats file is damaged or was edited: make it again with "
                             "`seqprep fit`") from None
        obj._reset()
        obj._state = stats
        obj._step_type, obj._channels = stats["step_type"], stats.get("channels")
        obj._fit_params = {"max_size": file_params.get("max_size"), "min_count": file_params.get("min_count", 1),
                           "kmer": file_params.get("kmer"), "kmer_stride": file_params.get("kmer_stride") or 1,
                           "lowercase": file_params.get("lowercase", False), "inf": file_params.get("inf", "error")}
        return obj

    def _resume(self) -> None:
        """Count on top of a loaded file."""
        self._counts = Counts.from_stats(self._state)
        self._chunks = 1

    def _check_same_kind(self, step_type: str, channels: int | None) -> None:
        pass

    def _prepare_fit(self, rows: Ragged) -> tuple[Ragged, str, int | None]:
        raise NotImplementedError

    @classmethod
    def _wrong_file(cls, stats: dict) -> str | None:
        raise NotImplementedError

    @classmethod
    def _params_from(cls, stats: dict) -> dict:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------
# Tokens


class Vocabulary(_Counted):
    """Token -> id by training frequency: 0 padding, 1 unknown, 2 the most frequent token.

    Ties in frequency are ranked by the token itself, so the ids do not depend on the order the
    data came in. ``seqprep fit`` on token data writes what :meth:`save` writes; ``seqprep
    encode --stats FILE`` is ``Vocabulary.load(FILE).transform``.

    Parameters
    ----------
    max_size : int, optional
        Keep the ``max_size`` most frequent tokens (after ``min_count``); default all.
    min_count : int, default 1
        Keep tokens seen at least ``min_count`` times.
    lowercase : bool, default False
        Lowercase string tokens before counting and looking them up.

    Attributes
    ----------
    vocabulary_ : dict
        Token -> id, most frequent first.
    counts_ : dict
        Token -> training count, same order.
    distinct_tokens_ : int
        Distinct tokens seen, kept or not.
    vocab_size_ : int
        Ids in use: 2 + the tokens kept (padding and unknown included).
    classes_ : list
        Labels seen (``y``), in natural order.
    n_rows_, n_steps_ : int
        Sequences and tokens fitted on.

    Examples
    --------
    >>> vocab = Vocabulary(max_size=2).fit([["b", "a", "b"], ["c", "a"]])
    >>> vocab.vocabulary_
    {'a': 2, 'b': 3}
    >>> vocab.transform([["a", "c"]])
    [array([2, 1], dtype=int32)]

    ``from_stats(stats, max_size=..., min_count=...)`` may cap a fitted vocabulary further
    (as ``encode --max-size`` does), never widen it.
    """

    def __init__(self, max_size: int | None = None, min_count: int = 1, lowercase: bool = False):
        self.max_size = max_size
        self.min_count = min_count
        self.lowercase = lowercase

    @property
    def vocabulary_(self) -> dict:
        return {t: FIRST_ID + i for i, t in enumerate(self._fitted()["tokens"])}

    @property
    def counts_(self) -> dict:
        state = self._fitted()
        return dict(zip(state["tokens"], state["counts"]))

    @property
    def distinct_tokens_(self) -> int:
        return self._fitted()["distinct_tokens"]

    @property
    def vocab_size_(self) -> int:
        return FIRST_ID + len(self._fitted()["tokens"])

    def _check_params(self) -> None:
        _integer("max_size", self.max_size, none=True)
        _integer("min_count", self.min_count)
        _flag("lowercase", self.lowercase)

    def _params_now(self) -> dict:
        return {**super()._params_now(), "max_size": self.max_size, "min_count": self.min_count,
                "lowercase": bool(self.lowercase)}

    def _kmer(self) -> tuple[int | None, int]:
        return None, 1

    def _tokens(self, rows: Ragged) -> Ragged:
        """Token rows as counted and looked up: strings lowercased (then k-mers), ids as int64."""
        values = rows.values
        if isinstance(values, np.ndarray) and not len(values):  # nothing but empty sequences
            return Ragged(pa.array([], pa.string()), rows.offsets)
        if isinstance(values, np.ndarray):
            if values.ndim != 1 or values.dtype.kind not in "iu":
                what = "readings" if values.dtype.kind == "f" else f"{values.dtype} values"
                raise ValueError(f"seqs: {type(self).__name__} counts tokens (strings or integer ids), but seqs holds "
                                 f"{what}" + ("; use Standardizer" if values.dtype.kind == "f" else ""))
            if values.dtype.kind == "u" and len(values) and values.max() > np.iinfo(np.int64).max:
                raise ValueError("seqs: token ids must fit int64")
            return Ragged(pa.array(values.astype(np.int64, copy=False)), rows.offsets)
        if values.null_count:
            raise ValueError("seqs: holds a null token; fill or drop it first")
        k, stride = self._kmer()
        return token_rows(rows, lowercase=self.lowercase, kmer=k, kmer_stride=stride)

    def _prepare_fit(self, rows: Ragged) -> tuple[Ragged, str | None, None]:
        step_type = _step_type(rows.values) if len(rows.values) else None
        return self._tokens(rows), step_type, None

    def _check_same_kind(self, step_type: str | None, channels) -> None:
        if step_type is None:  # no tokens in this chunk
            self._step_type = self._step_type or "string"
        elif not self._counts.steps:
            self._step_type = step_type
        elif (step_type in STRING_TYPES) != (self._step_type in STRING_TYPES):
            raise ValueError(f"seqs holds {step_type} tokens, but earlier chunks held {self._step_type}; give one "
                             "kind of token")

    def _check_transform_input(self, rows: Ragged) -> None:
        state = self._fitted()
        fitted_strings = state["step_type"] in STRING_TYPES or state["params"].get("kmer")
        strings = isinstance(rows.values, pa.Array)
        if rows.n_rows and len(rows.values) and bool(fitted_strings) != strings:
            raise ValueError(f"seqs holds {_step_type(rows.values)} tokens, but this {type(self).__name__} was "
                             f"fitted on {state['step_type']} tokens")

    def _encode(self, rows: Ragged) -> tuple[Ragged, dict]:
        tokens = self._tokens(rows)
        if not len(tokens.values):
            return Ragged(np.zeros(0, np.int32), tokens.offsets), {}
        return Ragged(vocab_ids(tokens.values, self._lookup()), tokens.offsets), {}

    def _lookup(self) -> pa.Array:
        state = self._fitted()
        cached = getattr(self, "_lookup_cache", None)
        if cached is not None and cached[0] is state:
            return cached[1]
        strings = state["step_type"] in STRING_TYPES or state["params"].get("kmer")
        lookup = pa.array(state["tokens"], pa.string() if strings else pa.int64())
        self._lookup_cache = (state, lookup)
        return lookup

    def _resume(self) -> None:
        kept, distinct = len(self._state["tokens"]), self._state["distinct_tokens"]
        if kept != distinct:
            raise ValueError(f"the fitted state keeps {kept} of {distinct} distinct tokens (max_size, min_count), so "
                             "the others' counts are gone: fit again on all the data to count more")
        super()._resume()

    @classmethod
    def _wrong_file(cls, stats: dict) -> str | None:
        if stats["kind"] != "tokens":
            return "fitted on numeric readings; load it with Standardizer"
        if stats["params"].get("kmer"):
            return f"counted k-mers of {stats['params']['kmer']}; load it with KmerVocabulary"
        return None

    @classmethod
    def _params_from(cls, stats: dict) -> dict:
        p = stats["params"]
        return {"max_size": p.get("max_size"), "min_count": p.get("min_count", 1), "lowercase": p.get("lowercase", False)}

    @classmethod
    def _from_checked(cls, stats: dict, source: str, **params):
        obj = super()._from_checked(stats, source)
        max_size, min_count = params.pop("max_size", None), params.pop("min_count", None)
        for name, value in (("max_size", max_size), ("min_count", min_count)):
            _integer(name, value, none=True)
        if params:
            obj.set_params(**params)
        if max_size is not None or min_count is not None:
            obj._state = _capped(stats, max_size, min_count)
            obj.max_size, obj.min_count = obj._state["params"]["max_size"], obj._state["params"]["min_count"]
            obj._fit_params.update(max_size=obj.max_size, min_count=obj.min_count)
        return obj


def _capped(stats: dict, max_size: int | None, min_count: int | None) -> dict:
    """A token stats file's contents with the vocabulary capped further, in the file's order."""
    tokens, counts = stats["tokens"], stats["counts"]
    if min_count is not None:
        kept = [i for i, c in enumerate(counts) if c >= min_count]
        tokens, counts = [tokens[i] for i in kept], [counts[i] for i in kept]
    if max_size is not None:
        tokens, counts = tokens[:max_size], counts[:max_size]
    params = dict(stats["params"])
    if max_size is not None:
        params["max_size"] = max_size if params.get("max_size") is None else min(max_size, params["max_size"])
    if min_count is not None:
        params["min_count"] = max(min_count, params.get("min_count") or 1)
    return {**stats, "params": params, "tokens": tokens, "counts": counts}


class KmerVocabulary(Vocabulary):
    """A :class:`Vocabulary` of the overlapping k-mers of one-character tokens (DNA bases).

    K-mer j of a sequence joins tokens ``j*stride .. j*stride + k - 1``; a sequence shorter
    than ``k`` has none. ``seqprep fit --kmer K`` writes what :meth:`save` writes.

    Parameters
    ----------
    k : int
        Tokens per k-mer, 1 to 64.
    stride : int, default 1
        Tokens between k-mer starts.
    max_size, min_count, lowercase
        As :class:`Vocabulary`.

    Examples
    --------
    >>> kv = KmerVocabulary(2).fit([list("ACGAC")])
    >>> kv.vocabulary_
    {'AC': 2, 'CG': 3, 'GA': 4}
    >>> kv.transform([list("ACGT")])
    [array([2, 3, 1], dtype=int32)]
    """

    def __init__(self, k: int, stride: int = 1, max_size: int | None = None, min_count: int = 1,
                 lowercase: bool = False):
        self.k = k
        self.stride = stride
        super().__init__(max_size=max_size, min_count=min_count, lowercase=lowercase)

    def _check_params(self) -> None:
        _integer("k", self.k, high=MAX_KMER, why="longer k-mers are all distinct")
        _integer("stride", self.stride, high=INT32_MAX)
        super()._check_params()

    def _params_now(self) -> dict:
        return {**super()._params_now(), "kmer": self.k, "kmer_stride": self.stride}

    def _kmer(self) -> tuple[int | None, int]:
        return self.k, self.stride

    def _tokens(self, rows: Ragged) -> Ragged:
        if isinstance(rows.values, np.ndarray) and len(rows.values):
            raise ValueError(f"seqs: KmerVocabulary needs one-character string tokens (bases), not "
                             f"{rows.values.dtype} values")
        if isinstance(rows.values, np.ndarray):  # nothing but empty sequences
            rows = Ragged(pa.array([], pa.string()), rows.offsets)
        try:
            return super()._tokens(rows)
        except InputError as e:
            raise ValueError(f"seqs: {e}") from None

    def _prepare_fit(self, rows: Ragged) -> tuple[Ragged, str, None]:
        return self._tokens(rows), "string", None

    @classmethod
    def _wrong_file(cls, stats: dict) -> str | None:
        if stats["kind"] != "tokens":
            return "fitted on numeric readings; load it with Standardizer"
        if not stats["params"].get("kmer"):
            return "counted tokens, not k-mers; load it with Vocabulary"
        return None

    @classmethod
    def _params_from(cls, stats: dict) -> dict:
        p = stats["params"]
        return {**super()._params_from(stats), "k": p["kmer"], "stride": p.get("kmer_stride") or 1}


class Hasher(_Stateless):
    """The hashing trick: token -> 2 + (blake2b-64 of its UTF-8 bytes mod ``n_buckets``).

    Stable across processes, machines and Python versions (unlike ``hash()``); needs no
    fitting, so unseen tokens get ids too (colliding at random). Integer ids are hashed as
    their decimal text. ``seqprep encode --hash N`` is ``Hasher(N).transform``.

    Parameters
    ----------
    n_buckets : int
        Ids 2 .. n_buckets + 1 (0 stays padding; 1, unknown, is never given).
    lowercase : bool, default False
        Lowercase string tokens first.
    kmer : int, optional
        Hash the overlapping k-mers of one-character tokens instead (see :class:`KmerVocabulary`).
    kmer_stride : int, default 1
        Tokens between k-mer starts.

    Examples
    --------
    >>> Hasher(1000).transform([["cat", "dog", "cat"]])[0].tolist()
    [941, 467, 941]
    """

    def __init__(self, n_buckets: int, lowercase: bool = False, kmer: int | None = None, kmer_stride: int = 1):
        self.n_buckets = n_buckets
        self.lowercase = lowercase
        self.kmer = kmer
        self.kmer_stride = kmer_stride

    def _check_params(self) -> None:
        _integer("n_buckets", self.n_buckets, high=MAX_HASH, why="ids are int32: 2 + n_buckets - 1 must fit")
        _flag("lowercase", self.lowercase)
        _integer("kmer", self.kmer, high=MAX_KMER, why="longer k-mers are all distinct", none=True)
        _integer("kmer_stride", self.kmer_stride, high=INT32_MAX)

    def _encode(self, rows: Ragged) -> tuple[Ragged, dict]:
        values = rows.values
        if isinstance(values, np.ndarray) and (values.ndim != 1 or values.dtype.kind not in "iu") and len(values):
            raise ValueError(f"seqs: Hasher hashes tokens (strings or integer ids), not {values.dtype} values")
        if isinstance(values, np.ndarray) and self.kmer is not None:
            if len(values):
                raise ValueError("seqs: kmer needs one-character string tokens (bases), not integer ids")
            rows = Ragged(pa.array([], pa.string()), rows.offsets)
        try:
            tokens = token_rows(rows, lowercase=self.lowercase, kmer=self.kmer, kmer_stride=self.kmer_stride)
        except InputError as e:
            raise ValueError(f"seqs: {e}") from None
        return Ragged(hash_ids(tokens.values, self.n_buckets), tokens.offsets), {}


class OneHot(_Stateless):
    """One channel per symbol of ``alphabet``: ``(T,)`` tokens -> ``(T, len(alphabet))`` float32.

    A token not in the alphabet is all zeros. ``seqprep encode --onehot ACGT`` is
    ``OneHot("ACGT").transform``.

    Parameters
    ----------
    alphabet : str
        Distinct symbols, one channel each (at most 1024), e.g. ``"ACGT"``.
    lowercase : bool, default False
        Lowercase the tokens first (give the alphabet in lowercase too).

    Examples
    --------
    >>> OneHot("ACGT").transform([list("GAN")])[0].tolist()
    [[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    """

    def __init__(self, alphabet: str, lowercase: bool = False):
        self.alphabet = alphabet
        self.lowercase = lowercase

    def _check_params(self) -> None:
        a = self.alphabet
        if not isinstance(a, str) or not a or len(set(a)) != len(a) or len(a) > MAX_ONEHOT:
            raise ValueError(f"alphabet={str(a)[:40]!r} must be a string of distinct symbols (at most {MAX_ONEHOT}), "
                             "e.g. 'ACGT'")
        _flag("lowercase", self.lowercase)

    def _encode(self, rows: Ragged) -> tuple[Ragged, dict]:
        values = rows.values
        if isinstance(values, np.ndarray):
            if len(values):
                raise ValueError(f"seqs: OneHot needs string tokens (symbols such as bases), not {values.dtype} values")
            values = pa.array([], pa.string())
        if self.lowercase:
            values = token_rows(Ragged(values, rows.offsets), lowercase=True).values
        return Ragged(onehot(values, self.alphabet), rows.offsets), {}


# ---------------------------------------------------------------------------------------------
# Readings


class Standardizer(_Counted):
    """Z-score readings per channel with the training mean and standard deviation.

    The mean and (population) standard deviation of each channel are counted over every real
    reading, NaN skipped; ``transform`` computes ``(x - mean_) / std_`` in float32 (a std of 0,
    or a channel never seen, leaves the readings centred but unscaled) and NaN becomes
    ``nan_value``. ``seqprep fit`` on readings writes what :meth:`save` writes; ``seqprep
    encode --normalize FILE`` is ``Standardizer.load(FILE).transform``.

    Parameters
    ----------
    inf : {"error", "nan"}, default "error"
        An infinite reading raises ``InputError`` (naming the sequence and step), or is treated
        like NaN: skipped in fitting (counted in ``n_infinite_``), ``nan_value`` in transform.
    nan_value : float, default 0.0
        What NaN (and, with ``inf="nan"``, infinite) readings become in transform.

    Attributes
    ----------
    mean_, std_, min_, max_ : numpy.ndarray
        ``(C,)`` float64 per channel (C = 1 for ``(T,)`` sequences); NaN for a channel with no
        readings.
    count_ : numpy.ndarray
        ``(C,)`` int64, the readings counted per channel (NaN skipped).
    n_infinite_ : int
        Infinite readings skipped (``inf="nan"``).
    classes_ : list
        Labels seen (``y``), in natural order.
    n_rows_, n_steps_ : int
        Sequences and steps fitted on.

    Examples
    --------
    >>> import numpy as np
    >>> z = Standardizer().fit([np.array([1.0, 3.0]), np.array([5.0])])
    >>> z.mean_, z.std_.round(4)
    (array([3.]), array([1.633]))
    >>> z.transform([np.array([3.0, np.nan])])
    [array([0., 0.], dtype=float32)]

    For z-scores of each sequence over its own steps, see :class:`RowStandardizer`.
    """

    _kind = "numbers"

    def __init__(self, inf: str = "error", nan_value: float = 0.0):
        self.inf = inf
        self.nan_value = nan_value

    def _check_params(self) -> None:
        _choice("inf", self.inf, INF_MODES)
        _number("nan_value", self.nan_value)

    def _params_now(self) -> dict:
        return {**super()._params_now(), "inf": self.inf}

    def _channel(self, key: str) -> np.ndarray:
        return np.array([np.nan if c[key] is None else c[key] for c in self._fitted()["channel_stats"]], dtype=np.float64)

    @property
    def mean_(self) -> np.ndarray:
        return self._channel("mean")

    @property
    def std_(self) -> np.ndarray:
        return self._channel("std")

    @property
    def min_(self) -> np.ndarray:
        return self._channel("min")

    @property
    def max_(self) -> np.ndarray:
        return self._channel("max")

    @property
    def count_(self) -> np.ndarray:
        return np.array([c["count"] for c in self._fitted()["channel_stats"]], dtype=np.int64)

    @property
    def n_infinite_(self) -> int:
        return self._fitted().get("inf_ignored", 0)

    def _readings(self, rows: Ragged) -> None:
        values = rows.values
        if not isinstance(values, np.ndarray) or (values.dtype.kind != "f" and len(values)):
            what = "string tokens" if isinstance(values, pa.Array) else f"{values.dtype} values"
            raise ValueError(f"seqs: {type(self).__name__} works on float readings, but seqs holds {what}"
                             + ("; use Vocabulary" if isinstance(values, pa.Array) or values.dtype.kind in "iu" else "")
                             + " (numbers as floats: np.asarray(s, dtype=np.float32))")
        if self.inf == "error":
            where = first_infinite(values, rows.offsets)
            if where is not None:
                raise _infinite(where)

    def _prepare_fit(self, rows: Ragged) -> tuple[Ragged, str, int | None]:
        self._readings(rows)
        values = rows.values
        channels = values.shape[1] if values.ndim == 2 else None
        return rows, _step_type(values) if values.dtype.kind == "f" else "float", channels

    def _check_same_kind(self, step_type: str, channels) -> None:
        if not self._counts.steps:  # the first readings decide the step type and channels
            self._step_type = step_type
            if (channels or 1) != (self._channels or 1):
                self._counts.moments = Moments(channels or 1)
            self._channels = channels
        elif (channels or 1) != (self._channels or 1):
            raise ValueError(f"seqs has {channels or 1} channel(s), but earlier chunks had {self._channels or 1}")

    def _check_transform_input(self, rows: Ragged) -> None:
        self._readings(rows)
        fitted = len(self._fitted()["channel_stats"])
        channels = rows.values.shape[1] if rows.values.ndim == 2 else 1
        if len(rows.values) and channels != fitted:
            raise ValueError(f"seqs has {channels} channel(s), but this Standardizer was fitted on {fitted}")

    def _encode(self, rows: Ragged) -> tuple[Ragged, dict]:
        chan = self._fitted()["channel_stats"]
        empty = [k for k, c in enumerate(chan) if c["mean"] is None]
        if empty and len(rows.values):
            raise ValueError(f"seqs: channel {empty[0]} had no finite reading when the statistics were fitted "
                             "(all NaN), so there is no mean or std to normalize it with; fit on data that has "
                             "readings in every channel")
        mean = np.array([c["mean"] if c["mean"] is not None else 0.0 for c in chan])
        std = np.array([c["std"] if c["std"] is not None else 1.0 for c in chan])
        if rows.values.ndim == 1:
            mean, std = mean[0], std[0]
        values = rows.values if len(rows.values) else rows.values.astype(np.float32)
        out, nans, infs = normalize(values, mean, std, self.nan_value, self.inf)
        return Ragged(out, rows.offsets), {"nan_replaced": nans, "inf_replaced": infs}

    @classmethod
    def _wrong_file(cls, stats: dict) -> str | None:
        if stats["kind"] != "numbers":
            return "fitted on tokens; load it with " + ("KmerVocabulary" if stats["params"].get("kmer") else "Vocabulary")
        return None

    @classmethod
    def _params_from(cls, stats: dict) -> dict:
        return {"inf": stats["params"].get("inf", "error")}

    @classmethod
    def _from_checked(cls, stats: dict, source: str, **params):
        obj = super()._from_checked(stats, source)
        return obj.set_params(**params) if params else obj


class RowStandardizer(_Stateless):
    """Z-score each sequence and channel over its own real steps (per-sequence z-normalisation,
    as the time-series classification archives use); nothing to fit.

    The mean and population standard deviation skip NaN. A sequence whose channel holds one
    distinct reading (a constant, or a single step) becomes zeros there; NaN becomes
    ``nan_value``; an empty sequence stays empty. ``seqprep encode --normalize per-row`` is
    ``RowStandardizer().transform`` (and counts the constant ones).

    Parameters
    ----------
    inf : {"error", "nan"}, default "error"
        An infinite reading raises ``InputError``, or is treated like NaN (skipped, then
        ``nan_value``).
    nan_value : float, default 0.0
        What NaN (and, with ``inf="nan"``, infinite) readings become.

    Examples
    --------
    >>> import numpy as np
    >>> RowStandardizer().transform([np.array([1.0, 3.0]), np.array([7.0, 7.0]), np.array([])])
    [array([-1.,  1.], dtype=float32), array([0., 0.], dtype=float32), array([], dtype=float32)]
    """

    def __init__(self, inf: str = "error", nan_value: float = 0.0):
        self.inf = inf
        self.nan_value = nan_value

    def _check_params(self) -> None:
        _choice("inf", self.inf, INF_MODES)
        _number("nan_value", self.nan_value)

    def _check_transform_input(self, rows: Ragged) -> None:
        Standardizer._readings(self, rows)

    def _encode(self, rows: Ragged) -> tuple[Ragged, dict]:
        out, nans, infs, constant = normalize_rows(rows, self.nan_value, self.inf)
        return out, {"nan_replaced": nans, "inf_replaced": infs, "constant_rows": constant}

