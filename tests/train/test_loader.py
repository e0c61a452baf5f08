"""seqprep.torch: SequenceDataset over datasets and NPY exports, in plain PyTorch code."""

import re

import numpy as np
import pyarrow as pa
import pytest

torch = pytest.importorskip("torch")

from torch.utils.data import DataLoader  # noqa: E402

from seqprep.errors import InputError  # noqa: E402
from seqprep.steps import Padding, truncate  # noqa: E402
from seqprep.torch import SequenceDataset, pad_collate  # noqa: E402

from ..conftest import make_dataset  # noqa: E402

SEQS = [[i % 7 + 1] * (i % 5) for i in range(23)]  # lengths 0..4, token = row % 7 + 1
LABELS = ["b" if i % 3 else "a" for i in range(23)]


@pytest.fixture
def ds(tmp_path):
    return str(make_dataset(tmp_path / "ds", SEQS, labels=LABELS, seq_type=pa.int32(), shard_rows=4))


def rows_of(data) -> list:
    return [(x.tolist(), n, y) for x, n, y in data]


def expected() -> list:
    return [(s, len(s), 0 if label == "a" else 1) for s, label in zip(SEQS, LABELS)]


def test_rows_in_order(ds):
    data = SequenceDataset(ds)
    assert data.classes == ["a", "b"]
    assert rows_of(data) == expected()
    x, _, _ = next(iter(data))
    assert x.dtype == torch.int64


def test_workers_and_ranks_read_each_row_once(ds):
    seen = []
    for rank in range(2):
        data = SequenceDataset(ds, rank=rank, world_size=2)
        for X, lengths, y in DataLoader(data, batch_size=3, collate_fn=pad_collate, num_workers=2):
            for row, n, label in zip(X.tolist(), lengths.tolist(), y.tolist()):
                seen.append((row[:n], n, label))
    assert sorted(seen) == sorted(expected())


def test_shuffle_is_seeded_per_epoch(ds):
    data = SequenceDataset(ds, shuffle=True, seed=3, buffer_size=5)
    first = rows_of(data)
    assert rows_of(data) == first  # same seed, same epoch
    data.set_epoch(1)
    second = rows_of(data)
    assert second != first
    assert sorted(first) == sorted(second) == sorted(expected())
    assert rows_of(SequenceDataset(ds, shuffle=True, seed=4, buffer_size=5)) != first


def test_padded_data_gives_real_steps(ds, tmp_path):
    for side in ("start", "end"):
        out = str(tmp_path / side)
        truncate(ds, out, length=3, padding=Padding(side=side))
        assert rows_of(SequenceDataset(out)) == [(s[-3:], min(len(s), 3), y) for s, _, y in expected()]


def test_npy_export(ds, tmp_path):
    out = tmp_path / "npy"
    truncate(ds, str(out), length=4, padding=Padding(side="start"), format="npy")
    assert rows_of(SequenceDataset(str(out))) == expected()
    np.save(out / "y.npy", np.zeros(5, np.int64))
    with pytest.raises(InputError, match=r"y.npy: shape \(5,\) of int64, but X.npy has 23 rows"):
        SequenceDataset(str(out))


def test_readings_and_channels(tmp_path):
    make_dataset(tmp_path / "r", [[[0.5, 1.0], [2.0, 3.0]], [[4.0, 5.0]]], labels=[1, 0],
                 seq_type=pa.list_(pa.float32(), 2))
    data = SequenceDataset(str(tmp_path / "r"))
    assert data.classes == [0, 1]
    X, lengths, y = pad_collate(list(data))
    assert X.dtype == torch.float32 and X.shape == (2, 2, 2)
    assert X.tolist() == [[[0.5, 1.0], [2.0, 3.0]], [[4.0, 5.0], [0.0, 0.0]]]
    assert lengths.tolist() == [2, 1] and y.tolist() == [1, 0]


def test_string_tokens_are_refused(tmp_path):
    make_dataset(tmp_path / "s", [["a", "b"]])
    with pytest.raises(InputError, match="seq holds string tokens; map them to ids with `seqprep encode` first"):
        list(SequenceDataset(str(tmp_path / "s")))


def test_pad_collate_at_the_start():
    batch = [(torch.tensor([1, 2]), 2, 0), (torch.tensor([3]), 1, 1), (torch.zeros(0, dtype=torch.int64), 0, 1)]
    X, lengths, y = pad_collate(batch, side="start", value=9)
    assert X.tolist() == [[1, 2], [9, 3], [9, 9]]
    assert lengths.tolist() == [2, 1, 0] and y.tolist() == [0, 1, 1]


def test_a_plain_pytorch_loop_learns_from_it(tmp_path):
    """The loader in the training code users write themselves: an LSTM over packed sequences."""
    rng = np.random.default_rng(0)
    seqs, labels = [], []
    for i in range(200):
        label = i % 2
        n = int(rng.integers(3, 12))
        seqs.append((rng.integers(1, 5, n) + 4 * label).tolist())  # class 1 uses tokens 5..8
        labels.append(label)
    path = str(make_dataset(tmp_path / "d", seqs, labels=labels, seq_type=pa.int32(), shard_rows=50))
    torch.manual_seed(0)
    embed, lstm, head = torch.nn.Embedding(9, 8), torch.nn.LSTM(8, 16, batch_first=True), torch.nn.Linear(16, 2)
    params = [*embed.parameters(), *lstm.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=0.01)
    data = SequenceDataset(path, shuffle=True, seed=0)
    losses = []
    for epoch in range(5):
        data.set_epoch(epoch)
        total = 0.0
        for X, lengths, y in DataLoader(data, batch_size=16, collate_fn=pad_collate):
            packed = torch.nn.utils.rnn.pack_padded_sequence(embed(X), lengths, batch_first=True, enforce_sorted=False)
            _, (h, _) = lstm(packed)
            loss = torch.nn.functional.cross_entropy(head(h[-1]), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(y)
        losses.append(total / 200)
    assert losses[-1] < 0.2 < losses[0]


def test_shards_are_read_with_every_command_s_checks(ds, tmp_path):
    import pyarrow.parquet as pq

    shard = sorted(p for p in __import__("pathlib").Path(ds).iterdir() if p.suffix == ".parquet")[1]
    table = pq.read_table(shard)
    pq.write_table(table.slice(0, 2), shard)  # a shard cut short after the manifest was written
    with pytest.raises(InputError, match=r"part-00001.parquet: .* the shard changed after it was written"):
        rows_of(SequenceDataset(ds))
    shard.write_bytes(b"PAR1 not parquet")
    with pytest.raises(InputError, match="16 bytes, but _seqprep.json says"):
        rows_of(SequenceDataset(ds))


@pytest.mark.parametrize("kwargs, message", [
    (dict(world_size=0, rank=0), "world_size=0 must be >= 1"),
    (dict(world_size=2, rank=5), "rank=5, world_size=2: give both, with 0 <= rank < world_size"),
    (dict(world_size=2, rank=-1), "rank=-1 must be >= 0"),
    (dict(world_size=2), "give both"),
    (dict(classes="c0"), "classes='c0' must be a list"),
    (dict(buffer_size=1.5), "buffer_size=1.5 must be an integer"),
])
def test_options_are_checked(ds, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        SequenceDataset(ds, **kwargs)


def test_values_are_checked_as_train_checks_them(tmp_path):
    bad = make_dataset(tmp_path / "neg", [[1, -2, 3]], labels=["a"], seq_type=pa.int32())
    with pytest.raises(InputError, match="token id -2 is negative"):
        rows_of(SequenceDataset(str(bad)))
    nan = make_dataset(tmp_path / "nan", [[1.0, float("nan")]], labels=["a"], seq_type=pa.float32())
    with pytest.raises(InputError, match="1 readings are NaN"):
        rows_of(SequenceDataset(str(nan)))
