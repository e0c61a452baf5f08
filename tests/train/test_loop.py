"""The training loop's validation: per id where rows share ids, and the epoch it keeps."""

from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from seqprep.train.data import Arrays  # noqa: E402
from seqprep.train.loop import Batcher, better, validate  # noqa: E402


class Sign(torch.nn.Module):
    """Logits (x, -x) from a row's first reading: class 0 when it is positive."""

    cfg = SimpleNamespace(classes=2)

    def forward(self, x, lengths):
        v = x[:, 0, 0]
        return torch.stack([v, -v], dim=1)


def readings(values, ids, y):
    x = np.array(values, dtype=np.float32).reshape(-1, 1, 1)
    return Arrays(x, np.ones(len(x), np.int64), np.array(y), np.array(ids), ["a", "b"], None, "end")


def test_windows_are_validated_per_id_too():
    # id 1 (class a): one window sure of a, two leaning to b: 1 of 3 rows right, the id right
    # (the mean probability of a is (sigmoid(10) + 2 sigmoid(-0.2)) / 3 = 0.633); id 2 (b) right.
    data = Batcher(readings([5, -0.1, -0.1, -1], [1, 1, 1, 2], [0, 0, 0, 1]), torch.device("cpu"))
    r = validate(Sign(), data, batch_size=3)
    assert r["val_accuracy"] == 0.5 and r["val_macro_f1"] == pytest.approx(0.5)
    assert r["val_accuracy_per_id"] == 1.0 and r["val_macro_f1_per_id"] == 1.0
    rows = Batcher(readings([5, -0.1, -0.1, -1], [1, 2, 3, 4], [0, 0, 0, 1]), torch.device("cpu"))
    assert "val_macro_f1_per_id" not in validate(Sign(), rows, batch_size=3)  # ids do not repeat


def test_the_kept_epoch_is_the_best_per_id_where_ids_repeat():
    a = {"val_macro_f1": 0.9, "val_macro_f1_per_id": 0.7, "val_loss": 1.0}
    b = {"val_macro_f1": 0.6, "val_macro_f1_per_id": 0.8, "val_loss": 2.0}
    assert better(b, a) and not better(a, b)
    assert better({"val_macro_f1": 0.9, "val_loss": 1.0}, {"val_macro_f1": 0.6, "val_loss": 0.5})
    assert better({"val_macro_f1": 0.6, "val_loss": 0.4}, {"val_macro_f1": 0.6, "val_loss": 0.5})
