"""train under torchrun: 2 CPU processes on the gloo backend, on loopback."""

import json
import socket
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from seqprep.errors import UsageError  # noqa: E402
from seqprep.fit import fit  # noqa: E402
from seqprep.steps import encode  # noqa: E402
from seqprep.train import train  # noqa: E402
from seqprep.train.distributed import World, share  # noqa: E402
from seqprep.train.run import load_run  # noqa: E402

from ..conftest import make_dataset  # noqa: E402


def test_share_gives_every_process_the_same_count():
    batches = list(range(5))
    assert share(batches, World(0, 2)) == [0, 2, 4]
    assert share(batches, World(1, 2)) == [1, 3, 0]  # wraps round: both processes take 3 steps
    assert share(batches, World(2, 3)) == [2, 0]
    assert share(batches, World()) == batches
    assert share([], World(1, 2)) == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(n: int, *args: str):
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={n}",
                           "--master_addr=127.0.0.1", f"--master_port={free_port()}", "-m", "seqprep", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def ids(tmp_path):
    rng = np.random.default_rng(0)
    rows = [rng.choice(["u", "d", "x"], size=12).tolist() for _ in range(64)]
    labels = ["up" if r.count("u") > r.count("d") else "down" for r in rows]
    raw = make_dataset(tmp_path / "raw", rows, labels=labels)
    fit(str(raw), str(tmp_path / "s.json"))
    encode(str(raw), str(tmp_path / "ids"), stats=str(tmp_path / "s.json"), length=12)
    return tmp_path


def test_two_processes_with_batch_b_train_like_one_with_batch_2b(ids):
    """Each step averages the gradients of the two processes' batches (DDP): the weights match
    a one-process run with batches twice as big, validation figures included, and process 0
    alone wrote RUN."""
    r = torchrun(2, "train", str(ids / "ids"), str(ids / "ddp"), "--val", str(ids / "ids"), "--epochs", "3", "--batch-size", "8",
                 "--hidden", "8", "--embed", "4", "--lr", "0.01", "--device", "cpu", "--seed", "3")
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stderr.count("train: 3 epochs on cpu x 2 processes") == 1
    train(str(ids / "ids"), str(ids / "one"), val=str(ids / "ids"), epochs=3, batch_size=16, hidden=8, embed=4, lr=0.01, device="cpu", seed=3)
    ddp, _ = load_run(str(ids / "ddp"))
    one, _ = load_run(str(ids / "one"))
    for (name, a), b in zip(ddp.state_dict().items(), one.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)
    history = [json.loads(line) for line in (ids / "ddp" / "metrics.jsonl").read_text().splitlines()]
    alone = [json.loads(line) for line in (ids / "one" / "metrics.jsonl").read_text().splitlines()]
    assert [round(h["loss"], 5) for h in history] == [round(h["loss"], 5) for h in alone]
    # validation is split between the processes and summed: the same figures as one process
    assert [round(h["val_loss"], 5) for h in history] == [round(h["val_loss"], 5) for h in alone]
    assert [h["val_accuracy"] for h in history] == [h["val_accuracy"] for h in alone]
    assert sorted(p.name for p in ids.iterdir() if p.name.startswith((".ddp", "ddp"))) == ["ddp"]


def test_autoencoder_refuses_torchrun(ids, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(UsageError, match="without torchrun"):
        train(str(ids / "ids"), str(ids / "ae"), model="autoencoder")
