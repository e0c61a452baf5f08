"""sp.open and steps applied from Python (seqprep.handle)."""

import pickle
import re

import numpy as np
import pyarrow as pa
import pyarrow.dataset  # noqa: F401 - pa.dataset
import pytest

import seqprep as sp
from seqprep.errors import OutputError

from .conftest import listing, make_dataset, read_table


@pytest.fixture
def ds(tmp_path):
    return make_dataset(tmp_path / "ds", [[1, 2, 3, 4], [5], [6, 7]], labels=["a", "b", "a"], seq_type=pa.int32(),
                        shard_rows=2)


def test_open_reads_what_the_manifest_says(ds):
    d = sp.open(ds)
    assert d.rows == 3 and d.schema.names == ["id", "seq", "label"]
    assert d.lengths["max"] == 4 and d.lengths["total"] == 7
    assert d.labels["counts"] == {"a": 2, "b": 1}
    assert d.padding is None and d.lineage == [{"command": "test"}]
    assert [b.num_rows for b in d.batches()] == [2, 1]
    assert d.to_arrow().column("seq").to_pylist() == [[1, 2, 3, 4], [5], [6, 7]]
    assert "rows=3" in repr(d)


def test_apply_runs_a_step_with_the_cli_contract(ds, tmp_path):
    short = sp.open(ds).apply(sp.Truncate(2, padding=sp.Padding(side="end")), tmp_path / "short")
    assert short.padding == sp.PadSpec(2, "end", 0)
    assert short.padding.to_dict() == {"length": 2, "side": "end", "value": 0}  # as the manifest holds it
    assert read_table(tmp_path / "short").column("seq").to_pylist() == [[3, 4], [5, 0], [6, 7]]
    assert short.lineage[-1]["command"] == "truncate" and short.lineage[-1]["params"]["length"] == 2
    with pytest.raises(OSError, match="already exists; pass --overwrite") as refused:  # a path's error
        sp.open(ds).apply(sp.Truncate(2), tmp_path / "short")
    assert isinstance(refused.value, OutputError) and refused.value.errno is None
    with pytest.raises(ValueError, match="no such file or directory"):  # bad input: a ValueError (InputError)
        sp.open(tmp_path / "nothing")
    again = sp.open(ds).apply(sp.Truncate(3, keep="start"), tmp_path / "short", overwrite=True)
    assert again.to_arrow().column("length").to_pylist() == [3, 1, 2]


def test_every_step_and_npy(ds, tmp_path):
    d = sp.open(ds)
    crops = d.apply(sp.Sample(2, seed=1, mode="crop", copies=2), tmp_path / "crops")
    assert crops.rows == 4  # two crops of the one longer row, the others whole
    windows = d.apply(sp.Split(2, last="keep", padding=sp.Padding(pad=False)), tmp_path / "w")
    assert windows.to_arrow().column("seq").to_pylist() == [[1, 2], [3, 4], [5], [6, 7]]
    npy = d.apply(sp.Truncate(3), tmp_path / "npy", format="npy")
    assert np.load(tmp_path / "npy" / "X.npy").shape == (3, 3) and npy.rows == 3
    with pytest.raises(ValueError, match="paa and factor work on numeric readings"):
        d.apply(sp.Summarize(paa=2), tmp_path / "s", format="npy")
    with pytest.raises(TypeError, match="a seqprep step"):
        d.apply("truncate", tmp_path / "x")
    assert not (tmp_path / "s").exists() and not (tmp_path / "x").exists()


def test_steps_are_plain_picklable_values():
    step = sp.Truncate(400, keep="both", head=100)
    assert pickle.loads(pickle.dumps(step)) == step
    enc = sp.Encode(hash=1000, length=5)
    assert pickle.loads(pickle.dumps(enc)).options == {"hash": 1000, "length": 5}


def test_bad_step_options_speak_python(ds, tmp_path):
    with pytest.raises(ValueError, match="length=0 must be positive"):
        sp.open(ds).apply(sp.Truncate(0), tmp_path / "out")
    assert "out" not in listing(tmp_path)


def test_open_refuses_what_is_not_a_dataset(tmp_path):
    with pytest.raises(sp.InputError, match="no such file or directory"):
        sp.open(tmp_path / "missing")
    with pytest.raises(sp.InputError, match="for the command line"):
        sp.open("-")


def test_other_engines_read_a_dataset_directly(ds, tmp_path):
    """The manifest's leading '_' makes engines that read the directory skip it."""
    import pyarrow.parquet as pq

    expected = read_table(ds).to_pylist()
    assert pq.read_table(ds).to_pylist() == expected
    assert pa.dataset.dataset(ds, format="parquet").to_table().to_pylist() == expected
    duckdb = pytest.importorskip("duckdb")
    rows = duckdb.sql(f"SELECT id, seq, label FROM read_parquet('{ds}/*.parquet') ORDER BY id").fetchall()
    assert [(r["id"], r["seq"], r["label"]) for r in expected] == rows


def test_datasets_with_the_old_manifest_name_are_read(ds, tmp_path):
    (ds / "_seqprep.json").rename(ds / "seqprep.json")
    assert sp.open(ds).rows == 3
    out = sp.open(ds).apply(sp.Truncate(1), tmp_path / "t")
    assert (tmp_path / "t" / "_seqprep.json").exists() and out.rows == 3


@pytest.mark.parametrize("make, message", [
    (lambda: sp.Truncate(True), "Truncate: length=True must be int"),
    (lambda: sp.Truncate("10"), "Truncate: length='10' must be int"),
    (lambda: sp.Truncate(10, keep="both", head=1.5), "Truncate: head=1.5 must be int (or None)"),
    (lambda: sp.Truncate(10, padding="yes"), "Truncate: padding='yes' must be Padding"),
    (lambda: sp.Truncate(10, padding=sp.Padding(value=[1])), "padding value=[1] must be a finite number or a string"),
    (lambda: sp.Truncate(10, padding=sp.Padding(value=float("inf"))), "padding value=inf must be a finite number"),
    (lambda: sp.Sample(10, seed=None), "Sample: seed=None must be int"),
    (lambda: sp.Summarize(factor=1.5), "Summarize: factor=1.5 must be int (or None)"),
    (lambda: sp.Encode(hash=1.5), "Encode: hash=1.5 must be int (or None)"),
    (lambda: sp.Encode(hash=5, lowercase="x"), "Encode: lowercase='x' must be bool"),
    (lambda: sp.Encode(bogus=1), "Encode: no option bogus=; choose from stats, hash"),
])
def test_steps_refuse_options_of_the_wrong_type_when_made(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_apply_checks_its_own_options(ds, tmp_path):
    with pytest.raises(ValueError, match="apply: workers='2' must be int"):
        sp.open(ds).apply(sp.Truncate(2), tmp_path / "w", workers="2")
    with pytest.raises(ValueError, match="out='-'"):
        sp.open(ds).apply(sp.Truncate(2), "-")
    assert not (tmp_path / "w").exists()
