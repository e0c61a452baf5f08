import json
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from seqprep.errors import InputError, UsageError
from seqprep.fit import fit
from seqprep.kernels.encode import hash_ids, kmers, stable_hash
from seqprep.ragged import Ragged
from seqprep.steps import Padding, encode

from .conftest import make_dataset, manifest, read_table


@pytest.fixture
def train(tmp_path):
    rows = [["b", "a", "b", "c"], ["b", "a"], ["d"]]
    src = make_dataset(tmp_path / "train", rows, labels=["pos", "neg", "pos"])
    fit(str(src), str(tmp_path / "stats.json"))
    return src, tmp_path / "stats.json"


def test_ids_by_training_rank(train, tmp_path):
    src, stats = train  # ranks: b (3), a (2), c, d (1 each, by token)
    m = encode(str(src), str(tmp_path / "ids"), stats=str(stats))
    assert read_table(tmp_path / "ids").column("seq").to_pylist() == [[2, 3, 2, 4], [2, 3], [5]]
    enc = m["encoding"]
    assert enc["vocabulary"] == ["b", "a", "c", "d"] and enc["vocab_size"] == 6
    assert (enc["pad_id"], enc["unknown_id"], enc["classes"]) == (0, 1, ["neg", "pos"])


def test_caps_and_unknown_tokens(train, tmp_path):
    src, stats = train
    encode(str(src), str(tmp_path / "a"), stats=str(stats), max_size=2)
    assert read_table(tmp_path / "a").column("seq").to_pylist() == [[2, 3, 2, 1], [2, 3], [1]]
    encode(str(src), str(tmp_path / "b"), stats=str(stats), min_count=2)
    assert read_table(tmp_path / "b").column("seq").to_pylist() == [[2, 3, 2, 1], [2, 3], [1]]


def test_test_split_uses_training_stats_unchanged(train, tmp_path):
    _, stats = train
    before = stats.read_bytes()
    test = make_dataset(tmp_path / "test", [["a", "zzz"]], labels=["neg"])
    encode(str(test), str(tmp_path / "t"), stats=str(stats), length=3, format="npy")
    assert stats.read_bytes() == before
    assert np.load(tmp_path / "t" / "X.npy").tolist() == [[0, 3, 1]]
    assert np.load(tmp_path / "t" / "y.npy").tolist() == [0]  # "neg" is class 0 of the training classes
    assert json.loads((tmp_path / "t" / "meta.json").read_text())["classes"] == ["neg", "pos"]


def test_unseen_label_is_an_error(train, tmp_path):
    _, stats = train
    test = make_dataset(tmp_path / "test", [["a"]], labels=["maybe"])
    with pytest.raises(InputError, match="label 'maybe' never appears in the training split .* \\(classes: neg, pos\\)"):
        encode(str(test), str(tmp_path / "t"), stats=str(stats))
    assert not (tmp_path / "t").exists()


def test_stable_hash_is_pinned_and_the_same_in_every_process(tmp_path):
    assert stable_hash("cat", 1000) == 2 + int.from_bytes(
        __import__("hashlib").blake2b(b"cat", digest_size=8).digest(), "little") % 1000
    cat, dog = stable_hash("cat", 1000), stable_hash("dog", 1000)
    assert hash_ids(pa.array(["cat", "dog", "cat"]), 1000).tolist() == [cat, dog, cat]
    code = "from seqprep.kernels.encode import hash_ids; import pyarrow as pa; print(hash_ids(pa.array(['cat','dog','é']), 97).tolist())"
    outs = {subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed},
                           capture_output=True, text=True, check=True).stdout for seed in ("0", "1", "12345")}
    assert len(outs) == 1


def test_hash_mode_end_to_end(train, tmp_path):
    src, _ = train
    m = encode(str(src), str(tmp_path / "h"), hash=10)
    ids = read_table(tmp_path / "h").column("seq").to_pylist()
    assert ids[0] == [stable_hash(t, 10) for t in ["b", "a", "b", "c"]]
    assert m["encoding"]["vocab_size"] == 12 and all(2 <= i < 12 for r in ids for i in r)


def test_onehot_with_unknown_symbols_and_lowercase(tmp_path):
    src = make_dataset(tmp_path / "dna", [list("ACgN"), list("T")])
    m = encode(str(src), str(tmp_path / "o"), onehot_alphabet="ACGT", lowercase=False, length=4, padding=Padding(side="end"))
    rows = read_table(tmp_path / "o").column("seq").to_pylist()
    assert rows[0] == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert rows[1] == [[0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert m["encoding"]["channels"] == 4
    encode(str(src), str(tmp_path / "lo"), onehot_alphabet="acgt", lowercase=True)
    assert read_table(tmp_path / "lo").column("seq").to_pylist()[0][2] == [0, 0, 1, 0]


def test_kmers_kernel():
    batch = Ragged.from_lengths(pa.array(list("ACGTAGG")), np.array([5, 2]))
    out = kmers(batch, k=3)
    assert out.values.to_pylist() == ["ACG", "CGT", "GTA"] and out.lengths.tolist() == [3, 0]
    out = kmers(batch, k=2, stride=2)
    assert out.values.to_pylist() == ["AC", "GT", "GG"] and out.lengths.tolist() == [2, 1]
    with pytest.raises(InputError, match="one-character tokens"):
        kmers(Ragged.from_lengths(pa.array(["AC", "G"]), np.array([2])), k=2)


def test_fit_and_encode_kmers(tmp_path):
    src = make_dataset(tmp_path / "dna", [list("ACGAC"), list("ACG")], labels=["x", "y"])
    stats = fit(str(src), str(tmp_path / "k.json"), kmer=2)
    assert stats["tokens"] == ["AC", "CG", "GA"] and stats["counts"] == [3, 2, 1]
    encode(str(src), str(tmp_path / "e"), stats=str(tmp_path / "k.json"), kmer=2)
    assert read_table(tmp_path / "e").column("seq").to_pylist() == [[2, 3, 4, 2], [2, 3]]
    with pytest.raises(InputError, match="counted k-mers of 2, but --kmer is 3"):
        encode(str(src), str(tmp_path / "f"), stats=str(tmp_path / "k.json"), kmer=3)


def test_normalize_readings(tmp_path):
    rows = [[[1.0, 10.0], [3.0, float("nan")]], [[5.0, 30.0]]]
    src = make_dataset(tmp_path / "r", rows, labels=[0, 1], seq_type=pa.list_(pa.float32(), 2))
    fit(str(src), str(tmp_path / "n.json"))
    m = encode(str(src), str(tmp_path / "z"), normalize_with=str(tmp_path / "n.json"), nan_value=-9)
    got = read_table(tmp_path / "z").column("seq").to_pylist()
    sd = np.std([1, 3, 5])
    np.testing.assert_allclose(got[0], [[-2 / sd, -1.0], [0.0, -9.0]], rtol=1e-6)
    np.testing.assert_allclose(got[1], [[2 / sd, 1.0]], rtol=1e-6)
    assert m["encoding"]["nan_replaced"] == 1 and m["encoding"]["classes"] == [0, 1]


@pytest.mark.parametrize("kwargs, error, message", [
    ({}, UsageError, "give one of stats, hash, onehot \\(tokens\\), normalize \\(readings\\) or autoencoder"),
    ({"hash": 0}, UsageError, "hash=0 must be positive"),
    ({"hash": 5, "onehot_alphabet": "AC"}, UsageError, "got hash, onehot"),
    ({"normalize_with": "x.json"}, UsageError, "normalize works on numeric readings, but seq holds string tokens"),
    ({"hash": 5, "format": "npy", "padding": Padding(pad=False)}, UsageError, "format npy needs fixed-length rows: give length"),
    ({"hash": 5, "length": 3, "padding": Padding(value="7")}, UsageError, "pad_value does not apply"),
    ({"hash": 5, "max_size": 3}, UsageError, "max_size and min_count cap the stats vocabulary"),
    ({"onehot_alphabet": "AAC"}, UsageError, "must list distinct symbols"),
])
def test_errors_write_nothing(train, tmp_path, kwargs, error, message):
    src, _ = train
    with pytest.raises(error, match=message):
        encode(str(src), str(tmp_path / "out"), **kwargs)
    assert not (tmp_path / "out").exists()


def test_stats_for_the_wrong_data(tmp_path):
    nums = make_dataset(tmp_path / "n", [[1.0]], seq_type=pa.float32())
    fit(str(nums), str(tmp_path / "n.json"))
    toks = make_dataset(tmp_path / "t", [["a"]])
    with pytest.raises(InputError, match="fitted on numeric data; token ids need token statistics"):
        encode(str(toks), str(tmp_path / "o"), stats=str(tmp_path / "n.json"))
    ids = make_dataset(tmp_path / "i", [[4, 5]], seq_type=pa.int32())
    fit(str(ids), str(tmp_path / "i.json"))
    with pytest.raises(InputError, match="fitted on int32 tokens, but the tokens to encode are string"):
        encode(str(toks), str(tmp_path / "o"), stats=str(tmp_path / "i.json"))
    encode(str(ids), str(tmp_path / "ok"), stats=str(tmp_path / "i.json"))
    assert read_table(tmp_path / "ok").column("seq").to_pylist() == [[2, 3]]
    assert manifest(tmp_path / "ok")["encoding"]["vocabulary"] == [4, 5]


def test_encode_cli(cli, train, tmp_path):
    src, stats = train
    result = cli("encode", src, tmp_path / "npy", "--stats", stats, "--length", "3", "--format", "npy")
    assert result.exit_code == 0, result.stderr
    assert np.load(tmp_path / "npy" / "X.npy").tolist() == [[3, 2, 4], [0, 2, 3], [0, 0, 5]]
    result = cli("encode", src, tmp_path / "x", "--onehot", "AC", "--normalize", stats)
    assert result.exit_code == 2 and "give one of --stats" in result.stderr


def test_normalize_per_row_channels(cli, tmp_path):
    rows = [[[1.0, 4.0], [3.0, 4.0]], [[2.0, float("nan")]]]
    src = make_dataset(tmp_path / "r", rows, seq_type=pa.list_(pa.float32(), 2))
    result = cli("encode", src, tmp_path / "z", "--normalize", "per-row")
    assert result.exit_code == 0, result.stderr
    assert "encode: 2 constant row channels became zeros (--normalize per-row)" in result.stderr
    assert read_table(tmp_path / "z").column("seq").to_pylist() == [[[-1.0, 0.0], [1.0, 0.0]], [[0.0, 0.0]]]
    m = manifest(tmp_path / "z")
    assert m["encoding"]["channels"] == 2 and m["encoding"]["constant_rows"] == 2
    assert m["lineage"][-1]["params"]["normalize"] == "per-row"


def test_out_must_not_hold_the_stats_file(train, tmp_path):
    src, stats = train
    encode(str(src), str(tmp_path / "ids"), stats=str(stats))
    (tmp_path / "ids" / "stats.json").write_bytes(stats.read_bytes())
    with pytest.raises(Exception, match="OUT holds the input"):
        encode(str(src), str(tmp_path / "ids"), stats=str(tmp_path / "ids" / "stats.json"), overwrite=True)
    assert (tmp_path / "ids" / "stats.json").exists()
