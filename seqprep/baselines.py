"""Strong simple baselines to measure seqprep's LSTMs against.

Three classifiers and the scores they are judged by, as pure functions:

- :func:`majority`: the most frequent training class, for every test row;
- :func:`nearest_neighbour`: 1-NN, Euclidean, on per-row z-scored readings brought to one
  length by piecewise aggregate approximation (PAA);
- :func:`tfidf_linear`: TF-IDF of unigrams and bigrams, then a multinomial logistic
  regression (scikit-learn when importable, else the numpy fallback below);
- :func:`accuracy`, :func:`macro_f1` and :func:`score`.

numpy only; scikit-learn is used by :func:`tfidf_linear` when it is installed. Nothing here
reads files or keeps state; every function is deterministic for its inputs (and ``seed``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "accuracy",
    "macro_f1",
    "majority",
    "nearest_neighbour",
    "paa_to_length",
    "score",
    "tfidf_linear",
    "zscore_rows",
]


# --------------------------------------------------------------------------- scores


def accuracy(y_true, y_pred) -> float:
    """Share of rows whose prediction equals the truth.

    Parameters
    ----------
    y_true, y_pred : array_like of shape (n,)
        Labels (any type numpy can compare: ints or strings).

    Returns
    -------
    float
        In [0, 1]; ``nan`` when there are no rows.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if len(y_true) == 0:
        return float("nan")
    return float(np.mean(y_true == y_pred))


def macro_f1(y_true, y_pred, labels=None) -> float:
    """Unweighted mean over classes of F1 = 2 TP / (2 TP + FP + FN).

    Parameters
    ----------
    y_true, y_pred : array_like of shape (n,)
        Labels.
    labels : array_like, optional
        The classes to average over. Default: every class seen in ``y_true`` or ``y_pred``
        (scikit-learn's default). A class with no true and no predicted row scores 0, as in
        scikit-learn's ``zero_division=0``.

    Returns
    -------
    float
        In [0, 1]; ``nan`` when there are no rows and no ``labels``.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    classes = np.unique(np.concatenate([y_true, y_pred])) if labels is None else np.unique(np.asarray(labels))
    if len(classes) == 0:
        return float("nan")
    k = len(classes)
    ti, t_ok = _index_in(classes, y_true)
    pi, p_ok = _index_in(classes, y_pred)
    tp = np.bincount(ti[t_ok & p_ok & (ti == pi)], minlength=k)
    n_true = np.bincount(ti[t_ok], minlength=k)  # TP + FN
    n_pred = np.bincount(pi[p_ok], minlength=k)  # TP + FP
    denom = n_true + n_pred
    f1 = np.divide(2.0 * tp, denom, out=np.zeros(k), where=denom > 0)
    return float(f1.mean())


def score(name: str, y_true, y_pred, labels=None) -> dict:
    """One result row: ``{"name", "n", "accuracy", "macro_f1"}``.

    Parameters
    ----------
    name : str
        What made the predictions (e.g. ``"1-NN"``).
    y_true, y_pred : array_like of shape (n,)
        Labels.
    labels : array_like, optional
        Passed to :func:`macro_f1`.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return {
        "name": name,
        "n": int(len(y_true)),
        "accuracy": accuracy(y_true, y_pred),
        "macro_f1": macro_f1(y_true, y_pred, labels),
    }


def _pair(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} rows but y_pred has {len(y_pred)}")
    return y_true, y_pred


def _index_in(sorted_values: np.ndarray, x: np.ndarray):
    """Position of each ``x`` in ``sorted_values``, and whether it is there."""
    pos = np.searchsorted(sorted_values, x)
    pos_c = np.minimum(pos, len(sorted_values) - 1)
    return pos_c, (pos < len(sorted_values)) & (sorted_values[pos_c] == x)


# --------------------------------------------------------------------------- majority


def majority(y_train, n_test: int) -> np.ndarray:
    """Predict the most frequent training class for every test row.

    Parameters
    ----------
    y_train : array_like of shape (n,)
        Training labels; at least one.
    n_test : int
        How many predictions to make (0 gives an empty array).

    Returns
    -------
    numpy.ndarray of shape (n_test,)
        The class, of ``y_train``'s dtype. Ties go to the smallest label in sort order.
    """
    y = np.asarray(y_train).ravel()
    if len(y) == 0:
        raise ValueError("majority needs at least one training label")
    if n_test < 0:
        raise ValueError(f"n_test={n_test} must be >= 0")
    classes, counts = np.unique(y, return_counts=True)  # sorted, so argmax's first max is the smallest
    return np.full(n_test, classes[np.argmax(counts)], dtype=y.dtype)


# --------------------------------------------------------------------------- 1-NN


def _as_series(x) -> list[np.ndarray]:
    """A list of float64 arrays (T_i, C) from a list of (T_i,)/(T_i, C) arrays or a 2-D/3-D array."""
    if isinstance(x, np.ndarray) and x.dtype != object:
        if x.ndim == 2:
            x = x[:, :, None]
        if x.ndim != 3:
            raise ValueError(f"an array of series must be 2-D (N, T) or 3-D (N, T, C), not {x.ndim}-D")
        return list(x.astype(np.float64, copy=False))
    out = []
    for s in x:
        a = np.asarray(s, dtype=np.float64)
        if a.ndim == 1:
            a = a[:, None]
        if a.ndim != 2:
            raise ValueError(f"each series must be (T,) or (T, C), not shape {a.shape}")
        out.append(a)
    return out


def paa_to_length(series, length: int) -> np.ndarray:
    """Piecewise aggregate approximation of every series to ``length`` steps.

    Segment i of a series of T steps is the mean of steps [floor(i*T/M), floor((i+1)*T/M)),
    as in ``seqprep summarize --paa M``: every step is used and segment sizes differ by at most
    one. A series shorter than M is stretched by repeating steps. NaN steps are ignored in a
    segment's mean (a segment of only NaN stays NaN).

    Parameters
    ----------
    series : list of array_like (T_i,) or (T_i, C), or an array (N, T) / (N, T, C)
        The series; all must have the same number of channels C.
    length : int
        M, the number of steps to keep (>= 1).

    Returns
    -------
    numpy.ndarray of shape (N, M, C), float64
    """
    if length < 1:
        raise ValueError(f"length={length} must be >= 1")
    xs = _as_series(series)
    if not xs:
        return np.zeros((0, length, 0))
    channels = {a.shape[1] for a in xs}
    if len(channels) != 1:
        raise ValueError(f"every series must have the same channels, got {sorted(channels)}")
    c = channels.pop()
    lengths = np.array([len(a) for a in xs], dtype=np.int64)
    if (lengths == 0).any():
        raise ValueError(f"series {int(np.argmax(lengths == 0))} is empty")
    out = np.empty((len(xs), length, c))
    m = np.arange(length + 1)
    for t in np.unique(lengths):  # one vectorized pass per distinct length
        rows = np.flatnonzero(lengths == t)
        block = np.stack([xs[i] for i in rows])  # (n, T, C)
        bounds = (t * m) // length
        start = bounds[:-1]
        end = np.maximum(bounds[1:], start + 1)
        valid = ~np.isnan(block)
        filled = np.where(valid, block, 0.0)
        csum = np.concatenate([np.zeros((len(rows), 1, c)), np.cumsum(filled, axis=1)], axis=1)
        ccnt = np.concatenate([np.zeros((len(rows), 1, c)), np.cumsum(valid, axis=1)], axis=1)
        sums = csum[:, end] - csum[:, start]
        counts = ccnt[:, end] - ccnt[:, start]
        out[rows] = np.divide(sums, counts, out=np.full_like(sums, np.nan), where=counts > 0)
    return out


def zscore_rows(x: np.ndarray) -> np.ndarray:
    """Z-score each row, per channel, over its steps; constant rows become zeros; NaN -> 0.

    Parameters
    ----------
    x : numpy.ndarray of shape (N, T, C)

    Returns
    -------
    numpy.ndarray of shape (N, T, C), float64
    """
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] == 0 or x.shape[1] == 0:
        return x.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        valid = ~np.isnan(x)
        n = valid.sum(axis=1, keepdims=True)
        mean = np.where(valid, x, 0.0).sum(axis=1, keepdims=True) / np.maximum(n, 1)
        dev = np.where(valid, x - mean, 0.0)
        std = np.sqrt((dev**2).sum(axis=1, keepdims=True) / np.maximum(n, 1))
        z = np.divide(dev, std, out=np.zeros_like(dev), where=std > 1e-12 * np.maximum(1.0, np.abs(mean)))
    return z


def nearest_neighbour(x_train, y_train, x_test, *, length: int | None = None, block_rows: int = 1024) -> np.ndarray:
    """1-nearest-neighbour with Euclidean distance on z-scored, equal-length series.

    Each series is first brought to a common length M by PAA (:func:`paa_to_length`): M is
    the shortest length over the training and test series together unless ``length`` is
    given, so equal-length data is used as it is. Then each series is z-scored per channel
    (:func:`zscore_rows`: constant series become zeros, NaN becomes 0), flattened, and each
    test row takes the label of its closest training row (ties: the first training row).
    Distances are computed ``block_rows`` test rows at a time, so memory stays at about
    ``block_rows * n_train`` floats beyond the data itself.

    Parameters
    ----------
    x_train, x_test : list of array_like (T_i,) or (T_i, C), or array (N, T) / (N, T, C)
        The series; one number of channels C throughout.
    y_train : array_like of shape (n_train,)
        Training labels.
    length : int, optional
        PAA length M; default the shortest series.
    block_rows : int
        Test rows per distance block.

    Returns
    -------
    numpy.ndarray of shape (n_test,)
        Predicted labels, of ``y_train``'s dtype.
    """
    y_train = np.asarray(y_train).ravel()
    xtr, xte = _as_series(x_train), _as_series(x_test)
    if len(xtr) != len(y_train):
        raise ValueError(f"x_train has {len(xtr)} series but y_train has {len(y_train)} labels")
    if not xtr:
        raise ValueError("nearest_neighbour needs at least one training series")
    if not xte:
        return y_train[:0].copy()
    if block_rows < 1:
        raise ValueError(f"block_rows={block_rows} must be >= 1")
    m = length if length is not None else min(len(a) for a in xtr + xte)
    a = zscore_rows(paa_to_length(xtr, m)).reshape(len(xtr), -1)
    b = zscore_rows(paa_to_length(xte, m)).reshape(len(xte), -1)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"train and test series differ in channels ({a.shape[1] // m} vs {b.shape[1] // m})")
    a_sq = np.einsum("ij,ij->i", a, a)
    nearest = np.empty(len(b), dtype=np.int64)
    for lo in range(0, len(b), block_rows):  # one loop per block, not per row
        blk = b[lo : lo + block_rows]
        # squared distance up to the test row's own |b|^2, which does not change the argmin
        d = a_sq[None, :] - 2.0 * (blk @ a.T)
        nearest[lo : lo + len(blk)] = np.argmin(d, axis=1)
    return y_train[nearest]


# --------------------------------------------------------------------------- TF-IDF + linear


def _tokens(doc) -> np.ndarray:
    """A document as a 1-D array of str tokens (ints become their decimal strings)."""
    arr = np.asarray(doc)
    if arr.ndim != 1 and arr.size:
        raise ValueError(f"a document must be a 1-D sequence of tokens, got shape {arr.shape}")
    return arr.ravel().astype(str)


def _with_bigrams(tokens: np.ndarray, bigrams: bool) -> np.ndarray:
    if not bigrams or len(tokens) < 2:
        return tokens
    # "\x1f" (unit separator) cannot be produced by whitespace tokenization
    return np.concatenate([tokens, np.char.add(np.char.add(tokens[:-1], "\x1f"), tokens[1:])])


def tfidf_linear(
    docs_train: Sequence,
    y_train,
    docs_test: Sequence,
    *,
    max_features: int = 20000,
    bigrams: bool = True,
    c: float = 10.0,
    seed: int = 0,
    backend: str = "auto",
) -> np.ndarray:
    """TF-IDF (sublinear tf, l2 norm, unigrams + bigrams) and a multinomial logistic regression.

    The vocabulary and the IDF weights are fitted on ``docs_train`` only: the ``max_features``
    terms most frequent in the training documents (by total count, ties by term), idf = ln((1 + n) / (1 + df)) + 1,
    tf = 1 + ln(count), each row l2-normalized (scikit-learn's ``TfidfVectorizer`` with
    ``sublinear_tf=True``).

    Parameters
    ----------
    docs_train, docs_test : sequence of token sequences
        Each document is already tokenized: a list of str, or an int array of token ids.
    y_train : array_like of shape (n_train,)
        Training labels.
    max_features : int
        Vocabulary cap (unigrams and bigrams together). The numpy backend holds dense
        (n_docs, max_features) float32 matrices.
    bigrams : bool
        Add adjacent token pairs as terms.
    c : float
        Inverse L2 regularization strength (scikit-learn's ``C``).
    seed : int
        Passed to scikit-learn's ``random_state``; the numpy backend starts from zeros and is
        deterministic regardless.
    backend : {"auto", "sklearn", "numpy"}
        ``auto`` uses scikit-learn (``TfidfVectorizer`` + ``LogisticRegression(lbfgs)``) when
        it is importable, else the numpy fallback (full-batch Adam on the softmax loss).

    Returns
    -------
    numpy.ndarray of shape (n_test,)
        Predicted labels, of ``y_train``'s dtype.
    """
    y_train = np.asarray(y_train).ravel()
    if len(docs_train) != len(y_train):
        raise ValueError(f"docs_train has {len(docs_train)} documents but y_train has {len(y_train)} labels")
    if len(docs_train) == 0:
        raise ValueError("tfidf_linear needs at least one training document")
    if max_features < 1:
        raise ValueError(f"max_features={max_features} must be >= 1")
    if backend not in ("auto", "sklearn", "numpy"):
        raise ValueError(f"backend={backend!r} must be one of auto, sklearn, numpy")
    if len(docs_test) == 0:
        return y_train[:0].copy()
    classes, yi = np.unique(y_train, return_inverse=True)
    if len(classes) == 1:
        return np.full(len(docs_test), classes[0], dtype=y_train.dtype)
    tr = [_with_bigrams(_tokens(d), bigrams) for d in docs_train]
    te = [_with_bigrams(_tokens(d), bigrams) for d in docs_test]
    if backend != "numpy":
        try:
            import sklearn  # noqa: F401
        except ImportError:
            if backend == "sklearn":
                raise
        else:
            return classes[_sklearn_fit_predict(tr, yi, te, max_features, c, seed)]
    return classes[_numpy_fit_predict(tr, yi, te, max_features, c)]


def _identity(doc):
    return doc


def _sklearn_fit_predict(tr, yi, te, max_features, c, seed):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, norm="l2", max_features=max_features, dtype=np.float64)
    xtr = vec.fit_transform(tr)
    xte = vec.transform(te)
    clf = LogisticRegression(C=c, max_iter=2000, random_state=seed)
    clf.fit(xtr, yi)
    return clf.predict(xte)


def _tfidf_dense(docs, vocab, idf):
    """Dense (n_docs, V) float32 TF-IDF rows of ``docs`` over the sorted ``vocab``."""
    n, v = len(docs), len(vocab)
    lens = np.array([len(d) for d in docs], dtype=np.int64)
    flat = np.concatenate(docs) if n and lens.sum() else np.zeros(0, dtype=str)
    doc_of = np.repeat(np.arange(n, dtype=np.int64), lens)
    term, known = _index_in(vocab, flat)
    counts = np.bincount(doc_of[known] * v + term[known], minlength=n * v).reshape(n, v).astype(np.float32)
    tf = np.where(counts > 0, 1.0 + np.log(np.maximum(counts, 1.0)), 0.0).astype(np.float32)
    x = tf * idf[None, :]
    norm = np.sqrt((x * x).sum(axis=1, keepdims=True))
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)


def _numpy_fit_predict(tr, yi, te, max_features, c, *, steps: int = 300, lr: float = 0.05):
    n = len(tr)
    terms, total = np.unique(np.concatenate(tr), return_counts=True)  # sorted terms, corpus counts
    if len(terms) > max_features:
        order = np.lexsort((terms, -total))[:max_features]  # most frequent first, ties by term
        terms = terms[np.sort(order)]
    # document frequency: each term once per document
    uniq, df = np.unique(np.concatenate([np.unique(d) for d in tr]), return_counts=True)
    df = df[np.searchsorted(uniq, terms)]
    idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
    xtr = _tfidf_dense(tr, terms, idf)
    xte = _tfidf_dense(te, terms, idf)
    k = int(yi.max()) + 1
    onehot = np.eye(k, dtype=np.float32)[yi]
    w = np.zeros((xtr.shape[1], k), dtype=np.float32)
    b = np.zeros(k, dtype=np.float32)
    mw, vw, mb, vb = np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    l2 = 1.0 / (c * n)  # scikit-learn's objective C * sum(loss) + |w|^2 / 2, divided by C * n
    for t in range(1, steps + 1):  # full-batch Adam on the mean softmax cross-entropy
        z = xtr @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) / n
        gw = xtr.T @ g + l2 * w
        gb = g.sum(axis=0)
        mw = beta1 * mw + (1 - beta1) * gw
        vw = beta2 * vw + (1 - beta2) * gw * gw
        mb = beta1 * mb + (1 - beta1) * gb
        vb = beta2 * vb + (1 - beta2) * gb * gb
        corr1, corr2 = 1 - beta1**t, 1 - beta2**t
        w -= lr * (mw / corr1) / (np.sqrt(vw / corr2) + eps)
        b -= lr * (mb / corr1) / (np.sqrt(vb / corr2) + eps)
    return np.argmax(xte @ w + b, axis=1)
