"""seqprep.baselines: hand-computed cases, ties, edge cases and determinism."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from seqprep import baselines as bl

HAS_SKLEARN = importlib.util.find_spec("sklearn") is not None
BACKENDS = ["numpy"] + (["sklearn"] if HAS_SKLEARN else [])


# --------------------------------------------------------------------------- scores


def test_accuracy_and_macro_f1_hand_computed():
    y_true = [0, 0, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 0]
    assert bl.accuracy(y_true, y_pred) == pytest.approx(3 / 5)
    # class 0: tp 1, fp 1, fn 1 -> 2/4; class 1: tp 2, fp 1, fn 0 -> 4/5; class 2: 0
    assert bl.macro_f1(y_true, y_pred) == pytest.approx((0.5 + 0.8 + 0.0) / 3)


def test_macro_f1_string_labels_and_explicit_labels():
    y_true = np.array(["a", "b", "b"])
    y_pred = np.array(["a", "b", "a"])
    # a: tp 1 fp 1 fn 0 -> 2/3; b: tp 1 fp 0 fn 1 -> 2/3
    assert bl.macro_f1(y_true, y_pred) == pytest.approx(2 / 3)
    # an extra class that no row has counts as 0
    assert bl.macro_f1(y_true, y_pred, labels=["a", "b", "c"]) == pytest.approx(4 / 9)
    # predictions outside the listed labels only count as misses of the true class
    assert bl.macro_f1(["a", "a"], ["z", "a"], labels=["a"]) == pytest.approx(2 / 3)


def test_macro_f1_matches_sklearn_on_random_labels():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.integers(0, 5, 200), rng.integers(0, 6, 200)
    assert bl.macro_f1(y_true, y_pred) == pytest.approx(sk.f1_score(y_true, y_pred, average="macro"))


def test_scores_of_empty_and_perfect():
    assert np.isnan(bl.accuracy([], []))
    assert np.isnan(bl.macro_f1([], []))
    assert bl.macro_f1([1, 1], [1, 1]) == 1.0
    with pytest.raises(ValueError, match="rows"):
        bl.accuracy([1, 2], [1])


def test_score_row():
    row = bl.score("majority", [0, 1, 1], [1, 1, 1])
    assert row == {"name": "majority", "n": 3, "accuracy": pytest.approx(2 / 3), "macro_f1": pytest.approx(0.4)}


# --------------------------------------------------------------------------- majority


def test_majority_most_frequent_and_ties():
    assert bl.majority([2, 1, 2, 0], 3).tolist() == [2, 2, 2]
    assert bl.majority([3, 1, 3, 1], 2).tolist() == [1, 1]  # tie: smallest label
    assert bl.majority(["b", "a"], 1).tolist() == ["a"]
    assert bl.majority([7], 2).tolist() == [7, 7]  # one class
    out = bl.majority([1, 2, 2], 0)
    assert out.shape == (0,) and out.dtype == np.asarray([1]).dtype
    with pytest.raises(ValueError, match="at least one"):
        bl.majority([], 3)


# --------------------------------------------------------------------------- 1-NN


def test_paa_to_length_segments():
    x = [np.arange(6.0), np.arange(3.0)]
    out = bl.paa_to_length(x, 3)
    assert out.shape == (2, 3, 1)
    assert out[0, :, 0].tolist() == [0.5, 2.5, 4.5]
    assert out[1, :, 0].tolist() == [0.0, 1.0, 2.0]
    # 5 steps to 2: [0, 2) and [2, 5)
    assert bl.paa_to_length([np.arange(5.0)], 2)[0, :, 0].tolist() == [0.5, 3.0]
    # NaN ignored within a segment
    assert bl.paa_to_length([np.array([1.0, np.nan, 3.0, 5.0])], 2)[0, :, 0].tolist() == [1.0, 4.0]


def test_zscore_rows_constant_rows_are_zero():
    x = np.array([[[1.0], [1.0], [1.0]], [[1.0], [2.0], [3.0]]])
    z = bl.zscore_rows(x)
    assert z[0].tolist() == [[0.0], [0.0], [0.0]]
    np.testing.assert_allclose(z[1, :, 0], [-np.sqrt(1.5), 0.0, np.sqrt(1.5)])


def test_nearest_neighbour_hand_computed():
    x_train = np.array([[0.0, 1.0, 2.0, 3.0], [3.0, 2.0, 1.0, 0.0], [0.0, 5.0, 0.0, 5.0]])
    y_train = np.array(["up", "down", "zigzag"])
    # scale and offset do not matter after z-scoring
    x_test = np.array([[10.0, 20.0, 30.0, 40.0], [9.0, 7.0, 5.0, 3.0], [1.0, 2.0, 1.0, 2.0]])
    assert bl.nearest_neighbour(x_train, y_train, x_test).tolist() == ["up", "down", "zigzag"]


def test_nearest_neighbour_ties_take_the_first_training_row():
    x_train = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    assert bl.nearest_neighbour(x_train, [5, 4, 3], np.array([[2.0, 3.0]])).tolist() == [5]


def test_nearest_neighbour_constant_series_and_unequal_lengths():
    # a constant test series is all zeros after z-scoring: nearest to the constant train row
    x_train = [np.full(8, 3.0), np.array([0.0, 1.0] * 4), np.arange(12.0)]
    y_train = [0, 1, 2]
    x_test = [np.full(5, -2.0), np.array([0.0, 0.0, 1.0, 1.0] * 3), np.arange(30.0) ** 1.01]
    # common length is 5 (the shortest); PAA of the alternating series gives 0.5 everywhere
    # except the ends, so test 1 (two steps up, two down) is checked against a direct PAA
    pred = bl.nearest_neighbour(x_train, y_train, x_test)
    assert pred[0] == 0 and pred[2] == 2
    a = bl.zscore_rows(bl.paa_to_length(x_train, 5)).reshape(3, -1)
    b = bl.zscore_rows(bl.paa_to_length(x_test[1:2], 5)).reshape(1, -1)
    shaped = np.flatnonzero((a**2).sum(axis=1) > 0)  # a flat training row is no shaped row's neighbour
    assert pred[1] == y_train[shaped[int(np.argmin(((a[shaped] - b) ** 2).sum(axis=1)))]]


def test_nearest_neighbour_multichannel_blocks_and_empty():
    rng = np.random.default_rng(0)
    x_train = rng.normal(size=(40, 30, 3))
    y_train = rng.integers(0, 4, 40)
    x_test = x_train[::3] + rng.normal(scale=0.01, size=(14, 30, 3))
    full = bl.nearest_neighbour(x_train, y_train, x_test)
    assert full.tolist() == y_train[::3].tolist()
    assert bl.nearest_neighbour(x_train, y_train, x_test, block_rows=4).tolist() == full.tolist()
    lists = bl.nearest_neighbour(list(x_train), y_train, list(x_test))
    assert lists.tolist() == full.tolist()
    assert bl.nearest_neighbour(x_train, y_train, []).shape == (0,)
    with pytest.raises(ValueError, match="labels"):
        bl.nearest_neighbour(x_train, y_train[:3], x_test)


# --------------------------------------------------------------------------- TF-IDF + linear


def _toy_docs(n_per_class: int, seed: int):
    rng = np.random.default_rng(seed)
    common = [f"w{i}" for i in range(30)]
    docs, labels = [], []
    for label, marker in enumerate(["alpha", "beta", "gamma"]):
        for _ in range(n_per_class):
            toks = list(rng.choice(common, 40)) + [marker] * int(rng.integers(2, 5))
            rng.shuffle(toks)
            docs.append(toks)
            labels.append(label)
    return docs, np.array(labels)


@pytest.mark.parametrize("backend", BACKENDS)
def test_tfidf_linear_learns_marker_tokens(backend):
    docs, y = _toy_docs(15, seed=1)
    test_docs, y_test = _toy_docs(5, seed=2)
    pred = bl.tfidf_linear(docs, y, test_docs, backend=backend, max_features=500)
    assert bl.accuracy(y_test, pred) == 1.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_tfidf_linear_deterministic_and_int_tokens(backend):
    docs, y = _toy_docs(10, seed=4)
    ids = {t: i for i, t in enumerate(sorted({t for d in docs for t in d}))}
    int_docs = [np.array([ids[t] for t in d], dtype=np.int64) for d in docs]
    a = bl.tfidf_linear(int_docs, y, int_docs[:7], backend=backend, seed=3)
    b = bl.tfidf_linear(int_docs, y, int_docs[:7], backend=backend, seed=3)
    assert a.tolist() == b.tolist() == y[:7].tolist()


def test_tfidf_linear_edge_cases():
    docs = [["a", "b"], ["c"], ["a"]]
    assert bl.tfidf_linear(docs, [1, 1, 1], [["z"], []]).tolist() == [1, 1]  # one class
    assert bl.tfidf_linear(docs, [0, 1, 0], []).shape == (0,)
    # unknown tokens only and an empty document still get a prediction
    assert len(bl.tfidf_linear(docs, ["x", "y", "x"], [["zzz"], []], backend="numpy")) == 2
    with pytest.raises(ValueError, match="labels"):
        bl.tfidf_linear(docs, [0, 1], [["a"]])
    with pytest.raises(ValueError, match="backend"):
        bl.tfidf_linear(docs, [0, 1, 0], [["a"]], backend="torch")


def test_tfidf_numpy_vocabulary_cap():
    docs = [["a", "a", "a", "b"], ["c", "c", "d"]]
    # with max_features=2 and no bigrams the vocabulary is {a, c}: b and d are unknown
    pred = bl.tfidf_linear(docs, [0, 1], [["b"], ["a"], ["c"]], max_features=2, bigrams=False, backend="numpy")
    assert pred[1:].tolist() == [0, 1]


def _reference_tfidf(train, test, max_features, bigrams):
    """The documented TF-IDF, counted term by term in Python: rows of TRAIN and TEST."""
    from collections import Counter

    def terms(doc):
        toks = [str(t) for t in doc]
        return [(0, t) for t in toks] + ([(1, a, b) for a, b in zip(toks, toks[1:])] if bigrams else [])

    total = Counter(t for d in train for t in terms(d))
    vocab = sorted(sorted(total, key=lambda t: (-total[t], t))[:max_features])
    df = Counter(t for d in train for t in set(terms(d)))
    idf = np.array([np.log((1 + len(train)) / (1 + df[t])) + 1 for t in vocab])

    def rows(docs):
        out = np.zeros((len(docs), len(vocab)))
        for i, d in enumerate(docs):
            counts = Counter(terms(d))
            out[i] = [(1 + np.log(counts[t])) if counts[t] else 0.0 for t in vocab] * idf
            norm = np.sqrt((out[i] ** 2).sum())
            out[i] = out[i] / norm if norm else 0.0
        return out
    return rows(train), rows(test)


@pytest.mark.parametrize("max_features, bigrams", [(1000, True), (7, True), (5, False), (1, True)])
def test_tfidf_matrix_matches_a_term_by_term_reference(max_features, bigrams):
    """Sparse TF-IDF over integer term ids equals the documented formula counted in Python,
    vocabulary cap and its tie order (unigrams first, then by the tokens' string order) included;
    empty documents, a document of one token and unknown test tokens too."""
    rng = np.random.default_rng(5)
    words = ["a", "b", "ab", "b a", "é", "Z", "10", "9"]
    train = [list(rng.choice(words, rng.integers(0, 9))) for _ in range(12)] + [[], ["a"]]
    test = [list(rng.choice(words + ["new"], rng.integers(0, 9))) for _ in range(5)] + [[]]
    tr, te = bl._term_splits(train, test, bigrams)
    vocab = bl._vocabulary(tr, max_features)
    xtr = bl._Tfidf(tr, vocab)
    xte = bl._Tfidf(te, vocab, idf=xtr.idf)
    ref_tr, ref_te = _reference_tfidf(train, test, max_features, bigrams)
    np.testing.assert_allclose(xtr.dense(), ref_tr, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(xte.dense(), ref_te, rtol=1e-6, atol=1e-7)
    w = rng.standard_normal((len(vocab), 3)).astype(np.float32)
    np.testing.assert_allclose(xtr.dot(w), xtr.dense() @ w, rtol=1e-5, atol=1e-6)
    g = rng.standard_normal((xtr.n, 3)).astype(np.float32)
    np.testing.assert_allclose(xtr.t_dot(g), xtr.dense().T @ g, rtol=1e-5, atol=1e-6)


def test_tfidf_linear_reads_arrow_columns_as_it_reads_lists():
    """An Arrow list<string> (or list<int>) column, null documents and tokens included, gives
    the predictions of the same documents as Python lists (a null document is empty)."""
    import pyarrow as pa

    docs, y = _toy_docs(8, seed=6)
    test_docs, _ = _toy_docs(3, seed=7)
    test_docs = test_docs + [None, ["alpha", None, "beta"]]
    as_lists = bl.tfidf_linear(docs, y, [d if d is not None else [] for d in test_docs], backend="numpy")
    as_arrow = bl.tfidf_linear(pa.array(docs), y, pa.chunked_array([pa.array(test_docs)]), backend="numpy")
    assert as_lists.tolist() == as_arrow.tolist()
    ids = {t: i for i, t in enumerate(sorted({t for d in docs for t in d}))}
    int_docs = pa.array([[ids[t] for t in d] for d in docs], pa.list_(pa.int64()))
    listed = [np.array([ids[t] for t in d]) for d in docs]
    assert bl.tfidf_linear(int_docs, y, int_docs, backend="numpy").tolist() == \
        bl.tfidf_linear(listed, y, listed, backend="numpy").tolist()


def test_nearest_neighbour_ignores_flat_training_series_unless_all_are():
    """An empty or constant training series (all zeros once z-scored) is nearer than any shape
    correlated below 0.5 with the test row; it must not take the predictions."""
    t = np.linspace(0, 6, 40)
    x_train = [np.sin(t), np.sin(t + 0.3), np.cos(2 * t), np.cos(2 * t + 0.3), np.full(40, 7.0), np.zeros(1)]
    y_train = np.array([0, 0, 1, 1, 2, 2])
    rng = np.random.default_rng(0)
    x_test = [np.sin(t + 1.2) + rng.normal(0, 0.6, 40), np.cos(2 * t + 1.0) + rng.normal(0, 0.6, 40)]
    assert bl.nearest_neighbour(x_train, y_train, x_test, length=40).tolist() == [0, 1]
    assert bl.nearest_neighbour(x_train[:4], y_train[:4], x_test, length=40).tolist() == [0, 1]  # as without them
    flat = [np.full(40, 1.0), np.full(40, 2.0)]
    assert bl.nearest_neighbour(flat, [5, 6], x_test, length=40).tolist() == [5, 5]  # all flat: the first
