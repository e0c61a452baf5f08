"""The LSTM classifier. Shapes in comments: B batch, T steps, C channels, E embedding,
H hidden, D directions (1 or 2), P pooled vectors (1, or 3 for concat), K classes."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..options import Pool, values

POOLS = values(Pool)


@dataclass(frozen=True)
class ModelConfig:
    classes: int
    vocab_size: int | None  # token ids go through an embedding; None: readings through a linear layer
    channels: int = 1
    embed: int = 64
    hidden: int = 128
    layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    kind: str = "lstm"  # or "segments"
    segments: int = 1
    pool: str = "last"  # how the outputs over the real steps become one vector: last, mean, max, concat
    input_dropout: float = 0.0  # on the embedded steps
    conv: int | None = None  # a convolutional front-end: kernel size (None: none)
    conv_stride: int = 1  # ... and the stride it shortens the sequence by

    @property
    def pooled(self) -> int:
        return 3 if self.pool == "concat" else 1


class LSTMClassifier(nn.Module):
    """Rows come with their real steps first (see real_steps_first). The LSTM's outputs over
    each row's real steps are pooled (the last one, their mean, their max, or all three side by
    side as ULMFiT's concat pooling), so the padding after them changes nothing; no packed
    sequences, which PyTorch runs very slowly on the CPU for long sequences. --bidirectional
    adds a second LSTM stack that reads each row's real steps reversed. --conv K puts a stack
    of 1-D convolutions in front that shortens the sequence by its stride (as LSTM-FCN's
    convolutional features, Karim et al. 2017, but feeding the LSTM)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        if cfg.vocab_size is not None:
            self.inp = nn.Embedding(cfg.vocab_size, cfg.embed, padding_idx=0)
        else:
            self.inp = nn.Linear(cfg.channels, cfg.embed)
        self.in_drop = nn.Dropout(cfg.input_dropout)
        self.conv = ConvFront(cfg.embed, cfg.conv, cfg.conv_stride) if cfg.conv else None
        between = cfg.dropout if cfg.layers > 1 else 0.0
        self.lstm = nn.LSTM(cfg.embed, cfg.hidden, cfg.layers, batch_first=True, dropout=between)
        self.back = nn.LSTM(cfg.embed, cfg.hidden, cfg.layers, batch_first=True, dropout=between) \
            if cfg.bidirectional else None
        self.drop = nn.Dropout(cfg.dropout)
        width = cfg.hidden * (2 if cfg.bidirectional else 1) * cfg.pooled * cfg.segments
        self.head = nn.Linear(width, cfg.classes)

    def embed(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T) ids or (B, T, C) readings -> (B, T', E) and the real steps of each (T' < T
        through a convolutional front-end)."""
        e = self.in_drop(self.inp(x))
        if self.conv is not None:
            e, lengths = self.conv(e, lengths)
        return e, lengths

    def features(self, e: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, T, E) real steps first -> (B, D * P * H): the outputs over each row's real steps,
        pooled (and, bidirectional, the reversed reading's)."""
        out = pool(self.lstm(e)[0], lengths, self.cfg.pool)
        if self.back is not None:
            out = torch.cat([out, pool(self.back(reversed_real(e, lengths))[0], lengths, self.cfg.pool)], dim=1)
        return out

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(features))  # (B, D * P * H * segments) -> (B, K)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        e, lengths = self.embed(x, lengths)
        return self.classify(self.features(e, lengths))


class ConvFront(nn.Module):
    """Two 1-D convolutions (kernel K with stride S, then kernel 3), each with a ReLU: (B, T, E)
    -> (B, ceil(T / S), E). Steps past a row's real ones are zeroed first, so a row's result
    does not depend on how much padding it was given; its real length becomes ceil(L / S)."""

    def __init__(self, width: int, kernel: int, stride: int):
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.first = nn.Conv1d(width, width, kernel, stride=stride)
        self.second = nn.Conv1d(width, width, 3, padding=1)

    def forward(self, e: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        steps = torch.arange(e.shape[1], device=e.device)[None, :]
        e = e * (steps < lengths[:, None]).unsqueeze(2).to(e.dtype)
        # Zeros before (half a kernel) and after (a kernel): output step p reads steps from
        # p * S - (K - 1) // 2 on, so a row's first ceil(L / S) outputs are there whatever T is.
        t_out = -(-e.shape[1] // self.stride)
        h = nn.functional.pad(e.transpose(1, 2), ((self.kernel - 1) // 2, self.kernel))
        h = torch.relu(self.first(h))[:, :, :t_out]  # (B, E, ceil(T / S))
        shorter = torch.div(lengths + self.stride - 1, self.stride, rounding_mode="floor")
        mask = (torch.arange(h.shape[2], device=e.device)[None, :] < shorter[:, None]).unsqueeze(1).to(h.dtype)
        h = torch.relu(self.second(h * mask)) * mask
        return h.transpose(1, 2), shorter


def pool(out: torch.Tensor, lengths: torch.Tensor, how: str) -> torch.Tensor:
    """out (B, T, H), real steps first -> (B, P * H): the output at the last real step, the
    mean or the max over the real steps, or those three side by side ("concat"). A row with no
    real steps gives step 0's output (last) or zeros (mean, max)."""
    if how == "last":
        return at_last_step(out, lengths)
    real = torch.arange(out.shape[1], device=out.device)[None, :] < lengths[:, None]  # (B, T)
    mask = real.unsqueeze(2).to(out.dtype)
    mean = (out * mask).sum(1) / lengths.clamp(min=1)[:, None].to(out.dtype)
    if how == "mean":
        return mean
    top = out.masked_fill(~real.unsqueeze(2), float("-inf")).amax(1)
    top = torch.where(lengths[:, None] > 0, top, torch.zeros_like(top))
    if how == "max":
        return top
    return torch.cat([at_last_step(out, lengths), mean, top], dim=1)


def at_last_step(out: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """out (B, T, H) -> (B, H): each row's output at its last real step (step 0 if empty)."""
    return out[torch.arange(out.shape[0], device=out.device), (lengths.clamp(min=1) - 1).clamp(max=out.shape[1] - 1)]


def reversed_real(e: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each row's real steps in reverse order, still first; the padding stays after them."""
    t = e.shape[1]
    steps = torch.arange(t, device=e.device)[None, :]
    index = torch.where(steps < lengths[:, None], lengths[:, None] - 1 - steps, steps)  # (B, T)
    return torch.gather(e, 1, index[:, :, None].expand(-1, -1, e.shape[2]))


class SegmentsClassifier(LSTMClassifier):
    """One LSTM per segment: each sequence's real steps cut into K equal segments, all read by
    the same LSTM in one batch (both ways with --bidirectional); their final states, side by
    side, feed the classifier. K = 2 is the "one LSTM per half, merged" idea."""

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        e, lengths = self.embed(x, lengths)  # (B, T, E), real steps first
        b, t = e.shape[0], e.shape[1]
        k = self.cfg.segments
        s = -(-t // k)  # the longest a segment can be
        ks = torch.arange(k, device=e.device)
        start = ks[None, :] * lengths[:, None] // k  # (B, K)
        size = (ks[None, :] + 1) * lengths[:, None] // k - start  # (B, K)
        index = (start[:, :, None] + torch.arange(s, device=e.device)[None, None, :]).clamp(max=t - 1)  # (B, K, S)
        seg = torch.gather(e, 1, index.reshape(b, k * s, 1).expand(-1, -1, e.shape[2])).reshape(b * k, s, -1)
        last = self.features(seg, size.reshape(-1))  # (B * K, D * H)
        last = last * (size.reshape(-1, 1) > 0)  # an empty segment says nothing
        return self.classify(last.reshape(b, -1))  # (B, K * D * H) -> (B, classes)


def build(cfg: ModelConfig) -> LSTMClassifier:
    if cfg.kind == "segments":
        return SegmentsClassifier(cfg)
    return LSTMClassifier(cfg)


def real_steps_first(x: torch.Tensor, lengths: torch.Tensor, pad_side: str) -> torch.Tensor:
    """Rows padded at the start, rolled so their real steps come first (as packing expects)."""
    if pad_side != "start":
        return x
    t = x.shape[1]
    index = (torch.arange(t, device=x.device)[None, :] + (t - lengths)[:, None]) % t  # (B, T)
    if x.dim() == 3:
        index = index[:, :, None].expand(-1, -1, x.shape[2])
    return torch.gather(x, 1, index)


def tbptt_logits(model: LSTMClassifier, x: torch.Tensor, lengths: torch.Tensor, k: int) -> torch.Tensor:
    """``--tbptt K --tbptt-loss last``: the logits, the loss to be taken at each sequence's end
    (see :func:`tbptt_run`)."""
    return tbptt_run(model, x, lengths, k)[0]


def tbptt_every(model: LSTMClassifier, x: torch.Tensor, lengths: torch.Tensor, k: int, target: torch.Tensor,
                weight: torch.Tensor | None = None) -> tuple[torch.Tensor, float]:
    """``--tbptt K --tbptt-loss every``: back-propagates every chunk's loss (see
    :func:`tbptt_run`); returns the last chunk's logits (detached) and the batch's loss."""
    return tbptt_run(model, x, lengths, k, target=target, weight=weight)


def tbptt_run(model: LSTMClassifier, x: torch.Tensor, lengths: torch.Tensor, k: int, *,
              target: torch.Tensor | None = None, weight: torch.Tensor | None = None) -> tuple[torch.Tensor, float]:
    """Truncated back-propagation through time: the sequence runs in chunks of ``k`` steps, the
    LSTM state carried from chunk to chunk and detached between them.

    Without ``target`` (``--tbptt-loss last``) the loss is taken at each sequence's end, so its
    gradient reaches only the chunk that holds a row's last real step (its last
    ((T - 1) mod k) + 1 steps); earlier chunks only carry the state (and the running mean and
    max of the outputs for pooling) forward, without building a graph. Returns the logits.

    With ``target`` (``--tbptt-loss every``) the label applies to every chunk: after each one the
    classifier reads what the row has seen so far, and that chunk's loss (each row's chunks
    weighted 1 / its number of chunks; ``weight`` per class) back-propagates at once, so only
    one chunk's graph is ever held. Gradients add up in the parameters. Returns the logits
    (detached with ``target``) and the loss it back-propagated (0.0 without). (Forward only:
    not with --bidirectional.)
    """
    b, t = x.shape[0], x.shape[1]
    cfg = model.cfg
    h = torch.zeros((cfg.layers, b, cfg.hidden), device=x.device)
    c = torch.zeros_like(h)
    hidden = cfg.hidden
    last = torch.zeros((b, hidden), device=x.device)
    total = torch.zeros((b, hidden), device=x.device)
    top = torch.full((b, hidden), float("-inf"), device=x.device)
    lengths = lengths.clamp(min=1)
    every = target is not None
    chunks = torch.div(lengths + k - 1, k, rounding_mode="floor").float()  # each row's number of chunks
    loss_sum = 0.0
    for start in range(0, t, k):
        active = torch.nonzero(lengths > start).squeeze(1)
        if len(active) == 0:
            break
        ending = lengths[active] <= start + k  # this chunk holds their last real step
        grad = torch.is_grad_enabled() and (every or bool(ending.any()))
        with torch.set_grad_enabled(grad):
            e, _ = model.embed(x[active, start:start + k], (lengths[active] - start).clamp(max=k))
            out, (nh, nc) = model.lstm(e, (h[:, active].detach(), c[:, active].detach()))  # out: (A, <=k, H)
            real = (lengths[active] - start).clamp(max=out.shape[1])
            now_last = at_last_step(out, real)
            now_total = total[active].detach() + pool(out, real, "mean") * real[:, None]
            now_top = torch.maximum(top[active].detach(), pool(out, real, "max"))
            if every:
                feats = _pooled(cfg.pool, now_last, now_total / (start + real)[:, None], now_top)
                chunk_logits = model.classify(feats)
                known = target[active] >= 0
                if known.any():
                    per_row = nn.functional.cross_entropy(chunk_logits[known].float(), target[active][known],
                                                          weight=weight, reduction="none")
                    loss = (per_row / chunks[active][known]).sum() / max(1, int((target >= 0).sum()))
                    loss.backward()
                    loss_sum += loss.detach().item()
        last = last.index_copy(0, active, now_last.detach() if every else now_last)
        total = total.index_copy(0, active, now_total.detach() if every else now_total)
        top = top.index_copy(0, active, now_top.detach() if every else now_top)
        going = torch.nonzero(~ending).squeeze(1)  # full chunks of real steps: their state carries on
        h = h.index_copy(1, active[going], nh[:, going])
        c = c.index_copy(1, active[going], nc[:, going])
    with torch.set_grad_enabled(torch.is_grad_enabled() and not every):
        logits = model.classify(_pooled(cfg.pool, last, total / lengths[:, None], top))
    return (logits.detach(), loss_sum) if every else (logits, 0.0)


def _pooled(how: str, last: torch.Tensor, mean: torch.Tensor, top: torch.Tensor) -> torch.Tensor:
    if how == "concat":
        return torch.cat([last, mean, top], dim=1)
    return {"last": last, "mean": mean, "max": top}[how]
