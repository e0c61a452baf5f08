"""The public kernels (seqprep.compute, re-exported as sp.*) on Arrow arrays and lists of numpy arrays."""

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import seqprep as sp


def test_import_seqprep_is_cheap_and_lists_the_api():
    import subprocess
    import sys

    code = "import sys, seqprep; print('seqprep.compute' in sys.modules, 'numpy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split() == ["False", "False"]
    assert {"truncate", "pad", "paa", "sample", "windows", "SeqprepError"} <= set(sp.__all__)


def test_truncate_keeps_the_kind():
    a = pa.array([[1, 2, 3, 4], [5], None], pa.list_(pa.int32()))
    assert sp.truncate(a, 2).to_pylist() == [[3, 4], [5], []]
    assert sp.truncate(a, 3, keep="both", head=1).to_pylist() == [[1, 3, 4], [5], []]
    assert sp.truncate(pa.chunked_array([a[:1], a[1:]]), 2, keep="start").to_pylist() == [[1, 2], [5], []]
    out = sp.truncate([np.arange(5), np.arange(2)], 3)
    assert [o.tolist() for o in out] == [[2, 3, 4], [0, 1]]
    strings = pa.array([["a", "b", "c"], ["d"]])
    assert sp.truncate(strings, 2).to_pylist() == [["b", "c"], ["d"]]


def test_pad_like_keras():
    X, lengths = sp.pad([np.arange(5), np.arange(2)], 3)
    assert X.tolist() == [[2, 3, 4], [0, 0, 1]] and lengths.tolist() == [3, 2]
    X, lengths = sp.pad([np.arange(5), np.arange(2)], 3, side="end", keep="start", value=-1)
    assert X.tolist() == [[0, 1, 2], [0, 1, -1]]
    X, lengths = sp.pad([np.arange(5), np.arange(2)])  # maxlen=None: the longest
    assert X.shape == (2, 5) and lengths.tolist() == [5, 2]
    X, _ = sp.pad([np.ones((2, 3), np.float32)], 4, side="end")
    assert X.shape == (1, 4, 3) and X[0, 2:].tolist() == [[0, 0, 0]] * 2


def test_paa_sample_windows():
    assert sp.paa([np.arange(10, dtype=np.float32)], 5)[0].tolist() == [0.5, 2.5, 4.5, 6.5, 8.5]
    a = pa.array([[1, 2, 3, 4], [5]], pa.list_(pa.int32()))
    steps = sp.sample(a, 2, seed=1)
    assert steps.to_pylist() == sp.sample(a, 2, seed=1).to_pylist()
    assert all(len(r) <= 2 for r in steps.to_pylist()) and steps.to_pylist()[1] == [5]
    assert sp.sample(a, 2, seed=1, ids=[7, 8]).to_pylist()[0] == sp.sample(a[:1], 2, seed=1, ids=[7]).to_pylist()[0]
    crops = sp.sample(a, 2, seed=1, mode="crop", copies=2).to_pylist()
    assert len(crops) == 3 and all(r in ([1, 2], [2, 3], [3, 4]) for r in crops[:2]) and crops[2] == [5]
    w, parent, part = sp.windows(a, 2, return_parent=True)
    assert w.to_pylist() == [[1, 2], [3, 4], [5]] and parent.tolist() == [0, 0, 1] and part.tolist() == [0, 1, 0]
    assert sp.windows(a, 3, stride=1, last="drop").to_pylist() == [[1, 2, 3], [2, 3, 4]]


@pytest.mark.parametrize("call, error, message", [
    (lambda: sp.truncate([np.arange(3)], 0), ValueError, "length=0 must be >= 1"),
    (lambda: sp.truncate([np.arange(3)], 2.5), TypeError, "length=2.5 must be an integer"),
    (lambda: sp.truncate([np.arange(3)], 2, keep="middle"), ValueError, "keep='middle' must be one of"),
    (lambda: sp.truncate([np.arange(3)], 2, head=1), ValueError, "head=1 applies only with keep='both'"),
    (lambda: sp.truncate([np.arange(3)], 2, keep="both", head=2), ValueError, "head=2 must be >= 0 and < length=2"),
    (lambda: sp.pad([np.arange(3)], 2, side="left"), ValueError, "side='left' must be one of"),
    (lambda: sp.paa([np.arange(3)], 2), ValueError, "paa works on float readings"),
    (lambda: sp.paa([np.arange(3.0)], 2, agg="median"), ValueError, "agg='median' must be one of"),
    (lambda: sp.sample([np.arange(3)], 2, seed=-1), ValueError, "seed=-1 must be an integer >= 0"),
    (lambda: sp.sample([np.arange(3)], 2, seed=2**64), ValueError, r"seed=18446744073709551616 must be an integer >= 0 and < 2\*\*63"),
    (lambda: sp.truncate([np.arange(5)], 3, keep="both", head=1.5), TypeError, "head=1.5 must be an integer"),
    (lambda: sp.sample([np.arange(3), np.arange(2)], 2, seed=1, ids=[2**70, 1]), ValueError, "ids: one int64 integer"),
    (lambda: sp.pad(pa.array([["a"], ["d"]]), 3, value=1.5), ValueError, "string tokens pad with a string"),
    (lambda: sp.sample([np.arange(3)], 2, seed=1, ids=[1, 2]), ValueError, "2 ids for 1 sequences"),
    (lambda: sp.windows([np.arange(3)], 2, stride=0), ValueError, "stride=0 must be >= 1"),
    (lambda: sp.truncate("abc", 2), TypeError, "a pyarrow list array or a list of numpy arrays"),
    (lambda: sp.truncate([np.ones((2, 2)), np.ones(2)], 1), ValueError, "every sequence must be (T,)"),
])
def test_options_are_checked_in_python_terms(call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def keras_pad(seqs, maxlen, padding, truncating, value):
    """keras.utils.pad_sequences, written out."""
    out = np.full((len(seqs), maxlen), value, dtype=np.int64)
    for i, s in enumerate(seqs):
        s = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        if len(s):
            if padding == "post":
                out[i, :len(s)] = s
            else:
                out[i, -len(s):] = s
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 99), max_size=9), max_size=6), st.integers(1, 8),
       st.sampled_from(["start", "end"]), st.sampled_from(["end", "start"]))
def test_pad_is_keras_pad_sequences(seqs, maxlen, side, keep):
    X, lengths = sp.pad([np.array(s, dtype=np.int64) for s in seqs], maxlen, side=side, keep=keep, value=-7)
    expected = keras_pad(seqs, maxlen, "pre" if side == "start" else "post", "pre" if keep == "end" else "post", -7)
    assert X.reshape(len(seqs), maxlen).tolist() == expected.tolist()
    assert lengths.tolist() == [min(len(s), maxlen) for s in seqs]


def test_pad_values_and_other_edges_are_checked():
    with pytest.raises(ValueError, match="does not fit the sequences' int64 values"):
        sp.pad([np.arange(5)], 3, value=1.5)
    with pytest.raises(ValueError, match="is not a int64 value like the sequences'"):
        sp.pad([np.arange(5)], 3, value=10**30)
    assert sp.pad([np.arange(5.0)], 6, value=1.5)[0].tolist() == [[1.5, 0, 1, 2, 3, 4]]
    with pytest.raises(TypeError, match="path: a dataset directory"):
        sp.open(None)


def test_string_tokens_pad_with_null_by_default():
    x, lengths = sp.pad(pa.array([["a", "b", "c"], ["d"]]), 3)
    assert x.tolist() == [["a", "b", "c"], [None, None, "d"]] and lengths.tolist() == [3, 1]
