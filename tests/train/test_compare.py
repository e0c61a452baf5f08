"""compare ranks first a technique that keeps the signal, on synth tasks where the answer is known."""

import json

import pytest

pytest.importorskip("torch")

from seqprep.compare import compare  # noqa: E402
from seqprep.errors import UsageError  # noqa: E402
from seqprep.synth import synth  # noqa: E402


@pytest.fixture
def task(tmp_path):
    def make(name):
        synth(str(tmp_path / f"{name}-train"), task=name, n=240, length=240, seed=1)
        synth(str(tmp_path / f"{name}-test"), task=name, n=80, length=240, seed=2)
        return str(tmp_path / f"{name}-train"), str(tmp_path / f"{name}-test")
    return make


def test_signal_at_the_start_every_technique(task):
    train, test = task("tokens-start")
    rows = compare(train, test, length=30, epochs=8, hidden=16, embed=16)
    assert [r["technique"] for r in rows] == ["as-is", "truncate-start", "truncate-end", "truncate-both", "summarize",
                                              "random-steps", "random-crops", "windows", "tbptt", "segments",
                                              "autoencoder", "majority", "tf-idf + logistic"]
    assert [r["technique"] for r in rows if r.get("baseline")] == ["majority", "tf-idf + logistic"]
    assert all(r["macro_f1_interval"][0] <= r["macro_f1"] <= r["macro_f1_interval"][1] for r in rows)
    assert all(r["validated"] for r in rows if not r.get("baseline"))  # epochs picked on TRAIN's share
    best = next(r for r in rows if r.get("best"))
    assert best["technique"] == "truncate-start" and best["accuracy"] > 0.75
    assert next(r for r in rows if r["technique"] == "truncate-end")["accuracy"] < 0.7
    assert next(r for r in rows if r["technique"] == "windows")["scored"] == "per id"


def test_signal_at_the_end(task):
    train, test = task("tokens-end")
    rows = compare(train, test, length=30, epochs=8, hidden=16, embed=16,
                   techniques=["truncate-start", "truncate-end", "random-steps"])
    best = next(r for r in rows if r.get("best"))
    assert best["technique"] == "truncate-end" and best["accuracy"] > 0.9


def test_same_seed_same_table_and_cli(task, cli, tmp_path):
    train, test = task("readings-end")
    a = compare(train, test, length=24, epochs=2, hidden=8, embed=8, techniques=["truncate-end", "windows-features"])
    b = compare(train, test, length=24, epochs=2, hidden=8, embed=8, techniques=["truncate-end", "windows-features"])
    strip = [{k: v for k, v in r.items() if k != "train_seconds"} for r in a]
    assert strip == [{k: v for k, v in r.items() if k != "train_seconds"} for r in b]
    result = cli("compare", train, test, "--length", "24", "--epochs", "1", "--hidden", "8",
                 "--techniques", "truncate-end,summarize", "--json", tmp_path / "c.json", "--plot", tmp_path / "c.png")
    assert result.exit_code == 0, result.stderr
    assert "truncate-end" in result.stdout and "best" in result.stdout
    assert [r["technique"] for r in json.loads((tmp_path / "c.json").read_text())] == ["truncate-end", "summarize",
                                                                                 "majority", "1-nn euclidean"]
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(UsageError, match="techniques: magic unknown"):
        compare(train, test, techniques=["magic"])
