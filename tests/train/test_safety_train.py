"""Crafted or damaged run directories, checkpoints and NPY exports, through the CLI: each one
gives one line (exit 1 for data, 2 for options), no traceback, no output, and nothing huge is
allocated before refusing."""

import json
import os
import shutil

import numpy as np
import pyarrow as pa
import pytest

torch = pytest.importorskip("torch")

from seqprep.fit import fit  # noqa: E402
from seqprep.steps import encode  # noqa: E402
from seqprep.train import train  # noqa: E402
from seqprep.train.autoencoder import ChunkAutoencoder  # noqa: E402
from seqprep.train.checkpoint import MAX_PARAMETERS, shapes  # noqa: E402
from seqprep.train.model import ModelConfig, build  # noqa: E402

from ..conftest import make_dataset  # noqa: E402


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Token ids as a dataset and as an NPY export, a tiny classifier run and a tiny autoencoder run."""
    w = tmp_path_factory.mktemp("world")
    rng = np.random.default_rng(0)
    rows = [rng.choice(["u", "d", "x"], size=rng.integers(3, 12)).tolist() for _ in range(40)]
    raw = make_dataset(w / "raw", rows, labels=["up" if i % 2 else "down" for i in range(40)])
    fit(str(raw), str(w / "s.json"))
    encode(str(raw), str(w / "ids"), stats=str(w / "s.json"), length=8)
    encode(str(raw), str(w / "npy"), stats=str(w / "s.json"), length=8, format="npy")
    train(str(w / "ids"), str(w / "run"), epochs=1, hidden=4, embed=4)
    train(str(w / "ids"), str(w / "ae"), model="autoencoder", chunk=4, latent=4, epochs=1, hidden=4, embed=4)
    make_dataset(w / "readings", [[0.5, 1.0, 2.0], [1.0, 2.0]], labels=["a", "b"], seq_type=pa.float32())
    train(str(w / "readings"), str(w / "ae-readings"), model="autoencoder", chunk=2, latent=2, epochs=1, hidden=4,
          embed=4)
    return w


def npy(change):
    """A copy of the NPY export, changed by ``change(dir)``."""
    def make(w, c):
        shutil.copytree(w / "npy", c / "npy")
        change(c / "npy")
    return make


def put(name, value):
    return lambda d: np.save(d / name, value) if not isinstance(value, bytes) else (d / name).write_bytes(value)


def meta(**fields):
    def change(d):
        m = json.loads((d / "meta.json").read_text())
        m.update(fields)
        (d / "meta.json").write_text(json.dumps(m))
    return change


def checkpoint(source, change):
    """A copy of run ``source`` whose model.pt (a dict) is changed in place by ``change(ckpt)``."""
    def make(w, c):
        shutil.copytree(w / source, c / source)
        ckpt = torch.load(c / source / "model.pt", weights_only=True)
        change(ckpt)
        torch.save(ckpt, c / source / "model.pt")
    return make


def raw_model(source, write):
    """A copy of run ``source`` whose model.pt is replaced by ``write(path)``."""
    def make(w, c):
        shutil.copytree(w / source, c / source)
        (c / source / "model.pt").unlink()
        write(c / source / "model.pt")
    return make


def cfg(**fields):
    return lambda ckpt: ckpt["model"].update(fields)


def weight(key, value):
    return lambda ckpt: ckpt["state_dict"].__setitem__(key, value)


def nothing(w, c):
    pass


def empty_export(w, c):
    shutil.copytree(w / "npy", c / "npy")
    for name, value in (("X.npy", np.zeros((0, 8), np.int32)), ("y.npy", np.zeros(0, np.int64)),
                        ("lengths.npy", np.zeros(0, np.int32)), ("ids.npy", np.zeros(0, np.int64))):
        np.save(c / "npy" / name, value)
    meta(rows=0)(c / "npy")


def y_of_another_class(d):
    meta(classes=["down", "other", "up"])(d)
    np.save(d / "y.npy", np.array([1] * 40))


# (case id, how to make its inputs under CASE, the command line (IN: the shared inputs, CASE: this case's), exit code,
#  message)
EVAL = "evaluate CASE/run IN/ids"
CASES = [
    # NPY exports whose arrays do not agree
    ("y-short", npy(lambda d: np.save(d / "y.npy", np.load(d / "y.npy")[:3])), "evaluate IN/run CASE/npy", 1,
     "y.npy: shape (3,) of int64, but X.npy has 40 rows (shape (40, 8))"),
    ("y-long", npy(lambda d: np.save(d / "y.npy", np.zeros(41, np.int64))), "evaluate IN/run CASE/npy", 1,
     "y.npy: shape (41,) of int64, but X.npy has 40 rows (shape (40, 8))"),
    ("y-short-train", npy(lambda d: np.save(d / "y.npy", np.load(d / "y.npy")[:3])), "train CASE/npy OUT --epochs 1", 1,
     "y.npy: shape (3,) of int64, but X.npy has 40 rows (shape (40, 8))"),
    ("lengths-2d", npy(put("lengths.npy", np.zeros((40, 2), np.int32))), "evaluate IN/run CASE/npy", 1,
     "lengths.npy: shape (40, 2) of int32, but X.npy has 40 rows (shape (40, 8))"),
    ("ids-short", npy(put("ids.npy", np.arange(5))), "predict IN/run CASE/npy OUT.csv", 1,
     "ids.npy: shape (5,) of int64, but X.npy has 40 rows (shape (40, 8))"),
    ("lengths-too-long", npy(put("lengths.npy", np.full(40, 99, np.int32))), "evaluate IN/run CASE/npy", 1,
     "length 99 is outside 0..8"),
    ("lengths-negative", npy(put("lengths.npy", np.full(40, -2, np.int32))), "evaluate IN/run CASE/npy", 1,
     "length -2 is outside 0..8"),
    ("lengths-float", npy(put("lengths.npy", np.full(40, 2.5))), "evaluate IN/run CASE/npy", 1,
     "lengths.npy: shape (40,) of float64, but X.npy has 40 rows"),
    ("ids-huge", npy(put("ids.npy", np.full(40, 2**64 - 1, np.uint64))), "predict IN/run CASE/npy OUT.csv", 1,
     "ids.npy: value 18446744073709551615 does not fit int64"),
    ("y-beyond-classes", npy(put("y.npy", np.full(40, 5))), "evaluate IN/run CASE/npy", 1,
     "y.npy: class index 5 is outside -1..1 (meta.json lists 2 classes)"),
    ("y-unknown-class", npy(y_of_another_class), "evaluate IN/run CASE/npy", 1,
     "label 'other' (40 rows) is not one of the model's classes"),
    ("x-garbage", npy(put("X.npy", b"\x93NUMPY nonsense")), "evaluate IN/run CASE/npy", 1,
     "X.npy: not a readable .npy file"),
    ("x-1d", npy(put("X.npy", np.zeros(40, np.int32))), "evaluate IN/run CASE/npy", 1,
     "X.npy: int32 of shape (40,), but an export is (N, L) token ids"),
    ("x-rows-vs-meta", npy(meta(rows=41)), "evaluate IN/run CASE/npy", 1, "but meta.json says 41 rows"),
    ("meta-not-json", npy(put("meta.json", b"{nope")), "evaluate IN/run CASE/npy", 1, "meta.json: not a seqprep NPY export's meta.json"),
    ("meta-a-list", npy(put("meta.json", b"[1, 2]")), "evaluate IN/run CASE/npy", 1, "meta.json: not a seqprep NPY export's meta.json"),
    ("lengths-missing", npy(lambda d: (d / "lengths.npy").unlink()), "evaluate IN/run CASE/npy", 1,
     "lengths.npy: cannot be read"),
    ("lengths-a-dir", npy(lambda d: ((d / "lengths.npy").unlink(), (d / "lengths.npy").mkdir())),
     "evaluate IN/run CASE/npy", 1, "lengths.npy: not a regular file"),
    ("vocab-a-string", npy(meta(encoding={"vocab_size": "5"})), "evaluate IN/run CASE/npy", 1,
     "encoding vocab_size='5' must be a positive integer"),
    ("id-beyond-vocab", npy(meta(encoding={"vocab_size": 2})), "train CASE/npy OUT --epochs 1", 1,
     "is beyond the vocabulary size 2 its encoding states"),
    ("classes-duplicated", npy(meta(classes=["up", "up"])), "evaluate IN/run CASE/npy", 1,
     "the class list ['up', 'up'] must be distinct"),
    ("padding-side", npy(meta(padding={"side": "middle"})), "evaluate IN/run CASE/npy", 1,
     "its encoding or padding entry is damaged"),
    ("unlabelled", npy(lambda d: ((d / "y.npy").unlink(), meta(classes=None)(d))), "evaluate IN/run CASE/npy", 1,
     "no labelled rows to score"),
    ("empty", empty_export, "evaluate IN/run CASE/npy", 1, "no rows to score"),
    ("x-no-steps", npy(put("X.npy", np.zeros((40, 0), np.int32))), "train CASE/npy OUT --epochs 1", 1,
     "X.npy: int32 of shape (40, 0)"),
    ("x-infinite", npy(put("X.npy", np.full((40, 8, 1), np.inf, np.float32))), "train CASE/npy OUT --epochs 1", 1,
     "X.npy: 320 readings are infinite"),
    ("val-unlabelled", npy(lambda d: ((d / "y.npy").unlink(), meta(classes=None)(d))),
     "train IN/ids OUT --val CASE/npy --epochs 1", 1, "no labelled rows to validate on"),
    ("val-unknown-class", npy(y_of_another_class), "train IN/ids OUT --val CASE/npy --epochs 1", 1,
     "label 'other' (40 rows) is not one of the model's classes"),
    # model.pt that is no checkpoint at all
    ("pt-empty", raw_model("run", lambda p: p.write_bytes(b"")), EVAL, 1, "model.pt: empty (0 bytes)"),
    ("pt-a-dir", raw_model("run", lambda p: p.mkdir()), EVAL, 1, "model.pt: not a regular file"),
    ("pt-garbage", raw_model("run", lambda p: p.write_bytes(b"not a checkpoint")), EVAL, 1,
     "model.pt: not a checkpoint seqprep can load"),
    ("pt-bare-tensor", raw_model("run", lambda p: torch.save(torch.zeros(3), p)), EVAL, 1,
     "model.pt: holds a Tensor, not a seqprep checkpoint"),
    ("pt-no-model", raw_model("run", lambda p: torch.save({"state_dict": {}}, p)), EVAL, 1,
     "holds a dict without a 'model' config"),
    ("run-missing", nothing, EVAL, 1, "run: no model.pt; train one with"),
    ("run-a-file", nothing, "evaluate IN/s.json IN/ids", 1, "s.json: not a run directory (it is a file)"),
    ("pt-fifo", raw_model("run", lambda p: os.mkfifo(p)), EVAL, 1, "model.pt: not a regular file"),
    # classifier checkpoints whose config or weights are wrong
    ("no-state-dict", checkpoint("run", lambda c: c.pop("state_dict")), EVAL, 1,
     "state_dict is missing or is not a dict of tensors"),
    ("layers-float", checkpoint("run", cfg(layers=1.0)), EVAL, 1, "config layers=1.0 must be an integer"),
    ("hidden-bool", checkpoint("run", cfg(hidden=True)), EVAL, 1, "config hidden=True must be an integer"),
    ("hidden-string", checkpoint("run", cfg(hidden="4")), EVAL, 1, "config hidden='4' must be an integer"),
    ("hidden-zero", checkpoint("run", cfg(hidden=0)), EVAL, 1, "config hidden=0 must be >= 1"),
    ("unknown-field", checkpoint("run", cfg(colour="red")), EVAL, 1, "config has unknown field(s) colour"),
    ("no-classes-field", checkpoint("run", lambda c: c["model"].pop("classes")), EVAL, 1, "config has no classes"),
    ("kind", checkpoint("run", cfg(kind="gru")), EVAL, 1, "config kind='gru' must be one of lstm, segments"),
    ("dropout", checkpoint("run", cfg(dropout=1.5)), EVAL, 1, "config dropout=1.5 must be in [0, 1)"),
    ("layers-huge", checkpoint("run", cfg(layers=10**6)), EVAL, 1, "config layers=1000000, but the checkpoint holds"),
    ("vocab-huge", checkpoint("run", cfg(vocab_size=10**6, embed=1000)), EVAL, 1,
     "the model has 1,000,016,"),
    ("shape-mismatch", checkpoint("run", cfg(hidden=5)), EVAL, 1,
     "weight head.weight is of shape (2, 12), but the config implies (2, 15)"),
    ("extra-weight", checkpoint("run", weight("spare", torch.zeros(2))), EVAL, 1,
     "weight spare is of shape (2,), but the config implies no such weight"),
    ("nan-weight", checkpoint("run", weight("head.bias", torch.full((2,), float("nan")))), EVAL, 1,
     "weight head.bias is not finite"),
    ("int-weight", checkpoint("run", weight("head.bias", torch.zeros(2, dtype=torch.int64))), EVAL, 1,
     "weight head.bias is not finite floating-point"),
    ("classes-short", checkpoint("run", lambda c: c.__setitem__("classes", ["down"])),
     "predict CASE/run IN/ids OUT.csv", 1, "1 classes, but the model has 2 outputs"),
    ("classes-mixed", checkpoint("run", lambda c: c.__setitem__("classes", ["down", 1])),
     "predict CASE/run IN/ids OUT", 1, "must be distinct strings or distinct integers"),
    ("classes-not-a-list", checkpoint("run", lambda c: c.__setitem__("classes", "du")), EVAL, 1,
     "classes of type str, but the model has 2 outputs"),
    ("autoencoder-as-classifier", nothing, "evaluate IN/ae IN/ids", 1, "an autoencoder, not a classifier"),
    # autoencoder checkpoints, through encode --autoencoder
    ("ae-chunk-zero", checkpoint("ae", cfg(chunk=0)), "encode IN/ids OUT --autoencoder CASE/ae", 1,
     "config chunk=0 must be >= 1"),
    ("ae-chunk-huge", checkpoint("ae", cfg(chunk=10**9)), "encode IN/ids OUT --autoencoder CASE/ae", 1,
     "config chunk=1000000000 must be at most"),
    ("ae-chunk-long", checkpoint("ae", cfg(chunk=5000)), "encode IN/ids OUT --autoencoder CASE/ae", 1,
     "config chunk=5000 must be at most 4096"),
    ("ae-vocab-huge", checkpoint("ae", cfg(vocab_size=10**6, embed=1000)), "encode IN/ids OUT --autoencoder CASE/ae",
     1, "the model has 1,"),
    ("ae-latent", checkpoint("ae", cfg(latent=3)), "encode IN/ids OUT --autoencoder CASE/ae", 1,
     "weight decoder.weight_ih_l0 is of shape (16, 4), but the config implies (16, 3)"),
    ("ae-empty", raw_model("ae", lambda p: p.write_bytes(b"")), "encode IN/ids OUT --autoencoder CASE/ae", 1,
     "model.pt: empty (0 bytes)"),
    ("ae-readings-on-ids", nothing, "encode IN/ids OUT --autoencoder IN/ae-readings", 1,
     "the autoencoder was trained on readings, but seq holds token ids"),
    ("readings-on-a-token-model", nothing, "evaluate IN/run IN/readings", 1,
     "holds readings, but the model was trained on token ids"),
    ("ae-classifier", nothing, "encode IN/ids OUT --autoencoder IN/run", 1, "not an autoencoder"),
    # training options that make no sense
    ("lr-negative", nothing, "train IN/ids OUT --lr -1", 2, "--lr -1.0 must be a positive number"),
    ("lr-zero-ae", nothing, "train IN/ids OUT --model autoencoder --lr 0", 2, "--lr 0.0 must be a positive number"),
    ("lr-nan", nothing, "train IN/ids OUT --lr nan", 2, "--lr nan must be a positive number"),
    ("dropout-nan", nothing, "train IN/ids OUT --dropout nan", 2, "--dropout nan must be in [0, 1)"),
    ("dropout-one", nothing, "train IN/ids OUT --dropout 1", 2, "--dropout 1.0 must be in [0, 1)"),
    ("chunk-long", nothing, "train IN/ids OUT --model autoencoder --chunk 5000", 2,
     "--chunk 5000 must be at most 4096"),
    ("model-huge", nothing, "train IN/ids OUT --embed 100000 --hidden 100000", 2,
     "more than seqprep's limit of 268,435,456"),
    ("seed-negative", nothing, "train IN/ids OUT --seed -1", 2, "--seed -1 must be in 0.."),
    ("seed-huge", nothing, "train IN/ids OUT --model autoencoder --seed 100000000000000000000", 2,
     "--seed 100000000000000000000 must be in 0.."),
    ("segments-past-the-rows", nothing, "train IN/ids OUT --model segments --segments 9", 2,
     "--segments 9 is more than the 8 steps of the longest row"),
    ("ae-hidden-zero", nothing, "train IN/ids OUT --model autoencoder --hidden 0", 2, "--hidden 0 must be positive"),
    # the training recipe's options (issue 17), each at and past its edge
    ("conv-huge", nothing, "train IN/ids OUT --conv 100000000000000000000", 2,
     "--conv 100,000,000,000,000,000,000 must be at most 1,048,576"),
    ("conv-past-the-rows", nothing, "train IN/ids OUT --conv 9", 2, "--conv 9 is more than the 8 steps of the longest row"),
    ("conv-stride-past-kernel", nothing, "train IN/ids OUT --conv 3 --conv-stride 4", 2,
     "--conv-stride 4 must be at most --conv 3: a larger stride skips steps"),
    ("conv-with-tbptt", nothing, "train IN/ids OUT --conv 3 --tbptt 4", 2, "--conv applies to --model lstm without --tbptt"),
    ("batch-huge", nothing, "train IN/ids OUT --batch-size 100000000000000000000", 2,
     "--batch-size 100,000,000,000,000,000,000 must be at most 2,147,483,647"),
    ("lr-huge", nothing, "train IN/ids OUT --lr 1e38", 2, "--lr 1e+38 must be at most 100"),
    ("weight-decay-huge", nothing, "train IN/ids OUT --weight-decay 1e7", 2,
     "--weight-decay 10000000.0 must be a number from 0 to 1e6"),
    ("val-and-fraction", nothing, "train IN/ids OUT --val IN/ids --val-fraction 0.2", 2,
     "give --val (a validation split) or --val-fraction (one carved from DATA), not both"),
    ("val-fraction-one", nothing, "train IN/ids OUT --val-fraction 1", 2, "--val-fraction 1.0 must be between 0 and 1"),
    ("ae-recipe", nothing, "train IN/ids OUT --model autoencoder --val-fraction 0.2 --pool max --balance", 2,
     "--val-fraction, --pool, --balance apply to the classifier (--model lstm or segments), not to --model autoencoder"),
    ("tbptt-loss-alone", nothing, "train IN/ids OUT --tbptt-loss every", 2, "--tbptt-loss applies with --tbptt K"),
    ("pool-bogus", nothing, "train IN/ids OUT --pool bogus", 2, "bogus"),
    # the step budget (issue 18)
    ("budget-steps-zero", nothing, "train IN/ids OUT --budget-steps 0", 2, "--budget-steps 0 must be a positive whole"),
    ("budget-steps-word", nothing, "train IN/ids OUT --budget-steps lots", 2,
     "--budget-steps lots must be a positive whole number, e.g. 2000000, 500k, 2M or 1.5G"),
    ("budget-steps-fraction", nothing, "train IN/ids OUT --budget-steps 1.5", 2, "--budget-steps 1.5 must be"),
    ("budget-steps-huge", nothing, "train IN/ids OUT --budget-steps 1e30", 2, "--budget-steps 1e30 is too large"),
    ("compare-budget-nan", nothing, "compare IN/ids IN/ids --budget nanM", 2, "--budget nanM must be"),
    ("compare-repeats-zero", nothing, "compare IN/ids IN/ids --repeats 0", 2, "--repeats 0 must be positive"),
    ("compare-vocab-zero", nothing, "compare IN/ids IN/ids --max-vocab 0", 2, "--max-vocab 0 must be positive"),
]


def test_the_matrix_is_big_enough():
    assert len(CASES) >= 25


@pytest.mark.parametrize("name, make, line, code, message", CASES, ids=[c[0] for c in CASES])
def test_refused_with_one_line(cli, world, tmp_path, name, make, line, code, message):
    case = tmp_path / "case"
    case.mkdir()
    make(world, case)
    out = tmp_path / "out"
    args = [a.replace("IN/", f"{world}/").replace("CASE/", f"{case}/").replace("OUT", str(out)) for a in line.split()]
    result = cli(*args)
    assert result.exit_code == code, result.stderr + str(result.exception)
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("Error: ") and "Traceback" not in err, err
    assert message in err, err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("out")]  # nothing written, not even a CSV
    assert not [p for p in tmp_path.rglob("*") if "seqprep-tmp" in p.name]


@pytest.mark.parametrize("config", [
    ModelConfig(classes=3, vocab_size=7, embed=5, hidden=4, layers=2, bidirectional=True, dropout=0.1),
    ModelConfig(classes=2, vocab_size=None, channels=3, embed=5, hidden=6, kind="segments", segments=3),
])
def test_meta_shapes_are_the_real_models(config):
    """The shapes compared with a checkpoint's are those of the model build() makes."""
    real = {k: tuple(v.shape) for k, v in build(config).state_dict().items()}
    assert shapes(config, build, "x") == real


def test_meta_shapes_allocate_nothing():
    from seqprep.train.autoencoder import AutoencoderConfig

    big = AutoencoderConfig(chunk=4, latent=4, vocab_size=MAX_PARAMETERS // 64, embed=32, hidden=4)
    assert shapes(big, ChunkAutoencoder, "x")["inp.weight"] == (MAX_PARAMETERS // 64, 32)  # 1 GiB, never allocated


def test_a_good_run_still_scores(cli, world):
    result = cli("evaluate", world / "run", world / "npy", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["rows"]["rows"] == 40


def test_chunks_gathered_in_passes_are_the_chunks():
    """encode --autoencoder gathers chunks a bounded number at a time: the same chunks as all at once."""
    from seqprep.train.autoencoder import chunk_index, chunk_rows, gather_chunks

    lengths = np.array([5, 0, 9, 1, 12])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    values = np.arange(1, lengths.sum() + 1)
    whole, per_row = chunk_rows(values, lengths, starts, 4, partial=True)
    row, k, _ = chunk_index(lengths, 4, partial=True)
    passes = np.concatenate([gather_chunks(values, lengths, starts, row[i:i + 2], k[i:i + 2], 4)
                             for i in range(0, len(row), 2)])
    assert per_row.tolist() == [2, 0, 3, 1, 3] and np.array_equal(passes, whole)
    assert whole[0].tolist() == [1, 2, 3, 4] and whole[1].tolist() == [5, 0, 0, 0]
