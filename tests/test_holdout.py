"""holdout: a split by id, the same however the input is sharded, both outputs or neither."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from seqprep.errors import InputError, OutputError, UsageError
from seqprep.kernels.random import row_keys, uniform
from seqprep.steps import Padding, encode, split, truncate
import seqprep.steps.holdout as holdout_module
from seqprep.steps.holdout import STREAM, holdout

from .conftest import listing, make_dataset, manifest, read_table


def ids_of(path: Path) -> list[int]:
    table = read_table(path)
    return [] if table is None else table.column("id").to_pylist()


def rows_of(path: Path) -> list[tuple]:
    table = read_table(path)
    return [] if table is None else list(zip(*(table.column(n).to_pylist() for n in ("id", "seq", "label"))))


def seqs(n: int) -> list[list[int]]:
    return [list(range(i % 7 + 1)) for i in range(n)]


@pytest.fixture
def twenty(tmp_path) -> Path:
    return make_dataset(tmp_path / "in", seqs(20), labels=["a", "b"] * 10)


def test_exact_ids_of_a_small_case(tmp_path, twenty):
    train, val = holdout(str(twenty), str(tmp_path / "tr"), str(tmp_path / "va"), fraction=0.3, seed=7)
    assert ids_of(tmp_path / "va") == [1, 4, 6, 7, 9, 13, 15, 16, 17]
    assert ids_of(tmp_path / "tr") == [0, 2, 3, 5, 8, 10, 11, 12, 14, 18, 19]
    # the rule: an id is held out when its hash, as a number in [0, 1), is below the fraction
    ids = np.arange(20)
    assert ids_of(tmp_path / "va") == ids[uniform(row_keys(7, ids, STREAM)) < 0.3].tolist()
    assert (train["rows"], val["rows"]) == (11, 9)
    assert val["lineage"][-1]["command"] == "holdout"
    assert val["lineage"][-1]["params"] == {"fraction": 0.3, "stratify": False, "output": "val"}
    assert val["lineage"][-1]["seed"] == 7 and train["lineage"][-1]["params"]["output"] == "train"
    assert manifest(tmp_path / "va") == val


def test_rows_are_kept_whole_and_in_order(tmp_path, twenty):
    holdout(str(twenty), str(tmp_path / "tr"), str(tmp_path / "va"), fraction=0.5, seed=1)
    everything = rows_of(twenty)
    train, val = rows_of(tmp_path / "tr"), rows_of(tmp_path / "va")
    assert sorted(train + val) == sorted(everything)
    assert train == [r for r in everything if r in train] and val == [r for r in everything if r in val]


def test_other_seeds_other_splits(tmp_path, twenty):
    splits = set()
    for seed in range(4):
        holdout(str(twenty), str(tmp_path / f"tr{seed}"), str(tmp_path / f"va{seed}"), fraction=0.3, seed=seed)
        splits.add(tuple(ids_of(tmp_path / f"va{seed}")))
    assert len(splits) == 4


@pytest.mark.parametrize("stratify", [False, True])
def test_same_split_for_one_shard_or_many(tmp_path, stratify):
    n = 101
    labels = [f"c{i % 3}" for i in range(n)]
    one = make_dataset(tmp_path / "one", seqs(n), labels=labels)
    many = make_dataset(tmp_path / "many", seqs(n), labels=labels, shard_rows=7)
    assert len(manifest(many)["shards"]) == 15
    holdout(str(one), str(tmp_path / "tr1"), str(tmp_path / "va1"), fraction=0.3, seed=5, stratify=stratify)
    holdout(str(many), str(tmp_path / "trm"), str(tmp_path / "vam"), fraction=0.3, seed=5, stratify=stratify,
            batch_rows=3)
    assert rows_of(tmp_path / "va1") == rows_of(tmp_path / "vam")
    assert rows_of(tmp_path / "tr1") == rows_of(tmp_path / "trm")
    assert len(manifest(tmp_path / "vam")["shards"]) > 1  # the outputs' shards follow the input's


def test_stratified_keeps_class_proportions(tmp_path):
    labels = ["a"] * 10 + ["b"] * 20 + ["c"] * 31 + ["d"]
    labels = [labels[(i * 17) % len(labels)] for i in range(len(labels))]  # classes interleaved
    src = make_dataset(tmp_path / "in", seqs(len(labels)), labels=labels, shard_rows=9)
    train, val = holdout(str(src), str(tmp_path / "tr"), str(tmp_path / "va"), fraction=0.25, seed=3, stratify=True)
    # round(0.25 * n), halves up; a class of one id stays in training
    assert val["labels"]["counts"] == {"a": 3, "b": 5, "c": 8}
    assert train["labels"]["counts"] == {"a": 7, "b": 15, "c": 23, "d": 1}
    # the held-out ids of a class are those with the lowest hashes
    table = read_table(src)
    ids, labs = np.array(table.column("id").to_pylist()), table.column("label").to_pylist()
    held = set(ids_of(tmp_path / "va"))
    for c, k in (("a", 3), ("b", 5), ("c", 8)):
        mine = ids[[lab == c for lab in labs]]
        lowest = mine[np.argsort(row_keys(3, mine, STREAM))][:k]
        assert held & set(mine.tolist()) == set(lowest.tolist())


def test_stratified_counts_unlabelled_rows_as_a_class(tmp_path):
    labels = ["a", None] * 10
    src = make_dataset(tmp_path / "in", seqs(20), labels=labels)
    train, val = holdout(str(src), str(tmp_path / "tr"), str(tmp_path / "va"), fraction=0.2, seed=0, stratify=True)
    assert val["labels"]["counts"] == {"a": 2} and val["labels"]["nulls"] == 2
    assert train["labels"]["counts"] == {"a": 8} and train["labels"]["nulls"] == 8


@pytest.mark.parametrize("stratify", [False, True])
def test_windows_of_one_id_stay_together(tmp_path, stratify):
    n = 40
    labels = [f"c{i % 2}" for i in range(n)]
    whole = make_dataset(tmp_path / "whole", [list(range(5 + i)) for i in range(n)], labels=labels, shard_rows=6)
    windows = tmp_path / "windows"
    split(str(whole), str(windows), length=4, last="keep", padding=Padding(pad=False))
    assert len(ids_of(windows)) > 3 * n
    holdout(str(windows), str(tmp_path / "trw"), str(tmp_path / "vaw"), fraction=0.3, seed=9, stratify=stratify)
    holdout(str(whole), str(tmp_path / "tr"), str(tmp_path / "va"), fraction=0.3, seed=9, stratify=stratify)
    train_ids, val_ids = set(ids_of(tmp_path / "trw")), set(ids_of(tmp_path / "vaw"))
    assert not train_ids & val_ids
    assert len(ids_of(tmp_path / "trw")) + len(ids_of(tmp_path / "vaw")) == len(ids_of(windows))
    # an id goes where it goes without its windows
    assert val_ids == set(ids_of(tmp_path / "va")) and train_ids == set(ids_of(tmp_path / "tr"))


def test_padding_and_encoding_are_kept(tmp_path, twenty):
    padded = tmp_path / "padded"
    truncate(str(twenty), str(padded), length=4)
    holdout(str(padded), str(tmp_path / "tr"), str(tmp_path / "va"), fraction=0.5, seed=2)
    for out in ("tr", "va"):
        m = manifest(tmp_path / out)
        assert m["padding"] == manifest(padded)["padding"]
        assert m["steps"] == manifest(padded)["steps"] == {"type": "int64", "channels": None, "fixed_length": 4}
        assert [f["name"] for f in m["schema"]] == ["id", "seq", "label", "length"]
        assert [s["command"] for s in m["lineage"]] == ["test", "truncate", "holdout"]
    words = make_dataset(tmp_path / "words", [["a", "b"], ["c"], ["a"], ["d", "e", "f"]], labels=["x", "y"] * 2)
    encode(str(words), str(tmp_path / "ids"), hash=50)
    holdout(str(tmp_path / "ids"), str(tmp_path / "tr-ids"), str(tmp_path / "va-ids"), fraction=0.5, seed=2)
    assert manifest(tmp_path / "va-ids")["encoding"] == manifest(tmp_path / "ids")["encoding"]


@pytest.mark.parametrize("fraction", [0, 1, -0.5, 1.5, math.nan, math.inf])
def test_fraction_between_0_and_1(tmp_path, twenty, fraction):
    with pytest.raises(UsageError, match=r"^fraction=.* must be between 0 and 1"):
        holdout(str(twenty), str(tmp_path / "tr"), str(tmp_path / "va"), fraction=fraction, seed=0)
    assert not (tmp_path / "tr").exists() and not (tmp_path / "va").exists()


def test_overwrite_rules(tmp_path, twenty):
    tr, va = str(tmp_path / "tr"), str(tmp_path / "va")
    holdout(str(twenty), tr, va, fraction=0.3, seed=1)
    before = ids_of(va)
    with pytest.raises(OutputError, match="already exists; pass --overwrite"):
        holdout(str(twenty), tr, va, fraction=0.5, seed=2)
    assert ids_of(va) == before
    holdout(str(twenty), tr, va, fraction=0.5, seed=2, overwrite=True)
    assert ids_of(va) != before
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match="replaces only"):
        holdout(str(twenty), tr, str(other), fraction=0.5, seed=2, overwrite=True)
    assert (other / "keep.txt").read_text() == "mine"
    with pytest.raises(UsageError, match="the same path"):
        holdout(str(twenty), tr, tr, fraction=0.5, seed=2, overwrite=True)
    with pytest.raises(UsageError, match="inside"):
        holdout(str(twenty), tr, str(tmp_path / "tr" / "va"), fraction=0.5, seed=2, overwrite=True)
    with pytest.raises(UsageError, match="not '-'"):
        holdout(str(twenty), "-", va, fraction=0.5, seed=2, overwrite=True)
    with pytest.raises(OutputError, match="same as the input"):
        holdout(str(twenty), str(twenty), va, fraction=0.5, seed=2, overwrite=True)


def test_an_id_with_two_labels_is_refused_and_nothing_is_left(tmp_path):
    src = make_dataset(tmp_path / "in", seqs(4), labels=["a", "b", "a", "b"],
                       extra={"id": pa.array([0, 1, 2, 0], pa.int64())})
    before = listing(tmp_path)
    with pytest.raises(InputError, match=r"id 0 has rows labelled 'a' and 'b'"):
        holdout(str(src), str(tmp_path / "tr"), str(tmp_path / "va"), fraction=0.5, seed=0, stratify=True)
    assert listing(tmp_path) == before


def test_a_damaged_shard_leaves_nothing(tmp_path):
    src = make_dataset(tmp_path / "in", seqs(30), labels=["a"] * 30, shard_rows=10)
    last = src / manifest(src)["shards"][-1]["path"]
    last.write_bytes(last.read_bytes()[:-20])
    before = listing(tmp_path)
    with pytest.raises(InputError):
        holdout(str(src), str(tmp_path / "tr"), str(tmp_path / "va"), fraction=0.5, seed=0)
    assert listing(tmp_path) == before


def test_a_failed_second_commit_takes_the_first_back(tmp_path, twenty, monkeypatch):
    real = holdout_module._commit_both

    def fail_second(train, val):
        def refuse():
            raise OutputError("va: disk full")
        val.atomic.commit = refuse
        real(train, val)

    monkeypatch.setattr(holdout_module, "_commit_both", fail_second)
    before = listing(tmp_path)
    with pytest.raises(OutputError, match="disk full"):
        holdout(str(twenty), str(tmp_path / "tr"), str(tmp_path / "va"), fraction=0.5, seed=0)
    assert listing(tmp_path) == before


def test_stratify_needs_labels(tmp_path):
    with pytest.raises(UsageError, match="has no label column"):
        holdout(str(make_dataset(tmp_path / "nolabel", seqs(3))), str(tmp_path / "tr"), str(tmp_path / "va"),
                fraction=0.5, seed=0, stratify=True)


# ------------------------------------------------------------------------------------------ the CLI


def test_cli_writes_both_and_says_so(cli, tmp_path, twenty):
    result = cli("holdout", twenty, tmp_path / "tr", tmp_path / "va", "--fraction", "0.3", "--seed", "7")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == [f"holdout: wrote 11 rows in 1 shard to {tmp_path / 'tr'}",
                                          f"holdout: wrote 9 rows in 1 shard to {tmp_path / 'va'}"]
    assert result.stdout == ""


def test_cli_from_stdin(cli, tmp_path, twenty):
    import subprocess
    import sys

    stream = subprocess.run([sys.executable, "-m", "seqprep", "truncate", str(twenty), "-", "--length", "3"],
                            capture_output=True, check=True).stdout
    result = cli("holdout", "-", tmp_path / "tr", tmp_path / "va", "--fraction", "0.3", "--seed", "7", input=stream)
    assert result.exit_code == 0, result.stderr
    assert ids_of(tmp_path / "va") == [1, 4, 6, 7, 9, 13, 15, 16, 17]
    result = cli("holdout", "-", tmp_path / "tr2", tmp_path / "va2", "--fraction", "0.3", "--seed", "7",
                 "--stratify", input=stream)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --stratify reads IN twice") and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("args, code, message", [
    (["--fraction", "0", "--seed", "1"], 2, "Error: --fraction 0.0 must be between 0 and 1"),
    (["--fraction", "1", "--seed", "1"], 2, "Error: --fraction 1.0 must be between 0 and 1"),
    (["--fraction", "0.5"], 2, "Error: Missing option '--seed'"),
    (["--seed", "1"], 2, "Error: Missing option '--fraction'"),
])
def test_cli_refusals_are_one_line(cli, tmp_path, twenty, args, code, message):
    result = cli("holdout", twenty, tmp_path / "tr", tmp_path / "va", *args)
    assert result.exit_code == code
    assert result.stderr.startswith(message) and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "tr").exists() and not (tmp_path / "va").exists()


def test_cli_overwrite(cli, tmp_path, twenty):
    args = ["holdout", twenty, tmp_path / "tr", tmp_path / "va", "--fraction", "0.3", "--seed", "7"]
    assert cli(*args).exit_code == 0
    result = cli(*args)
    assert result.exit_code == 1 and "already exists; pass --overwrite" in result.stderr
    assert cli(*args, "--overwrite").exit_code == 0
