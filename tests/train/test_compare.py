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
                                              "autoencoder", "conv", "majority", "tf-idf + logistic"]
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
    assert "epochs 1, budget 3,000,000 steps read" in result.stderr and "lr 0.01" in result.stderr  # the defaults
    with pytest.raises(UsageError, match="techniques: magic unknown"):
        compare(train, test, techniques=["magic"])


def test_repeats_budget_and_the_commands_that_reproduce_a_row(task, cli, tmp_path, monkeypatch):
    """Each row's command lines, run as a user would, give its first run's score exactly; the
    budget in steps read stops every run within one batch of it, the autoencoder's pre-training
    included; repeats give the runs' mean and spread."""
    import shlex

    train, test = task("tokens-end")
    rows = compare(train, test, length=20, epochs=50, hidden=8, embed=8, repeats=2, budget=20_000,
                   techniques=["truncate-end", "windows", "autoencoder"], baselines=False)
    for r in rows:
        assert r["repeats"] == 2 and r["seeds"] == [0, 1] and len(r["macro_f1_runs"]) == 2
        assert r["macro_f1"] == pytest.approx(sum(r["macro_f1_runs"]) / 2)
        assert r["macro_f1_sd"] == pytest.approx(abs(r["macro_f1_runs"][0] - r["macro_f1_runs"][1]) / 2)
        assert 20_000 <= r["steps_read"] < 20_000 + 2 * 64 * 20 and r["epochs"] < 50  # within a batch of it
    assert [r["epochs"] for r in rows] == [6, 1, 26]  # shorter rows, more epochs in the same budget
    monkeypatch.chdir(tmp_path)
    for i, r in enumerate(rows):
        assert r["commands"][0].startswith("seqprep fit ")  # each row's lines stand alone
        for line in r["commands"][1 if i else 0:]:
            words = shlex.split(line)
            assert words[0] == "seqprep"
            result = cli(*words[1:])
            assert result.exit_code == 0, (line, result.stderr)
        scored = json.loads(cli("evaluate", f"compare-work/{r['technique']}/run",
                                f"compare-work/{r['technique']}/test", "--json").stdout)
        first = scored["per_id" if r["scored"] == "per id" else "rows"]["macro_f1"]
        assert first == pytest.approx(r["macro_f1_runs"][0], abs=1e-12), r["technique"]


def test_readings_are_z_scored_per_row_as_the_baseline_sees_them_or_globally(task, cli, tmp_path):
    """--normalize per-row (the default) z-scores each row over its own steps, as the 1-NN
    baseline does, and needs no fitted statistics; global uses TRAIN's mean and std."""
    train, test = task("readings-end")
    options = dict(length=24, epochs=1, hidden=8, embed=8, techniques=["truncate-end"], baselines=False)
    per_row = compare(train, test, **options)[0]["commands"]
    assert not any(line.startswith("seqprep fit") for line in per_row)
    assert "--normalize per-row" in per_row[0] and "--length 24" in per_row[0]
    glob = compare(train, test, normalize="global", **options)[0]["commands"]
    assert glob[0].startswith("seqprep fit ") and "--normalize compare-work/stats.json" in glob[1]
    with pytest.raises(UsageError, match="normalize 'row': choose from per-row, global"):
        compare(train, test, normalize="row", **options)
    result = cli("compare", train, test, "--normalize", "row", "--techniques", "truncate-end")
    assert result.exit_code == 2 and "--normalize 'row': choose from per-row, global" in result.stderr


def test_outputs_are_checked_and_one_class_refused_before_any_training(task, cli, tmp_path):
    """--json or --plot into a missing folder, or at a folder, and a TRAIN of one class: one
    line, before anything trains (nothing is left behind)."""
    import pyarrow as pa

    from seqprep.errors import InputError
    from seqprep.output import DatasetSink

    train, test = task("readings-end")
    for flag, path, message in (("--json", tmp_path / "no" / "t.json", "the folder .* does not exist"),
                                ("--plot", tmp_path / "no" / "t.png", "the folder .* does not exist"),
                                ("--json", tmp_path, "is a directory")):
        result = cli("compare", train, test, flag, path, "--techniques", "truncate-end")
        assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.stderr
        assert "compare: epochs" not in result.stderr  # refused before the settings, before training
    one = tmp_path / "one"
    with DatasetSink(str(one), lineage=[]) as sink:
        sink.write(pa.RecordBatch.from_pydict({"id": [0, 1], "seq": [[1.0, 2.0], [3.0, 1.0]], "label": ["a", "a"]}))
        sink.finish()
    with pytest.raises(InputError, match="at least two classes in TRAIN, and it has 1 \\(a\\)"):
        compare(str(one), str(one))
    result = cli("compare", train, test, "--normalize", "global", "--techniques", "truncate-end", "--epochs", "1",
                 "--hidden", "4")
    assert "readings z-scored global, token vocabulary at most 20,000" in result.stderr


def test_the_table_shows_each_runs_kept_epoch():
    from seqprep.cli.training import _epochs

    assert _epochs({"epochs": 8, "kept_epoch": 6}) == "6/8"
    assert _epochs({"epochs": 8, "kept_epoch": 6, "kept_epochs": [6, 7, 5]}) == "6,7,5/8"
    assert _epochs({"epochs": 8, "kept_epoch": None}) == "8"
    assert _epochs({"technique": "1-nn"}) == ""


@pytest.mark.parametrize("side", ["start", "end"])
@pytest.mark.parametrize("kind", ["tokens", "readings"])
def test_baselines_read_padded_data_as_its_real_steps(tmp_path, side, kind):
    import numpy as np
    import pyarrow as pa

    from seqprep.compare import baseline_rows
    from seqprep.steps import Padding, truncate

    from ..conftest import make_dataset

    rng = np.random.default_rng(0)
    if kind == "tokens":
        seqs = [[f"w{int(t)}" for t in rng.integers(0, 6, int(rng.integers(0, 12)))] for _ in range(40)]
        seq_type = pa.string()
    else:
        seqs = [rng.normal(size=int(rng.integers(1, 12))).tolist() for _ in range(40)]
        seq_type = pa.float32()
    labels = ["a" if (i * 7) % 3 else "b" for i in range(40)]
    for split, rows in (("train", slice(0, 30)), ("test", slice(30, 40))):
        make_dataset(tmp_path / split, seqs[rows], labels=labels[rows], seq_type=seq_type)
        truncate(str(tmp_path / split), str(tmp_path / f"{split}-padded"), length=12,
                 padding=Padding(side=side, value=None if kind == "tokens" else 0))
    raw = baseline_rows(str(tmp_path / "train"), str(tmp_path / "test"), kind, seed=0)
    padded = baseline_rows(str(tmp_path / "train-padded"), str(tmp_path / "test-padded"), kind, seed=0)
    assert padded == raw and len(raw) == 2
