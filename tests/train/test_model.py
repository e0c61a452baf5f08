"""TBPTT against full back-propagation, on readings whose inputs can hold gradients."""

import pytest

torch = pytest.importorskip("torch")

from seqprep.train.model import LSTMClassifier, ModelConfig, real_steps_first, tbptt_logits  # noqa: E402


def setup(t=12, seed=0):
    torch.manual_seed(seed)
    model = LSTMClassifier(ModelConfig(classes=3, vocab_size=None, channels=2, embed=5, hidden=4))
    x = torch.randn(3, t, 2, requires_grad=True)
    lengths = torch.tensor([t, t - 5, 3])
    return model, x, lengths


def grads(model, x, lengths, k):
    model.zero_grad()
    x.grad = None
    logits = tbptt_logits(model, x, lengths, k) if k else model(x, lengths)
    logits.sum().backward()
    return x.grad.clone(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("k", [12, 20])
def test_chunks_as_long_as_the_sequence_equal_full_bptt(k):
    model, x, lengths = setup()
    full_x, full_p = grads(model, x, lengths, None)
    tb_x, tb_p = grads(model, x, lengths, k)
    torch.testing.assert_close(tb_x, full_x)
    for name in full_p:
        torch.testing.assert_close(tb_p[name], full_p[name])


def test_short_chunks_give_no_gradient_to_earlier_chunks():
    model, x, lengths = setup()
    gx, _ = grads(model, x, lengths, 4)
    # row 0 (12 steps): chunks 0-3, 4-7, 8-11 -> gradient only in 8-11
    assert gx[0, :8].abs().sum() == 0 and gx[0, 8:].abs().sum() > 0
    # row 1 (7 steps): its last chunk is 4-7 -> steps 4, 5, 6 only; padding beyond gets none
    assert gx[1, :4].abs().sum() == 0 and gx[1, 4:7].abs().sum() > 0 and gx[1, 7:].abs().sum() == 0
    # row 2 (3 steps) fits in the first chunk: all its real steps get gradient
    assert gx[2, :3].abs().sum() > 0 and gx[2, 3:].abs().sum() == 0


def test_tbptt_forward_equals_full_forward():
    model, x, lengths = setup()
    with torch.no_grad():
        torch.testing.assert_close(tbptt_logits(model, x, lengths, 5), model(x, lengths))


def test_padding_at_the_start_is_rolled_to_the_end():
    x = torch.tensor([[0, 0, 1, 2], [3, 4, 5, 6]])
    assert real_steps_first(x, torch.tensor([2, 4]), "start").tolist() == [[1, 2, 0, 0], [3, 4, 5, 6]]
    assert real_steps_first(x, torch.tensor([2, 4]), "end").tolist() == x.tolist()


from seqprep.train.model import SegmentsClassifier, build  # noqa: E402


def test_one_segment_is_the_plain_lstm():
    torch.manual_seed(0)
    cfg = ModelConfig(classes=2, vocab_size=None, channels=2, embed=5, hidden=4)
    plain = LSTMClassifier(cfg).eval()
    seg = SegmentsClassifier(ModelConfig(**{**cfg.__dict__, "kind": "segments", "segments": 1})).eval()
    seg.load_state_dict(plain.state_dict())
    x, lengths = torch.randn(3, 9, 2), torch.tensor([9, 4, 1])
    torch.testing.assert_close(seg(x, lengths), plain(x, lengths))


def test_segments_read_their_own_steps():
    torch.manual_seed(0)
    cfg = ModelConfig(classes=2, vocab_size=None, channels=1, embed=3, hidden=4, kind="segments", segments=2)
    model = build(cfg).eval()
    assert isinstance(model, SegmentsClassifier) and model.head.in_features == 8
    x = torch.randn(1, 6, 1, requires_grad=True)
    model(x, torch.tensor([5])).sum().backward()
    assert x.grad[0, :5].abs().min() > 0 and x.grad[0, 5].abs().sum() == 0  # padding untouched
    # each half alone: changing the first half changes the output only through the first segment
    a = model(torch.cat([torch.zeros(1, 3, 1), torch.ones(1, 3, 1)], 1), torch.tensor([6]))
    b = model(torch.cat([torch.ones(1, 3, 1), torch.ones(1, 3, 1)], 1), torch.tensor([6]))
    assert not torch.equal(a, b)
