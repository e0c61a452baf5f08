"""The fitted transformers: exact values, chunks, the stats file seqprep fit writes, refusals."""

import doctest
import json
import re

import numpy as np
import pyarrow as pa
import pytest

import seqprep as sp
import seqprep.transformers
from seqprep.errors import InputError
from seqprep.fit import fit
from seqprep.kernels.encode import hash_ids, stable_hash
from seqprep.steps import encode

from .conftest import make_dataset, manifest, read_table

NAN = float("nan")


def test_docstring_examples_run():
    result = doctest.testmod(seqprep.transformers, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 10 and result.failed == 0


# ---------------------------------------------------------------------------------------------
# Vocabulary


def test_vocabulary_exact_values():
    vocab = sp.Vocabulary().fit([["b", "a", "b", "c"], ["b", "a"], ["d"], []], y=["pos", "neg", "pos", "neg"])
    assert vocab.vocabulary_ == {"b": 2, "a": 3, "c": 4, "d": 5}  # c and d tie at 1: by token
    assert vocab.counts_ == {"b": 3, "a": 2, "c": 1, "d": 1}
    assert (vocab.distinct_tokens_, vocab.vocab_size_, vocab.classes_) == (4, 6, ["neg", "pos"])
    assert (vocab.n_rows_, vocab.n_steps_) == (4, 7)
    out = vocab.transform([["a", "zzz"], [], ["d"]])
    assert [o.tolist() for o in out] == [[3, 1], [], [5]] and out[0].dtype == np.int32


def test_vocabulary_caps_lowercase_and_integer_ids():
    assert sp.Vocabulary(max_size=2).fit([[1, 1, 1, 2, 2, 3]]).vocabulary_ == {1: 2, 2: 3}
    capped = sp.Vocabulary(min_count=2).fit([[1, 1, 1, 2, 2, 3]])
    assert capped.vocabulary_ == {1: 2, 2: 3} and capped.distinct_tokens_ == 3
    assert [o.tolist() for o in capped.transform([np.array([3, 2, 1], np.int32)])] == [[1, 3, 2]]
    low = sp.Vocabulary(lowercase=True).fit([["A", "a", "B"]])
    assert low.vocabulary_ == {"a": 2, "b": 3} and low.transform([["B"]])[0].tolist() == [3]


def test_arrow_in_arrow_out():
    seqs = pa.chunked_array([pa.array([["x", "y"], None], pa.list_(pa.string())), pa.array([["y"]])])
    vocab = sp.Vocabulary().fit(seqs)
    out = vocab.transform(seqs)
    assert isinstance(out, pa.Array) and out.type == pa.list_(pa.int32())
    assert out.to_pylist() == [[3, 2], [], [2]]  # y (2) before x (1); a null row is empty


def test_kmer_vocabulary_and_hasher_and_onehot():
    kv = sp.KmerVocabulary(2).fit([list("ACGAC"), list("ACG")])
    assert kv.vocabulary_ == {"AC": 2, "CG": 3, "GA": 4} and kv.counts_ == {"AC": 3, "CG": 2, "GA": 1}
    assert kv.transform([list("ACGT"), list("A")])[0].tolist() == [2, 3, 1]
    assert sp.KmerVocabulary(2, stride=2).fit([list("ACGTA")]).vocabulary_ == {"AC": 2, "GT": 3}
    hasher = sp.Hasher(10)
    assert hasher.fit([["whatever"]]) is hasher and hasher.partial_fit(None) is hasher
    assert hasher.transform([["cat", "dog"]])[0].tolist() == [stable_hash("cat", 10), stable_hash("dog", 10)]
    assert sp.Hasher(10, kmer=2).transform([list("ACG")])[0].tolist() == hash_ids(pa.array(["AC", "CG"]), 10).tolist()
    assert sp.Hasher(97).transform([np.array([4, 5])])[0].tolist() == hash_ids(pa.array(["4", "5"]), 97).tolist()
    out = sp.OneHot("acg", lowercase=True).fit_transform([list("GAT"), []])
    assert out[0].tolist() == [[0, 0, 1], [1, 0, 0], [0, 0, 0]] and out[1].shape == (0, 3)
    assert out[0].dtype == np.float32


# ---------------------------------------------------------------------------------------------
# Standardizer


def test_standardizer_exact_values_per_channel_nan_skipped():
    seqs = [np.array([[1.0, 10.0], [3.0, NAN]], np.float32), np.array([[5.0, 30.0]], np.float32), np.zeros((0, 2))]
    z = sp.Standardizer(nan_value=-9).fit(seqs, y=[0, 1, 1])
    sd = np.std([1, 3, 5])
    np.testing.assert_allclose(z.mean_, [3.0, 20.0])
    np.testing.assert_allclose(z.std_, [sd, 10.0])
    assert z.count_.tolist() == [3, 2] and z.min_.tolist() == [1, 10] and z.max_.tolist() == [5, 30]
    assert z.classes_ == [0, 1] and z.n_infinite_ == 0 and (z.n_rows_, z.n_steps_) == (3, 3)
    out = z.transform(seqs)
    np.testing.assert_allclose(out[0], [[-2 / sd, -1.0], [0.0, -9.0]], rtol=1e-6)
    np.testing.assert_allclose(out[1], [[2 / sd, 1.0]], rtol=1e-6)
    assert out[0].dtype == np.float32 and out[2].shape == (0, 2)


def test_standardizer_infinite_readings():
    seqs = [np.array([1.0, np.inf, 3.0])]
    with pytest.raises(InputError, match=r"seqs: row 0, step 1 holds inf, not a finite reading; .* inf='nan'"):
        sp.Standardizer().fit(seqs)
    z = sp.Standardizer(inf="nan", nan_value=7).fit(seqs)
    assert z.n_infinite_ == 1 and z.mean_.tolist() == [2.0]
    assert z.transform(seqs)[0].tolist() == [-1.0, 7.0, 1.0]
    assert sp.Standardizer.from_stats(z.to_stats()).inf == "nan"  # parameters come from the file
    with pytest.raises(InputError, match="row 0, step 1 holds inf"):
        sp.Standardizer.from_stats(z.to_stats(), inf="error").transform(seqs)  # unless given


# ---------------------------------------------------------------------------------------------
# Chunks


def test_partial_fit_over_chunks_equals_fit_on_the_whole():
    rng = np.random.default_rng(0)
    toks = [[str(t) for t in rng.integers(0, 30, rng.integers(0, 20))] for _ in range(57)]
    labels = [["a", "b", "c"][i % 3] for i in range(57)]
    whole = sp.Vocabulary(min_count=2).fit(toks, y=labels)
    chunked = sp.Vocabulary(min_count=2)
    for i in range(0, 57, 10):
        chunked.partial_fit(toks[i:i + 10], y=labels[i:i + 10])
    assert chunked.to_stats() == whole.to_stats()
    assert chunked.fit(toks[:5]).n_rows_ == 5  # fit starts over

    nums = [rng.normal(0, 3, (rng.integers(0, 9), 2)) for _ in range(40)]
    whole = sp.Standardizer().fit(nums)
    chunked = sp.Standardizer()
    for i in range(0, 40, 7):
        chunked.partial_fit(nums[i:i + 7])
    a, b = whole.to_stats(), chunked.to_stats()
    for ca, cb in zip(a.pop("channel_stats"), b.pop("channel_stats")):
        assert (ca["count"], ca["min"], ca["max"]) == (cb["count"], cb["min"], cb["max"])
        assert ca["mean"] == pytest.approx(cb["mean"], rel=1e-12) and ca["std"] == pytest.approx(cb["std"], rel=1e-12)
    assert a == b
    flat = np.concatenate(nums)
    np.testing.assert_allclose(chunked.mean_, flat.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(chunked.std_, flat.std(axis=0), rtol=1e-12)


def test_chunks_must_agree():
    vocab = sp.Vocabulary().partial_fit([["a"]], y=["x"])
    with pytest.raises(ValueError, match="y: int64 labels, but earlier chunks had string labels"):
        vocab.partial_fit([["b"]], y=[1])
    with pytest.raises(ValueError, match="seqs holds int64 tokens, but earlier chunks held string"):
        vocab.partial_fit([[1]])
    z = sp.Standardizer().partial_fit([np.zeros((2, 2))])
    with pytest.raises(ValueError, match=r"seqs has 1 channel\(s\), but earlier chunks had 2"):
        z.partial_fit([np.zeros(3)])
    assert sp.Standardizer().partial_fit([[]]).partial_fit([np.ones((1, 2))]).count_.tolist() == [1, 1]
    with pytest.raises(ValueError, match="y: 1 labels for 2 sequences"):
        sp.Vocabulary().fit([["a"], ["b"]], y=["x"])


# ---------------------------------------------------------------------------------------------
# The stats file


def _as_fit_writes(stats: dict) -> str:
    return json.dumps(stats, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


@pytest.mark.parametrize("rows, seq_type, make, fit_kwargs", [
    ([["b", "a", "b", "é"], ["b"], []], None, lambda: sp.Vocabulary(max_size=2), {"max_size": 2}),
    ([[4, 5, 5], [9]], pa.int32(), lambda: sp.Vocabulary(min_count=2), {"min_count": 2}),
    ([list("ACGAC"), list("acg")], None, lambda: sp.KmerVocabulary(2, lowercase=True), {"kmer": 2, "lowercase": True}),
    ([[[1.0, 10.0], [3.0, NAN]], [[5.0, 30.0]], []], pa.list_(pa.float32(), 2), sp.Standardizer, {}),
    ([[1.0, 2.5], [NAN], [4.0]], pa.float32(), lambda: sp.Standardizer(inf="nan"), {"inf": "nan"}),
])
def test_save_writes_what_seqprep_fit_writes(tmp_path, rows, seq_type, make, fit_kwargs):
    labels = [f"c{i % 2}" for i in range(len(rows))]
    src = make_dataset(tmp_path / "d", rows, labels=labels, seq_type=seq_type)
    fitted = fit(str(src), str(tmp_path / "fit.json"), **fit_kwargs)
    seqs = [np.asarray(r, dtype=seq_type.to_pandas_dtype() if seq_type is not None and not
                       pa.types.is_fixed_size_list(seq_type) else np.float32 if seq_type is not None else None)
            if r else [] for r in rows]
    ours = make().fit(seqs, y=labels)
    ours.save(tmp_path / "ours.json")
    # The same bytes, but for where it was fitted (a dataset, or data in memory).
    assert (tmp_path / "ours.json").read_text() == _as_fit_writes({**fitted, "fitted_on": None})
    # A file seqprep fit wrote loads, and saves back byte for byte.
    loaded = type(ours).load(tmp_path / "fit.json")
    loaded.save(tmp_path / "again.json")
    assert (tmp_path / "again.json").read_bytes() == (tmp_path / "fit.json").read_bytes()
    assert loaded.get_params() == ours.get_params() and loaded.classes_ == ["c0", "c1"]


def test_loaded_transform_equals_seqprep_encode(tmp_path):
    rows = [["b", "a", "b", "c"], ["b", "a"], ["d", "e"]]
    src = make_dataset(tmp_path / "d", rows, labels=["pos", "neg", "pos"])
    fit(str(src), str(tmp_path / "s.json"))
    encode(str(src), str(tmp_path / "ids"), stats=str(tmp_path / "s.json"), max_size=3)
    vocab = sp.Vocabulary.from_stats(json.loads((tmp_path / "s.json").read_text()), max_size=3)
    assert vocab.max_size == 3 and list(vocab.vocabulary_) == manifest(tmp_path / "ids")["encoding"]["vocabulary"]
    assert [r.tolist() for r in vocab.transform(rows)] == read_table(tmp_path / "ids").column("seq").to_pylist()

    nums = make_dataset(tmp_path / "n", [[1.0, 3.0], [NAN, 8.0]], seq_type=pa.float32())
    fit(str(nums), str(tmp_path / "n.json"))
    encode(str(nums), str(tmp_path / "z"), normalize_with=str(tmp_path / "n.json"), nan_value=-1)
    z = sp.Standardizer.load(tmp_path / "n.json").set_params(nan_value=-1)
    got = z.transform(read_table(nums).column("seq"))
    assert got.to_pylist() == read_table(tmp_path / "z").column("seq").to_pylist()


def test_partial_fit_on_top_of_a_loaded_file(tmp_path):
    first, second = [["a", "b", "b"]], [["b", "c"]]
    sp.Vocabulary().fit(first, y=["x"]).save(tmp_path / "s.json")
    resumed = sp.Vocabulary.load(tmp_path / "s.json").partial_fit(second, y=["y"])
    assert resumed.to_stats() == sp.Vocabulary().fit(first + second, y=["x", "y"]).to_stats()
    sp.Vocabulary(max_size=1).fit(first).save(tmp_path / "capped.json")
    with pytest.raises(ValueError, match="keeps 1 of 2 distinct tokens .* fit again on all the data"):
        sp.Vocabulary.load(tmp_path / "capped.json").partial_fit(second)
    with pytest.raises(ValueError, match="max_size=0 must be >= 1"):
        sp.Vocabulary.from_stats(resumed.to_stats(), max_size=0)


def test_load_refuses_the_wrong_file(tmp_path):
    sp.Standardizer().fit([np.ones(2)]).save(tmp_path / "n.json")
    sp.KmerVocabulary(3).fit([list("ACGT")]).save(tmp_path / "k.json")
    sp.Vocabulary().fit([["a"]]).save(tmp_path / "t.json")
    with pytest.raises(InputError, match="n.json: fitted on numeric readings; load it with Standardizer"):
        sp.Vocabulary.load(tmp_path / "n.json")
    with pytest.raises(InputError, match="k.json: counted k-mers of 3; load it with KmerVocabulary"):
        sp.Vocabulary.load(tmp_path / "k.json")
    with pytest.raises(InputError, match="t.json: counted tokens, not k-mers; load it with Vocabulary"):
        sp.KmerVocabulary.load(tmp_path / "t.json")
    with pytest.raises(InputError, match="t.json: fitted on tokens; load it with Vocabulary"):
        sp.Standardizer.load(tmp_path / "t.json")
    with pytest.raises(InputError, match="no such stats file"):
        sp.Standardizer.load(tmp_path / "missing.json")
    with pytest.raises(InputError, match="not a seqprep stats file"):
        sp.Vocabulary.from_stats({"a": 1})
    damaged = {**json.loads((tmp_path / "t.json").read_text()), "counts": [-1]}
    with pytest.raises(InputError, match="stats: count 0 \\('-1'\\) is not a non-negative integer; the stats file is damaged"):
        sp.Vocabulary.from_stats(damaged)


def test_crafted_stats_are_refused_field_by_field(tmp_path):
    good = sp.Vocabulary().fit([["a", "b", "a"]]).to_stats()
    numbers = sp.Standardizer().fit([np.array([1.0, 2.0])]).to_stats()
    for stats, message in [
        ({k: v for k, v in good.items() if k != "rows"}, "rows None is not a non-negative integer"),
        ({**good, "rows": -5}, "rows -5 is not a non-negative integer"),
        ({k: v for k, v in good.items() if k != "params"}, "params is missing"),
        ({k: v for k, v in good.items() if k != "distinct_tokens"}, "distinct_tokens None is not an integer"),
        ({**good, "tokens": ["a", "a"]}, "tokens lists a token twice"),
        ({**good, "inf_ignored": "x"}, "inf_ignored 'x' is not a non-negative integer"),
        ({**good, "params": {**good["params"], "kmer_stride": "x"}}, "params.kmer_stride 'x' is not an integer"),
        ({**numbers, "channel_stats": [{**numbers["channel_stats"][0], "min": "x"}]}, "min 'x' and max"),
    ]:
        with pytest.raises(InputError, match=re.escape(message)):
            (sp.Standardizer if stats.get("kind") == "numbers" else sp.Vocabulary).from_stats(stats)
    mine = sp.Vocabulary().fit([["a", "b", "a"]]).to_stats()
    v = sp.Vocabulary.from_stats(mine)
    mine["tokens"].append("z")
    assert v.vocabulary_ == {"a": 2, "b": 3}  # from_stats copied the caller's dict


# ---------------------------------------------------------------------------------------------
# Refusals


@pytest.mark.parametrize("make", [sp.Vocabulary, lambda: sp.KmerVocabulary(2), sp.Standardizer])
def test_unfitted_transform_is_refused(make, tmp_path):
    t = make()
    name = type(t).__name__
    with pytest.raises(sp.NotFittedError, match=f"This {name} is not fitted yet: call fit\\(seqs\\) .* "
                                                f"{name}.load\\(path\\)"):
        t.transform([["a"]])
    with pytest.raises(ValueError):
        t.save(tmp_path / "x.json")
    with pytest.raises(AttributeError):
        t.classes_
    assert not hasattr(t, "n_rows_")


@pytest.mark.parametrize("call, error, message", [
    (lambda: sp.Vocabulary(max_size=0).fit([["a"]]), ValueError, "max_size=0 must be >= 1"),
    (lambda: sp.Vocabulary(min_count=0).fit([["a"]]), ValueError, "min_count=0 must be >= 1"),
    (lambda: sp.Vocabulary(max_size=2.5).fit([["a"]]), TypeError, "max_size=2.5 must be an integer or None"),
    (lambda: sp.Vocabulary(lowercase="yes").fit([["a"]]), TypeError, "lowercase='yes' must be True or False"),
    (lambda: sp.KmerVocabulary(65).fit([["a"]]), ValueError, "k=65 must be <= 64"),
    (lambda: sp.KmerVocabulary(2, stride=0).fit([["a"]]), ValueError, "stride=0 must be >= 1"),
    (lambda: sp.Hasher(0).transform([["a"]]), ValueError, "n_buckets=0 must be >= 1"),
    (lambda: sp.Hasher(2**31).fit(), ValueError, "n_buckets=2147483648 must be <= 2147483646"),
    (lambda: sp.OneHot("AAC").fit(), ValueError, "alphabet='AAC' must be a string of distinct symbols"),
    (lambda: sp.Standardizer(inf="skip").fit([np.ones(1)]), ValueError, "inf='skip' must be one of 'error', 'nan'"),
    (lambda: sp.RowStandardizer(nan_value="x").transform([np.ones(1)]), TypeError, "nan_value='x' must be a number"),
    (lambda: sp.Vocabulary().set_params(size=3), ValueError, "size=3: Vocabulary has no parameter 'size'"),
    (lambda: sp.Vocabulary().fit([np.ones(2)]), ValueError, "seqs: Vocabulary counts tokens .* but seqs holds readings; use Standardizer"),
    (lambda: sp.Standardizer().fit([["a"]]), ValueError, "Standardizer works on float readings, but seqs holds "
                                                          "string tokens; use Vocabulary"),
    (lambda: sp.Standardizer().fit([[1, 2]]), ValueError, "int64 values; use Vocabulary"),
    (lambda: sp.KmerVocabulary(2).fit([[1, 2]]), ValueError, "KmerVocabulary needs one-character string tokens"),
    (lambda: sp.KmerVocabulary(2).fit([["AC", "G"]]), ValueError, "seqs: .*one-character tokens"),
    (lambda: sp.OneHot("AC").transform([[1, 2]]), ValueError, "OneHot needs string tokens"),
    (lambda: sp.Vocabulary().fit("abc"), TypeError, "seqs: a pyarrow list array or a list of sequences, not str"),
    (lambda: sp.Vocabulary().fit([["a"]], y=[1.5]), ValueError, "y: labels must be integers or strings, not double"),
    (lambda: sp.Vocabulary().fit([["a"], ["b"]], y=[2**70, 1]), ValueError, "y: labels must be int64 integers or strings"),
    (lambda: sp.Standardizer(nan_value=float("inf")).fit([np.array([1.0])]), ValueError,
     "nan_value=inf must be a finite number a float32 holds"),
    (lambda: sp.Standardizer().fit([np.ones(2)]).transform([np.ones((2, 3))]), ValueError,
     r"seqs has 3 channel\(s\), but this Standardizer was fitted on 1"),
    (lambda: sp.Vocabulary().fit([["a"]]).transform([[1]]), ValueError,
     "seqs holds int64 tokens, but this Vocabulary was fitted on string tokens"),
])
def test_bad_parameters_and_inputs_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_params_repr_and_names_at_seqprep():
    assert repr(sp.KmerVocabulary(3, max_size=10)) == "KmerVocabulary(k=3, max_size=10)"
    assert sp.Standardizer().get_params() == {"inf": "error", "nan_value": 0.0}
    assert {"Vocabulary", "KmerVocabulary", "Hasher", "OneHot", "Standardizer", "RowStandardizer",
            "NotFittedError"} <= set(sp.__all__)
    assert issubclass(sp.NotFittedError, ValueError) and issubclass(sp.NotFittedError, AttributeError)


# ---------------------------------------------------------------------------------------------
# Per-row z-scores


def test_row_standardizer_exact_values():
    seqs = [np.array([1.0, 2.0, 3.0]), np.array([5.0, 5.0]), np.array([]), np.array([4.0]),
            np.array([NAN, 2.0, 6.0]), np.array([NAN, NAN])]
    out = sp.RowStandardizer(nan_value=-9).fit(seqs).transform(seqs)
    s = np.sqrt(2 / 3)
    np.testing.assert_allclose(out[0], [-1 / s, 0.0, 1 / s], rtol=1e-6)
    assert out[1].tolist() == [0.0, 0.0]  # constant: zeros
    assert out[2].shape == (0,) and out[2].dtype == np.float32
    assert out[3].tolist() == [0.0]  # one step: constant
    assert out[4].tolist() == [-9.0, -1.0, 1.0]  # NaN skipped in the mean and std, then -9
    assert out[5].tolist() == [-9.0, -9.0]


def test_row_standardizer_channels_and_infinities():
    seq = np.array([[1.0, 7.0], [3.0, 7.0], [NAN, np.inf]])
    with pytest.raises(InputError, match="seqs: row 0, step 2, channel 1 holds inf"):
        sp.RowStandardizer().transform([seq])
    out = sp.RowStandardizer(inf="nan").transform(pa.array([seq.tolist()], pa.list_(pa.list_(pa.float64(), 2))))
    assert out.to_pylist() == [[[-1.0, 0.0], [1.0, 0.0], [0.0, 0.0]]]


def test_encode_normalize_per_row(cli, tmp_path):
    rows = [[1.0, 2.0, 3.0], [5.0, 5.0], [], [NAN, 2.0, 6.0], [4.0]]
    src = make_dataset(tmp_path / "d", rows, labels=[0, 1, 0, 1, 0], seq_type=pa.float32(), shard_rows=2)
    result = cli("encode", src, tmp_path / "z", "--normalize", "per-row", "--nan-value", "-9", "--workers", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[1:] == ["encode: replaced 1 NaN values with -9.0",
                                              "encode: 2 constant rows became zeros (--normalize per-row)"]
    got = read_table(tmp_path / "z").column("seq").to_pylist()
    assert got == [[pytest.approx(v, rel=1e-6) for v in r.tolist()] for r in sp.RowStandardizer(nan_value=-9).transform(
        [np.array(r, np.float32) for r in rows])]
    enc = manifest(tmp_path / "z")["encoding"]
    assert (enc["normalize"], enc["constant_rows"], enc["nan_replaced"], enc["classes"]) == ("per-row", 2, 1, None)
    result = cli("encode", src, tmp_path / "x", "--normalize", "per-row", "--length", "2", "--format", "npy")
    assert result.exit_code == 0, result.stderr
    assert np.load(tmp_path / "x" / "X.npy").tolist()[1:3] == [[0.0, 0.0], [0.0, 0.0]]
    toks = make_dataset(tmp_path / "t", [["a"]])
    result = cli("encode", toks, tmp_path / "y", "--normalize", "per-row")
    assert result.exit_code == 2 and "--normalize works on numeric readings, but seq holds string tokens" in result.stderr


def test_save_never_replaces_what_seqprep_did_not_write(tmp_path):
    Vocabulary = sp.Vocabulary
    v = Vocabulary().fit([["a", "b"]])
    mine = tmp_path / "notes.txt"
    mine.write_text("mine")
    with pytest.raises(OSError, match="replaces only a stats file, and this is a file seqprep did not write"):
        v.save(mine)
    with pytest.raises(OSError, match="is a directory"):
        v.save(tmp_path)
    with pytest.raises(ValueError, match="path=None must be a file path"):
        v.save(None)
    v.save(tmp_path / "v.json")
    v.save(tmp_path / "v.json")  # its own stats file: replaced
    with pytest.raises(OSError, match="already exists"):
        v.save(tmp_path / "v.json", overwrite=False)
    assert mine.read_text() == "mine" and Vocabulary.load(tmp_path / "v.json").vocabulary_ == v.vocabulary_


def test_a_null_token_hashes_to_the_padding_id():
    assert sp.Hasher(1000).transform([["a", None, "b"]])[0].tolist()[1] == 0
