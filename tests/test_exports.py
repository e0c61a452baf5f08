"""NPY exports read back as datasets (inspect, verify, every step), and the order of classes."""

import json

import numpy as np
import pyarrow as pa
import pytest

from seqprep.labels import class_order

from .conftest import make_dataset, read_table


@pytest.fixture
def export(cli, tmp_path):
    src = make_dataset(tmp_path / "src", [[1, 2, 3], [4], [5, 6]], labels=["10", "2", "0"], seq_type=pa.int32())
    result = cli("truncate", src, tmp_path / "npy", "--length", "2", "--pad-side", "end", "--format", "npy")
    assert result.exit_code == 0, result.stderr
    return tmp_path / "npy"


def test_classes_in_natural_order(export):
    meta = json.loads((export / "meta.json").read_text())
    assert meta["classes"] == ["0", "2", "10"]
    assert np.load(export / "y.npy").tolist() == [2, 1, 0]


def test_an_export_is_a_dataset_for_every_reader(cli, export, tmp_path):
    result = cli("verify", export)
    assert result.exit_code == 0 and result.stdout.strip() == f"{export}: 3 rows in 1 shard match meta.json"
    result = cli("inspect", export)
    assert result.exit_code == 0 and "3 sequences" in result.stdout
    result = cli("truncate", export, tmp_path / "again", "--length", "1", "--keep", "start")
    assert result.exit_code == 0, result.stderr
    t = read_table(tmp_path / "again")
    assert t.column("id").to_pylist() == [0, 1, 2]
    assert t.column("seq").to_pylist() == [[2], [4], [5]]  # the real steps (2, 3), (4), (5, 6)
    assert t.column("label").to_pylist() == ["10", "2", "0"]
    assert cli("fit", export, tmp_path / "stats.json").exit_code == 0
    assert json.loads((tmp_path / "stats.json").read_text())["classes"] == ["0", "2", "10"]


def test_a_changed_array_fails_verify(cli, export):
    y = np.load(export / "y.npy")
    y[0] = 0
    np.save(export / "y.npy", y)  # same size, other bytes
    result = cli("verify", export)
    assert result.exit_code == 1 and "y.npy: sha256 differs from meta.json" in result.stderr


@pytest.mark.parametrize("change, message", [
    (lambda m: m.update(classes=["a", 1, "c"]), "classes must be all strings or all integers"),
    (lambda m: m["files"].update({"../x.npy": {"bytes": 1, "sha256": "0"}}), "is not an array of the export"),
    (lambda m: m["files"].pop("X.npy"), "lists no size or sha256 for X.npy"),
    (lambda m: m.update(classes=["0", "0", "10"]), "the class list names a class twice"),
    (lambda m: m.update(version="1"), "version '1' is not one this seqprep reads"),
    (lambda m: m.update(shape=[3, 5]), "says shape [3, 5]"),
    (lambda m: m.update(padding=None), "names no padding, but lengths.npy has rows shorter"),
    (lambda m: m.update(padding={"length": 2, "side": "middle", "value": 0}), "padding metadata"),
    (lambda m: m.update(format="other"), "not a seqprep NPY export's meta.json"),
])
def test_a_crafted_meta_is_refused(cli, export, change, message):
    m = json.loads((export / "meta.json").read_text())
    change(m)
    (export / "meta.json").write_text(json.dumps(m))
    result = cli("verify", export)
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr


def test_class_order():
    assert class_order(["10", "2", "0", None, "2"]) == ["0", "2", "10"]
    assert class_order([10, 2, 0]) == [0, 2, 10]
    assert class_order(["1.5", "-3", "1e1"]) == ["-3", "1.5", "1e1"]
    assert class_order(["b", "a10", "a9", "10"]) == ["10", "a10", "a9", "b"]  # not all numbers: as text
    assert class_order(["nan", "1"]) == ["1", "nan"]
    assert class_order([]) == []


def test_npy_without_length_pads_to_the_longest_row(cli, tmp_path):
    """keras's pad_sequences(maxlen=None): the longest row sets the length; equal rows get none."""
    src = make_dataset(tmp_path / "r", [[1.0, 2.0, 3.0, 4.0], [5.0], [6.0, 7.0]], labels=["a", "b", "a"],
                       seq_type=pa.float32())
    assert cli("summarize", src, tmp_path / "paa", "--paa", "2", "--format", "npy").exit_code == 0
    X = np.load(tmp_path / "paa" / "X.npy")
    assert X.tolist() == [[1.5, 3.5], [5.0, 5.0], [6.0, 7.0]]  # every row 2 steps: no padding at all
    assert np.load(tmp_path / "paa" / "lengths.npy").tolist() == [2, 2, 2]
    assert cli("summarize", src, tmp_path / "f", "--factor", "3", "--format", "npy").exit_code == 0
    assert np.load(tmp_path / "f" / "X.npy").tolist() == [[2.0, 4.0], [5.0, 0.0], [6.5, 0.0]]
    assert np.load(tmp_path / "f" / "lengths.npy").tolist() == [2, 1, 1]
    assert cli("encode", src, tmp_path / "z", "--normalize", "per-row", "--format", "npy").exit_code == 0
    assert np.load(tmp_path / "z" / "X.npy").shape == (3, 4)
    assert np.load(tmp_path / "z" / "lengths.npy").tolist() == [4, 1, 2]
    result = cli("encode", src, tmp_path / "k", "--normalize", "per-row", "--format", "npy", "--no-pad")
    assert result.exit_code == 2 and "needs fixed-length rows" in result.stderr
