"""train, evaluate, predict on small encoded datasets."""

import json

import numpy as np
import pyarrow as pa
import pytest

torch = pytest.importorskip("torch")

from seqprep.errors import InputError, UsageError  # noqa: E402
from seqprep.fit import fit  # noqa: E402
from seqprep.steps import encode, split  # noqa: E402
from seqprep.train import evaluate, predict, train  # noqa: E402

from ..conftest import make_dataset, read_table  # noqa: E402


@pytest.fixture
def tokens(tmp_path):
    """Class 'up' has many 'u' tokens, 'down' many 'd': learnable in a few epochs."""
    rng = np.random.default_rng(0)
    rows, labels = [], []
    for i in range(80):
        label = "up" if i % 2 else "down"
        rows.append(rng.choice(["u", "d", "x"], size=rng.integers(5, 30), p=[0.6, 0.1, 0.3] if label == "up"
                               else [0.1, 0.6, 0.3]).tolist())
        labels.append(label)
    raw = make_dataset(tmp_path / "raw", rows, labels=labels)
    fit(str(raw), str(tmp_path / "s.json"))
    encode(str(raw), str(tmp_path / "ids"), stats=str(tmp_path / "s.json"), length=20)
    encode(str(raw), str(tmp_path / "npy"), stats=str(tmp_path / "s.json"), length=20, format="npy")
    return tmp_path


def test_train_learns_and_writes_a_run(tokens):
    result = train(str(tokens / "ids"), str(tokens / "run"), epochs=15, hidden=16, embed=8, lr=0.02, seed=1)
    lines = (tokens / "run" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 15 and result["epochs"] == 15
    last = json.loads(lines[-1])
    assert set(last) == {"epoch", "seconds", "loss", "accuracy", "lr"} and last["accuracy"] > 0.9
    assert (tokens / "run" / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ckpt = torch.load(tokens / "run" / "model.pt", weights_only=True)
    assert ckpt["classes"] == ["down", "up"] and ckpt["model"]["vocab_size"] == 5 and ckpt["data"]["length"] == 20
    scores = evaluate(str(tokens / "run"), str(tokens / "npy"))  # NPY export of the same data
    assert scores["rows"]["accuracy"] > 0.9 and scores["rows"]["rows"] == 80
    assert np.array(scores["rows"]["confusion"]).sum() == 80 and "per_id" not in scores


def test_deterministic_on_cpu(tokens):
    a = train(str(tokens / "ids"), str(tokens / "a"), epochs=3, hidden=8, embed=4, seed=7, device="cpu")
    b = train(str(tokens / "ids"), str(tokens / "b"), epochs=3, hidden=8, embed=4, seed=7, device="cpu")
    assert [r["loss"] for r in a["history"]] == [r["loss"] for r in b["history"]]
    sa = torch.load(tokens / "a" / "model.pt", weights_only=True)["state_dict"]
    sb = torch.load(tokens / "b" / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_early_stopping_keeps_the_best_epoch(tokens):
    result = train(str(tokens / "ids"), str(tokens / "run"), val=str(tokens / "ids"), epochs=30, patience=2,
                   hidden=8, embed=4, lr=0.05)
    history = result["history"]
    best = min(r["val_loss"] for r in history)
    assert len(history) < 30 or history[-1]["val_loss"] == best
    assert evaluate(str(tokens / "run"), str(tokens / "ids"))["rows"]["accuracy"] == \
        pytest.approx(next(r["val_accuracy"] for r in history if r["val_loss"] == best))


def test_tbptt_and_bidirectional_train(tokens):
    train(str(tokens / "ids"), str(tokens / "t"), epochs=2, hidden=8, embed=4, tbptt=6)
    train(str(tokens / "ids"), str(tokens / "b"), epochs=2, hidden=8, embed=4, bidirectional=True, layers=2, dropout=0.2)
    with pytest.raises(UsageError, match="does not combine with bidirectional"):
        train(str(tokens / "ids"), str(tokens / "x"), tbptt=4, bidirectional=True)


def test_windows_are_also_scored_per_id(tokens):
    split(str(tokens / "ids"), str(tokens / "win"), length=10)
    train(str(tokens / "win"), str(tokens / "run"), epochs=2, hidden=8, embed=4)
    scores = evaluate(str(tokens / "run"), str(tokens / "win"))
    windows = read_table(tokens / "win").num_rows
    assert 80 < windows < 160  # one or two windows per sequence, by length
    assert scores["rows"]["rows"] == windows and scores["per_id"]["rows"] == 80


def test_predict_csv_and_dataset(tokens):
    train(str(tokens / "ids"), str(tokens / "run"), epochs=1, hidden=8, embed=4)
    predict(str(tokens / "run"), str(tokens / "ids"), str(tokens / "p.csv"))
    lines = (tokens / "p.csv").read_text().splitlines()
    assert lines[0] == "id,predicted,p_down,p_up" and len(lines) == 81
    predict(str(tokens / "run"), str(tokens / "ids"), str(tokens / "pd"))
    t = read_table(tokens / "pd")
    assert t.column_names == ["id", "predicted", "probabilities"] and t.num_rows == 80
    assert np.allclose(np.array(t.column("probabilities").to_pylist()).sum(axis=1), 1, atol=1e-5)


def test_runs_and_data_that_do_not_fit(tokens, tmp_path):
    train(str(tokens / "ids"), str(tokens / "run"), epochs=1, hidden=8, embed=4)
    readings = make_dataset(tmp_path / "r", [[[1.0, 2.0]] * 3], labels=["up"], seq_type=pa.list_(pa.float32(), 2))
    from seqprep.steps import truncate
    truncate(str(readings), str(tmp_path / "r3"), length=3)
    with pytest.raises(InputError, match="holds readings, but the model was trained on token ids"):
        evaluate(str(tokens / "run"), str(tmp_path / "r3"))
    big = make_dataset(tmp_path / "big", [[1, 2, 99]], labels=["up"], seq_type=pa.int32())
    truncate(str(big), str(tmp_path / "big3"), length=3)
    with pytest.raises(InputError, match="token id 99 is beyond the model's vocabulary of 5"):
        evaluate(str(tokens / "run"), str(tmp_path / "big3"))
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "model.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="model.pt: not a checkpoint seqprep can load"):
        evaluate(str(tmp_path / "junk"), str(tokens / "ids"))
    with pytest.raises(InputError, match="seq holds string tokens; map them to ids with `seqprep encode` first"):
        train(str(tokens / "raw"), str(tmp_path / "x"))
    with pytest.raises(UsageError, match="patience needs val"):
        train(str(tokens / "ids"), str(tmp_path / "x"), patience=2)


def test_cli(cli, tokens):
    result = cli("train", tokens / "ids", tokens / "run", "--epochs", "2", "--hidden", "8", "--embed", "4")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0].startswith("epoch   1  loss ")
    result = cli("evaluate", tokens / "run", tokens / "ids", "--json")
    assert json.loads(result.stdout)["classes"] == ["down", "up"]
    result = cli("predict", tokens / "run", tokens / "ids", tokens / "p.csv")
    assert result.exit_code == 0 and result.stderr.strip() == f"predict: wrote 80 rows to {tokens / 'p.csv'}"
    result = cli("train", tokens / "ids", tokens / "x", "--device", "cuda") if not torch.cuda.is_available() else None
    if result is not None:
        assert result.exit_code == 2 and "no CUDA device is available here" in result.stderr


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_trains_on_cuda(tokens):
    result = train(str(tokens / "ids"), str(tokens / "gpu"), epochs=2, hidden=8, embed=4, device="cuda")
    assert result["device"].startswith("cuda")


def test_segments_model_trains_and_reloads(tokens):
    train(str(tokens / "ids"), str(tokens / "seg"), model="segments", segments=3, epochs=15, hidden=16, embed=8,
          lr=0.02, bidirectional=True)
    ckpt = torch.load(tokens / "seg" / "model.pt", weights_only=True)
    assert ckpt["model"]["kind"] == "segments" and ckpt["model"]["segments"] == 3
    assert evaluate(str(tokens / "seg"), str(tokens / "ids"))["rows"]["accuracy"] > 0.85
    with pytest.raises(UsageError, match="tbptt applies to model lstm"):
        train(str(tokens / "ids"), str(tokens / "x"), model="segments", tbptt=4)
    with pytest.raises(UsageError, match="model='gru' must be one of lstm, segments"):
        train(str(tokens / "ids"), str(tokens / "x"), model="gru")


def test_variable_length_data_as_it_is(tokens, tmp_path):
    encode(str(tokens / "raw"), str(tokens / "var"), stats=str(tokens / "s.json"))  # no --length: lists
    result = train(str(tokens / "var"), str(tokens / "run"), epochs=15, hidden=16, embed=8, lr=0.02, batch_size=8)
    assert result["warnings"] == []
    assert evaluate(str(tokens / "run"), str(tokens / "var"))["rows"]["accuracy"] > 0.9
    ckpt = torch.load(tokens / "run" / "model.pt", weights_only=True)
    assert ckpt["data"]["variable_length"] and ckpt["data"]["length"] == 29
    long = make_dataset(tmp_path / "long", [[1.0] * 600, [2.0] * 3], labels=["a", "b"], seq_type=pa.float32())
    result = train(str(long), str(tmp_path / "lrun"), epochs=1, hidden=4, embed=2)
    assert result["warnings"][0].startswith("sequences of up to 600 steps, used as they are")


def test_length_buckets_group_similar_rows():
    from seqprep.train.data import Arrays
    from seqprep.train.loop import Batcher

    lengths = np.array([5, 1, 9, 2, 8, 1, 7, 3])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    a = Arrays(np.arange(offsets[-1], dtype=np.int64), lengths, np.zeros(8, np.int64), np.arange(8), ["c"], 100,
               "end", offsets=offsets)
    b = Batcher(a, torch.device("cpu"))
    batches = b.order(2, torch.Generator().manual_seed(0))
    assert sorted(len(r) for r in batches) == [2, 2, 2, 2]
    assert sorted(sorted(lengths[r.numpy()].tolist()) for r in batches) == [[1, 1], [2, 3], [5, 7], [8, 9]]
    x, lens, _ = b.batch(torch.tensor([2, 1]))
    assert x.shape == (2, 9) and x[1].tolist() == [5] + [0] * 8 and lens.tolist() == [9, 1]


def test_autoencoder_learns_and_shortens_sequences(tmp_path):
    rng = np.random.default_rng(0)
    t = np.arange(64)
    rows = [np.stack([np.sin(t / 4 + p), np.cos(t / 4 + p)], axis=1).astype(np.float32)[: rng.integers(20, 64)].tolist()
            for p in rng.uniform(0, 6, 60)]
    raw = make_dataset(tmp_path / "raw", rows, labels=[i % 2 for i in range(60)], seq_type=pa.list_(pa.float32(), 2))
    result = train(str(raw), str(tmp_path / "ae"), model="autoencoder", chunk=8, latent=4, epochs=25, hidden=32,
                   embed=16, lr=0.01)
    errors = [r["reconstruction_error"] for r in result["history"]]
    assert errors[-1] < errors[0] / 3
    lines = (tmp_path / "ae" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 25 and "reconstruction_error" in json.loads(lines[0])
    m = encode(str(raw), str(tmp_path / "codes"), autoencoder=str(tmp_path / "ae"))
    codes = read_table(tmp_path / "codes")
    assert codes.schema.field("seq").type == pa.list_(pa.list_(pa.float32(), 4))
    assert [len(r) for r in codes.column("seq").to_pylist()] == [-(-len(r) // 8) for r in rows]  # 8 times shorter
    assert m["encoding"]["chunk"] == 8 and m["encoding"]["latent"] == 4
    again = encode(str(raw), str(tmp_path / "codes2"), autoencoder=str(tmp_path / "ae"), length=5, format="npy")
    assert np.load(tmp_path / "codes2" / "X.npy").shape == (60, 5, 4) and again["rows"] == 60
    # codes feed a classifier like any readings
    train(str(tmp_path / "codes"), str(tmp_path / "clf"), epochs=1, hidden=4, embed=2)
    with pytest.raises(InputError, match="not an autoencoder"):
        encode(str(raw), str(tmp_path / "x"), autoencoder=str(tmp_path / "clf"))
    with pytest.raises(InputError, match="no sequence has 100 steps; use a smaller --chunk"):
        train(str(raw), str(tmp_path / "ae2"), model="autoencoder", chunk=100, latent=2)


def test_one_channel_readings_through_autoencoder_and_compare(tmp_path):
    from seqprep.compare import compare

    rng = np.random.default_rng(0)
    for name, n in (("tr", 40), ("te", 16)):
        y = rng.integers(0, 2, n)
        rows = [(rng.standard_normal(rng.integers(60, 120)) + 2 * label).tolist() for label in y]
        make_dataset(tmp_path / name, rows, labels=[f"c{v}" for v in y], seq_type=pa.float32())
    rows = compare(str(tmp_path / "tr"), str(tmp_path / "te"), length=24, epochs=1, hidden=4, embed=4,
                   techniques=["as-is", "autoencoder", "windows-features", "summarize"])
    assert [r["technique"] for r in rows if not r.get("baseline")] == ["as-is", "autoencoder", "windows-features", "summarize"]
    assert all("accuracy" in r for r in rows)


def test_readings_with_nan_are_refused_with_the_fix(tmp_path):
    """A NaN turns every loss and weight into NaN: train and encode --autoencoder say so instead."""
    rows = [[0.5, float("nan"), 1.0, 2.0] * 4, [1.0] * 10, [0.0, 2.0] * 6]
    raw = make_dataset(tmp_path / "raw", rows, labels=["a", "b", "a"], seq_type=pa.float32())
    for model in ("lstm", "autoencoder"):
        with pytest.raises(InputError, match=r"4 readings are NaN .*encode --normalize"):
            train(str(raw), str(tmp_path / model), model=model, chunk=4, epochs=1)
        assert not (tmp_path / model).exists()
    fit(str(raw), str(tmp_path / "s.json"))
    encode(str(raw), str(tmp_path / "z"), normalize_with=str(tmp_path / "s.json"))
    train(str(tmp_path / "z"), str(tmp_path / "ae"), model="autoencoder", chunk=4, latent=2, epochs=1, hidden=4)
    with pytest.raises(InputError, match="4 readings are NaN"):
        encode(str(raw), str(tmp_path / "codes"), autoencoder=str(tmp_path / "ae"))
    assert not (tmp_path / "codes").exists()


def test_autoencoder_codes_are_the_same_with_workers(tmp_path):
    """encode --autoencoder ships the model to spawned workers: the same bytes as one process."""
    rng = np.random.default_rng(4)
    rows = [rng.standard_normal(int(rng.integers(3, 40))).astype(np.float32).tolist() for _ in range(30)]
    raw = make_dataset(tmp_path / "raw", rows, labels=["a", "b", "c"] * 10, seq_type=pa.float32(), shard_rows=7)
    train(str(raw), str(tmp_path / "ae"), model="autoencoder", chunk=4, latent=2, epochs=1, hidden=4)
    for w in (1, 2):
        encode(str(raw), str(tmp_path / f"codes{w}"), autoencoder=str(tmp_path / "ae"), length=5, workers=w)
    one, two = (sorted((p.name, p.read_bytes()) for p in (tmp_path / f"codes{w}").iterdir()) for w in (1, 2))
    assert len(one) == 6 and one == two


def test_threads_sets_pytorchs_thread_count(cli, tokens, tmp_path):
    before = torch.get_num_threads()
    try:
        result = cli("train", tokens / "ids", tmp_path / "one", "--epochs", "1", "--hidden", "8", "--embed", "4",
                     "--threads", "1")
        assert result.exit_code == 0, result.stderr
        assert torch.get_num_threads() == 1
        result = cli("train", tokens / "ids", tmp_path / "none", "--threads", "0")
        assert result.exit_code == 2 and "--threads 0 must be positive" in result.stderr
    finally:
        torch.set_num_threads(before)
