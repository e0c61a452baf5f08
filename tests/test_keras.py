"""seqprep.keras: SequenceBatches in Keras 3's own fit loop (on the torch backend)."""

import os

import numpy as np
import pyarrow as pa
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
pytest.importorskip("torch")

from seqprep.keras import SequenceBatches  # noqa: E402
from seqprep.steps import Padding, truncate  # noqa: E402

from .conftest import make_dataset  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # keras' own


@pytest.fixture
def ds(tmp_path):
    seqs = [[i + 1] * (i % 4 + 1) for i in range(10)]
    return str(make_dataset(tmp_path / "ds", seqs, labels=["ab"[i % 2] for i in range(10)], seq_type=pa.int32(),
                            shard_rows=3))


def test_batches_span_shards_and_pad_to_the_longest(ds):
    data = SequenceBatches(ds, batch_size=4)
    assert len(data) == 3 and data.classes == ["a", "b"]
    X, y = data[0]
    assert X.tolist() == [[0, 0, 0, 1], [0, 0, 2, 2], [0, 3, 3, 3], [4, 4, 4, 4]] and y.tolist() == [0, 1, 0, 1]
    X, y = data[2]
    assert X.tolist() == [[0, 9], [10, 10]] and y.tolist() == [0, 1]
    X, _ = SequenceBatches(ds, batch_size=4, length=2, side="end")[0]
    assert X.tolist() == [[1, 0], [2, 2], [3, 3], [4, 4]]
    with pytest.raises(IndexError):
        data[3]


def test_shuffle_orders_batches_per_epoch(ds):
    data = SequenceBatches(ds, batch_size=2, shuffle=True, seed=1)
    first = [data[i][1].tolist() + data[i][0][:, -1].tolist() for i in range(len(data))]
    orders = {tuple(map(tuple, first))}
    for epoch in range(3):
        data.on_epoch_end()
        orders.add(tuple(tuple(data[i][1].tolist() + data[i][0][:, -1].tolist()) for i in range(len(data))))
    assert len(orders) > 1
    again = SequenceBatches(ds, batch_size=2, shuffle=True, seed=1)
    assert [again[i][1].tolist() + again[i][0][:, -1].tolist() for i in range(len(again))] == first


def test_npy_export(ds, tmp_path):
    truncate(ds, str(tmp_path / "npy"), length=4, padding=Padding(side="start"), format="npy")
    X, y = SequenceBatches(str(tmp_path / "npy"), batch_size=4)[0]
    assert X.tolist() == [[0, 0, 0, 1], [0, 0, 2, 2], [0, 3, 3, 3], [4, 4, 4, 4]] and y.tolist() == [0, 1, 0, 1]


def test_keras_fit_learns_from_it(tmp_path):
    rng = np.random.default_rng(0)
    seqs = [(rng.integers(1, 5, int(rng.integers(3, 10))) + 4 * (i % 2)).tolist() for i in range(200)]
    path = str(make_dataset(tmp_path / "d", seqs, labels=[i % 2 for i in range(200)], seq_type=pa.int32(),
                            shard_rows=64))
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Embedding(9, 8), keras.layers.LSTM(16), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(SequenceBatches(path, batch_size=16, shuffle=True), epochs=4, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.3 < losses[0]
