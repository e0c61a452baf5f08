"""The LSTM classifier. Shapes in comments: B batch, T steps, C channels, E embedding,
H hidden, D directions (1 or 2), K classes."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


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


class LSTMClassifier(nn.Module):
    """Rows come with their real steps first (see real_steps_first). The classifier reads the
    LSTM's output at each row's last real step, so the padding after it changes nothing; no
    packed sequences, which PyTorch runs very slowly on the CPU for long sequences.
    --bidirectional adds a second LSTM stack that reads each row's real steps reversed."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        if cfg.vocab_size is not None:
            self.inp = nn.Embedding(cfg.vocab_size, cfg.embed, padding_idx=0)
        else:
            self.inp = nn.Linear(cfg.channels, cfg.embed)
        between = cfg.dropout if cfg.layers > 1 else 0.0
        self.lstm = nn.LSTM(cfg.embed, cfg.hidden, cfg.layers, batch_first=True, dropout=between)
        self.back = nn.LSTM(cfg.embed, cfg.hidden, cfg.layers, batch_first=True, dropout=between) \
            if cfg.bidirectional else None
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden * (2 if cfg.bidirectional else 1) * cfg.segments, cfg.classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.inp(x)  # (B, T) ids or (B, T, C) readings -> (B, T, E)

    def features(self, e: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, T, E) real steps first -> (B, D * H): the output at each row's last real step
        (and, bidirectional, the reversed reading's)."""
        last = at_last_step(self.lstm(e)[0], lengths)  # (B, H)
        if self.back is not None:
            last = torch.cat([last, at_last_step(self.back(reversed_real(e, lengths))[0], lengths)], dim=1)
        return last

    def classify(self, last: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(last))  # (B, D * H * segments) -> (B, K)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(self.embed(x), lengths))


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
        e = self.embed(x)  # (B, T, E), real steps first
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
    """Truncated back-propagation through time, the loss taken at each sequence's end.

    The sequence runs in chunks of ``k`` steps; the LSTM state is carried from chunk to chunk
    and detached between them, so the loss's gradient reaches only the steps of the chunk
    that holds a row's last real step: its last ((T - 1) mod k) + 1 steps. Earlier chunks
    only carry the state forward, and run without building a graph. (Forward only: not with
    --bidirectional.)
    """
    b, t = x.shape[0], x.shape[1]
    layers, hidden = model.cfg.layers, model.cfg.hidden
    h = torch.zeros((layers, b, hidden), device=x.device)
    c = torch.zeros_like(h)
    last = torch.zeros((b, hidden), device=x.device)
    lengths = lengths.clamp(min=1)
    for start in range(0, t, k):
        active = torch.nonzero(lengths > start).squeeze(1)
        if len(active) == 0:
            break
        ending = lengths[active] <= start + k  # this chunk holds their last real step
        with torch.set_grad_enabled(bool(ending.any()) and torch.is_grad_enabled()):
            out, (nh, nc) = model.lstm(model.embed(x[active, start:start + k]),
                                       (h[:, active].detach(), c[:, active].detach()))  # out: (A, <=k, H)
        done = torch.nonzero(ending).squeeze(1)
        last = last.index_copy(0, active[done], at_last_step(out[done], lengths[active[done]] - start))
        going = torch.nonzero(~ending).squeeze(1)  # full chunks of real steps: their state carries on
        h = h.index_copy(1, active[going], nh[:, going])
        c = c.index_copy(1, active[going], nc[:, going])
    return model.classify(last)
