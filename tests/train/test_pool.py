"""Pooling over time, the convolutional front-end and TBPTT's per-chunk loss: padded steps
never count, TBPTT's forward pass is the full one, and every chunk's loss reaches its chunk."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from seqprep.train.data import Arrays, carve  # noqa: E402
from seqprep.train.loop import class_weights, lr_factor  # noqa: E402
from seqprep.train.model import LSTMClassifier, ModelConfig, pool, tbptt_every, tbptt_logits  # noqa: E402


def model_of(**kw):
    torch.manual_seed(0)
    return LSTMClassifier(ModelConfig(classes=3, vocab_size=None, channels=2, embed=5, hidden=4, **kw))


def test_pool_reads_only_the_real_steps():
    out = torch.tensor([[[1.0], [3.0], [100.0]], [[-2.0], [-4.0], [-8.0]], [[7.0], [7.0], [7.0]]])  # (3, 3, 1)
    lengths = torch.tensor([2, 3, 0])
    assert pool(out, lengths, "last").flatten().tolist() == [3.0, -8.0, 7.0]  # empty row: step 0
    assert pool(out, lengths, "mean").flatten().tolist() == [2.0, pytest.approx(-14 / 3), 0.0]
    assert pool(out, lengths, "max").flatten().tolist() == [3.0, -2.0, 0.0]
    assert pool(out, lengths, "concat").tolist() == [[3.0, 2.0, 3.0], [-8.0, pytest.approx(-14 / 3), -2.0],
                                                    [7.0, 0.0, 0.0]]


@pytest.mark.parametrize("kw", [{"pool": p} for p in ("last", "mean", "max", "concat")]
                         + [{"pool": "mean", "conv": 4, "conv_stride": 2}, {"pool": "concat", "conv": 5, "conv_stride": 3},
                            {"pool": "concat", "bidirectional": True}])
def test_more_padding_changes_nothing(kw):
    model = model_of(**kw).eval()
    x = torch.randn(2, 9, 2)
    lengths = torch.tensor([9, 5])
    x[1, 5:] = torch.randn(4, 2) * 50
    wider = torch.cat([x, torch.randn(2, 6, 2) * 50], dim=1)  # padding after the real steps, any values
    with torch.no_grad():
        torch.testing.assert_close(model(wider, lengths), model(x, lengths))


@pytest.mark.parametrize("how", ["last", "mean", "max", "concat"])
def test_tbptt_forward_equals_the_full_forward_for_every_pool(how):
    model = model_of(pool=how).eval()
    x = torch.randn(3, 11, 2)
    lengths = torch.tensor([11, 6, 2])
    with torch.no_grad():
        full = model(x, lengths)
        torch.testing.assert_close(tbptt_logits(model, x, lengths, 4), full)
    target = torch.tensor([0, 2, 1])
    logits, loss = tbptt_every(model, x, lengths, 4, target)
    torch.testing.assert_close(logits, full)
    assert loss > 0


def test_every_chunk_loss_reaches_every_chunk():
    model = model_of(pool="last")
    x = torch.randn(1, 12, 2, requires_grad=True)
    tbptt_every(model, x, torch.tensor([12]), 4, torch.tensor([1]))
    # each chunk's own loss back-propagates into its own steps (not across the detached state)
    assert all(x.grad[0, s:s + 4].abs().sum() > 0 for s in (0, 4, 8))
    x.grad = None
    tbptt_logits(model, x, torch.tensor([12]), 4).sum().backward()
    assert x.grad[0, :8].abs().sum() == 0 and x.grad[0, 8:].abs().sum() > 0  # "last": only the last chunk


def test_conv_front_shortens_the_sequence_by_its_stride():
    model = model_of(conv=4, conv_stride=2)
    e, lengths = model.embed(torch.randn(2, 10, 2), torch.tensor([10, 3]))
    assert e.shape == (2, 5, 5) and lengths.tolist() == [5, 2]
    assert e[1, 2:].abs().sum() == 0  # past the real steps: zeros


def test_schedule_warms_up_then_decays_to_zero():
    assert [lr_factor(s, 10, 2, "cosine") for s in (0, 1)] == [0.5, 1.0]
    assert lr_factor(2, 10, 2, "cosine") == 1.0 and lr_factor(6, 10, 2, "cosine") == pytest.approx(0.5)
    assert lr_factor(10, 10, 2, "cosine") == pytest.approx(0.0)
    assert lr_factor(7, 10, 2, "constant") == 1.0


def test_balanced_class_weights():
    w = class_weights(np.array([0, 0, 0, 1, -1]), 3, torch.device("cpu"))
    assert w.tolist() == [pytest.approx(4 / 6), 2.0, 0.0]  # n / (present classes x rows); absent: 0


def arrays(ids, y):
    n = len(ids)
    return Arrays(np.arange(n * 2, dtype=np.int64).reshape(n, 2) + 2, np.full(n, 2), np.array(y), np.array(ids),
                  ["a", "b"], 100, "end")


def test_val_fraction_is_stratified_by_id_and_seeded():
    # ids 0..9 of class 0, 10..19 of class 1; each id has two rows (windows of one sequence)
    ids = np.repeat(np.arange(20), 2)
    y = (ids >= 10).astype(np.int64)
    train, val = carve(arrays(ids, y), 0.2, seed=3)
    assert len(val.ids) == 8 and len(train.ids) == 32  # 2 ids per class, both rows of each
    assert set(val.ids.tolist()).isdisjoint(train.ids.tolist())
    assert np.bincount(val.y).tolist() == [4, 4]
    again, val2 = carve(arrays(ids, y), 0.2, seed=3)
    assert val2.ids.tolist() == val.ids.tolist()
    assert carve(arrays(ids, y), 0.2, seed=4)[1].ids.tolist() != val.ids.tolist()
    # rows keep their own values
    assert (val.x[:, 0] == val.x[:, 1] - 1).all()


def test_val_fraction_ragged_rows_and_a_class_of_one():
    a = Arrays(np.arange(10, dtype=np.int64) + 2, np.array([3, 0, 4, 3]), np.array([0, 0, 0, 1]),
               np.array([7, 8, 9, 10]), ["a", "b"], 100, "end", offsets=np.array([0, 3, 3, 7, 10]))
    train, val = carve(a, 0.34, seed=0)
    assert 10 in train.ids.tolist()  # a class of one sequence is never held out
    rows = {int(i): train.x[train.offsets[k]:train.offsets[k + 1]].tolist() for k, i in enumerate(train.ids)}
    rows.update({int(i): val.x[val.offsets[k]:val.offsets[k + 1]].tolist() for k, i in enumerate(val.ids)})
    assert rows == {7: [2, 3, 4], 8: [], 9: [5, 6, 7, 8], 10: [9, 10, 11]}
    assert len(val.ids) == 1


def test_a_diverged_run_is_an_error_not_a_model():
    from seqprep.errors import SeqprepError
    from seqprep.train.loop import TrainConfig, fit

    model = model_of()
    with torch.no_grad():
        model.head.bias.fill_(float("nan"))  # as a run whose loss went to NaN
    rng = np.random.default_rng(0)
    a = Arrays(rng.standard_normal((8, 5, 2)).astype(np.float32), np.full(8, 5), np.arange(8) % 3, np.arange(8),
               ["a", "b", "c"], None, "end")
    with pytest.raises(SeqprepError, match="training diverged: the loss is not finite at epoch 1; lower --lr"):
        fit(model, a, None, TrainConfig(epochs=2, batch_size=4), torch.device("cpu"))
