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
    Training series constant in every channel (empty, flat) are the neighbours of flat test
    series only (unless all training series are flat): all zeros once z-scored, such a series
    is nearer than any real shape correlated below 0.5 with the test row.
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
    shaped = a_sq > 0
    flat_label = None
    if shaped.any() and not shaped.all():
        # A series constant in every channel is all zeros once z-scored, and a zero vector is
        # nearer to a z-scored test row than any training row correlated with it below 0.5:
        # one empty or flat training row would otherwise take most predictions. A flat test
        # row still takes the first flat training row's label (distance 0).
        flat_label = y_train[np.flatnonzero(~shaped)[0]]
        a, a_sq, y_train = a[shaped], a_sq[shaped], y_train[shaped]
    nearest = np.empty(len(b), dtype=np.int64)
    for lo in range(0, len(b), block_rows):  # one loop per block, not per row
        blk = b[lo : lo + block_rows]
        # squared distance up to the test row's own |b|^2, which does not change the argmin
        d = a_sq[None, :] - 2.0 * (blk @ a.T)
        nearest[lo : lo + len(blk)] = np.argmin(d, axis=1)
    out = y_train[nearest]
    if flat_label is not None:
        out[~np.any(b, axis=1)] = flat_label
    return out


# --------------------------------------------------------------------------- TF-IDF + linear


class _Terms:
    """The documents of one split as term ids: ``terms[i]`` is a term of document ``doc[i]``
    (each token's id, and where ``bigrams`` each adjacent pair's id after them)."""

    def __init__(self, terms: np.ndarray, doc: np.ndarray, n: int):
        self.terms, self.doc, self.n = terms, doc, n


def _flat_tokens(docs) -> tuple:
    """(flat tokens as an Arrow string array, lengths) of a sequence of token sequences or of
    an Arrow list array / chunked array of tokens (ints become their decimal strings; a null
    document is empty; a null token stays null)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(docs, pa.ChunkedArray):
        docs = docs.combine_chunks() if docs.num_chunks else pa.array([], docs.type)
    if isinstance(docs, pa.Array):
        if not (pa.types.is_list(docs.type) or pa.types.is_large_list(docs.type)):
            raise ValueError(f"documents must be lists of tokens, got Arrow type {docs.type}")
        lengths = pc.list_value_length(docs).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        flat = docs.flatten()  # the values of the non-null lists, in order
    else:
        parts, lengths = [], np.zeros(len(docs), dtype=np.int64)
        for i, d in enumerate(docs):
            arr = np.asarray(d if d is not None else [])
            if arr.ndim != 1 and arr.size:
                raise ValueError(f"a document must be a 1-D sequence of tokens, got shape {arr.shape}")
            arr = arr.ravel()
            lengths[i] = len(arr)
            parts.append(pa.array(arr.astype(str) if arr.dtype.kind not in "iuU" else arr))
        flat = pa.concat_arrays([p.cast(pa.string()) for p in parts]) if parts else pa.array([], pa.string())
    if not (pa.types.is_string(flat.type) or pa.types.is_large_string(flat.type)):
        flat = flat.cast(pa.string())
    return flat, lengths


def _term_splits(train, test, bigrams: bool) -> tuple[_Terms, _Terms]:
    """Both splits as term ids. Tokens get ids in their string order over both splits (a
    null token one id of its own, last); a bigram (a, b) of one document is V + a * V + b,
    V the number of token ids, so terms sort as unigrams first, then bigrams by their tokens."""
    import pyarrow as pa
    import pyarrow.compute as pc

    (flat_tr, len_tr), (flat_te, len_te) = _flat_tokens(train), _flat_tokens(test)
    both = pa.chunked_array([flat_tr, flat_te], type=pa.string()) if len(flat_tr) + len(flat_te) else None
    if both is None:
        ids, v = np.zeros(0, dtype=np.int64), 1
    else:
        coded = pc.dictionary_encode(both).combine_chunks()
        dictionary = coded.dictionary
        rank = np.empty(len(dictionary), dtype=np.int64)
        rank[pc.sort_indices(dictionary).to_numpy()] = np.arange(len(dictionary), dtype=np.int64)
        v = len(dictionary) + 1
        index = coded.indices.fill_null(len(dictionary)).to_numpy(zero_copy_only=False).astype(np.int64)
        ids = np.append(rank, len(dictionary))[index]
    out = []
    for lengths, part in ((len_tr, ids[:len(flat_tr)]), (len_te, ids[len(flat_tr):])):
        n = len(lengths)
        doc = np.repeat(np.arange(n, dtype=np.int64), lengths)
        terms = [part]
        docs = [doc]
        if bigrams and len(part) > 1:
            same = doc[1:] == doc[:-1]  # a pair within one document
            terms.append(v + part[:-1][same] * v + part[1:][same])
            docs.append(doc[:-1][same])
        out.append(_Terms(np.concatenate(terms), np.concatenate(docs), n))
    return out[0], out[1]


class _Tfidf:
    """Sparse TF-IDF rows (CSR: ``indptr``, ``cols``, ``vals``) over a fitted vocabulary."""

    def __init__(self, x: _Terms, vocab: np.ndarray, idf: np.ndarray | None = None):
        f = len(vocab)
        pos, known = _index_in(vocab, x.terms) if f else (x.terms[:0], np.zeros(len(x.terms), dtype=bool))
        codes, counts = np.unique(x.doc[known] * f + pos[known], return_counts=True)  # sorted by doc, then term
        rows, self.cols = codes // max(f, 1), codes % max(f, 1)
        self.n, self.f = x.n, f
        self.indptr = np.searchsorted(rows, np.arange(x.n + 1), side="left")
        self.df = np.bincount(self.cols, minlength=f)
        if idf is None:
            idf = (np.log((1.0 + x.n) / (1.0 + self.df)) + 1.0)
        self.idf = idf
        vals = (1.0 + np.log(counts)) * idf[self.cols]
        norm = np.sqrt(np.bincount(rows, weights=vals * vals, minlength=x.n))
        self.vals = (vals / norm[rows]).astype(np.float32) if len(vals) else vals.astype(np.float32)
        self.rows = rows
        order = np.argsort(self.cols, kind="stable")  # the same entries by term, for X.T @ G
        self._t_rows, self._t_vals = rows[order], self.vals[order]
        self._t_ptr = np.searchsorted(self.cols[order], np.arange(f + 1), side="left")

    def dot(self, w: np.ndarray) -> np.ndarray:
        """X @ w, (n, k)."""
        return _segment_sum(self.vals[:, None] * w[self.cols], self.indptr, self.n)

    def t_dot(self, g: np.ndarray) -> np.ndarray:
        """X.T @ g, (f, k)."""
        return _segment_sum(self._t_vals[:, None] * g[self._t_rows], self._t_ptr, self.f)

    def dense(self) -> np.ndarray:
        out = np.zeros((self.n, self.f), dtype=np.float32)
        out[self.rows, self.cols] = self.vals
        return out


def _segment_sum(values: np.ndarray, ptr: np.ndarray, n: int) -> np.ndarray:
    """Row sums of ``values`` over the segments ptr[i]:ptr[i + 1] (empty ones 0)."""
    out = np.zeros((n, values.shape[1]), dtype=values.dtype)
    nonempty = ptr[:-1] < ptr[1:]
    if nonempty.any():
        out[nonempty] = np.add.reduceat(values, ptr[:-1][nonempty], axis=0)
    return out


def _vocabulary(x: _Terms, max_features: int) -> np.ndarray:
    """The ``max_features`` terms most frequent in the training split (by total count, ties by
    term id), sorted."""
    terms, total = np.unique(x.terms, return_counts=True)
    if len(terms) > max_features:
        order = np.lexsort((terms, -total))[:max_features]
        terms = terms[np.sort(order)]
    return terms


def tfidf_linear(
    docs_train,
    y_train,
    docs_test,
    *,
    max_features: int = 20000,
    bigrams: bool = True,
    c: float = 10.0,
    seed: int = 0,
    backend: str = "auto",
) -> np.ndarray:
    """TF-IDF (sublinear tf, l2 norm, unigrams + bigrams) and a multinomial logistic regression.

    The vocabulary and the IDF weights are fitted on ``docs_train`` only: the ``max_features``
    terms most frequent in the training documents (by total count; ties: unigrams before
    bigrams, then by the tokens' string order), idf = ln((1 + n) / (1 + df)) + 1,
    tf = 1 + ln(count), each row l2-normalized (scikit-learn's ``TfidfVectorizer`` with
    ``sublinear_tf=True``). Tokens become integer ids first and the matrices are sparse, so
    memory stays a small multiple of the tokens (a 20M-token split: well under 2 GiB).

    Parameters
    ----------
    docs_train, docs_test : sequence of token sequences, or an Arrow list array
        Each document is already tokenized: a list of str, an int array of token ids (read as
        their decimal strings), or the rows of an Arrow ``list<string>`` / ``list<int>`` column.
    y_train : array_like of shape (n_train,)
        Training labels.
    max_features : int
        Vocabulary cap (unigrams and bigrams together).
    bigrams : bool
        Add adjacent token pairs as terms.
    c : float
        Inverse L2 regularization strength (scikit-learn's ``C``).
    seed : int
        Passed to scikit-learn's ``random_state``; the numpy backend starts from zeros and is
        deterministic regardless.
    backend : {"auto", "sklearn", "numpy"}
        The solver: ``auto`` uses scikit-learn's ``LogisticRegression(lbfgs)`` when it is
        importable, else the numpy fallback (full-batch Adam on the softmax loss). Both take
        the same TF-IDF matrix.

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
    tr_terms, te_terms = _term_splits(docs_train, docs_test, bigrams)
    vocab = _vocabulary(tr_terms, max_features)
    xtr = _Tfidf(tr_terms, vocab)
    del tr_terms
    xte = _Tfidf(te_terms, vocab, idf=xtr.idf)
    del te_terms
    if backend != "numpy":
        try:
            import sklearn  # noqa: F401
        except ImportError:
            if backend == "sklearn":
                raise
        else:
            return classes[_sklearn_fit_predict(xtr, yi, xte, c, seed)]
    return classes[_numpy_fit_predict(xtr, yi, xte, c)]


def _sklearn_fit_predict(xtr: _Tfidf, yi, xte: _Tfidf, c, seed):
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    def csr(x: _Tfidf):
        return csr_matrix((x.vals.astype(np.float64), x.cols, x.indptr), shape=(x.n, x.f))

    clf = LogisticRegression(C=c, max_iter=2000, random_state=seed)
    clf.fit(csr(xtr), yi)
    return clf.predict(csr(xte))


def _numpy_fit_predict(xtr: _Tfidf, yi, xte: _Tfidf, c, *, steps: int = 300, lr: float = 0.05):
    n = xtr.n
    k = int(yi.max()) + 1
    onehot = np.eye(k, dtype=np.float32)[yi]
    w = np.zeros((xtr.f, k), dtype=np.float32)
    b = np.zeros(k, dtype=np.float32)
    mw, vw, mb, vb = np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    l2 = 1.0 / (c * n)  # scikit-learn's objective C * sum(loss) + |w|^2 / 2, divided by C * n
    for t in range(1, steps + 1):  # full-batch Adam on the mean softmax cross-entropy
        z = xtr.dot(w) + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) / n
        gw = xtr.t_dot(g) + l2 * w
        gb = g.sum(axis=0)
        mw = beta1 * mw + (1 - beta1) * gw
        vw = beta2 * vw + (1 - beta2) * gw * gw
        mb = beta1 * mb + (1 - beta1) * gb
        vb = beta2 * vb + (1 - beta2) * gb * gb
        corr1, corr2 = 1 - beta1**t, 1 - beta2**t
        w -= lr * (mw / corr1) / (np.sqrt(vw / corr2) + eps)
        b -= lr * (mb / corr1) / (np.sqrt(vb / corr2) + eps)
    return np.argmax(xte.dot(w) + b, axis=1)
