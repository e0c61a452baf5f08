"""The LSTM classifier. Shapes in comments: B batch, T steps, C channels, E embedding,
H hidden, D directions (1 or 2), K classes."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence


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
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        if cfg.vocab_size is not None:
            self.inp = nn.Embedding(cfg.vocab_size, cfg.embed, padding_idx=0)
        else:
            self.inp = nn.Linear(cfg.channels, cfg.embed)
        self.lstm = nn.LSTM(cfg.embed, cfg.hidden, cfg.layers, batch_first=True, bidirectional=cfg.bidirectional,
                            dropout=cfg.dropout if cfg.layers > 1 else 0.0)
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden * (2 if cfg.bidirectional else 1) * cfg.segments, cfg.classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.inp(x)  # (B, T) ids or (B, T, C) readings -> (B, T, E)

    def step(self, e: torch.Tensor, lengths: torch.Tensor, state=None):
        """Run the LSTM over ``e`` (B, T, E) whose real steps come first; returns its final
        state (h, c), each (layers * D, B, H), taken at every row's last real step."""
        packed = pack_padded_sequence(e, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
        _, state = self.lstm(packed, state)
        return state

    def classify(self, h: torch.Tensor) -> torch.Tensor:
        """Logits (B, K) from the final hidden state h (layers * D, B, H)."""
        if self.cfg.bidirectional:
            last = torch.cat([h[-2], h[-1]], dim=1)  # (B, 2H): forward's end and backward's start
        else:
            last = h[-1]  # (B, H)
        return self.head(self.drop(last))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        h, _ = self.step(self.embed(x), lengths)
        return self.classify(h)


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
        h, _ = self.step(seg, size.reshape(-1))  # (layers * D, B * K, H)
        last = torch.cat([h[-2], h[-1]], dim=1) if self.cfg.bidirectional else h[-1]  # (B * K, D * H)
        last = last * (size.reshape(-1, 1) > 0)  # an empty segment says nothing
        return self.head(self.drop(last.reshape(b, -1)))  # (B, K * D * H) -> (B, classes)


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
    only carry the state forward, and run without building a graph.
    """
    b, t = x.shape[0], x.shape[1]
    d = 2 if model.cfg.bidirectional else 1
    h = x.new_zeros((model.cfg.layers * d, b, model.cfg.hidden), dtype=torch.float32)
    c = torch.zeros_like(h)
    lengths = lengths.clamp(min=1)
    last_chunk = (lengths - 1) // k * k  # where each row's final chunk starts
    for start in range(0, t, k):
        active = torch.nonzero(lengths > start).squeeze(1)
        if len(active) == 0:
            break
        grad = bool((last_chunk[active] == start).any())
        with torch.set_grad_enabled(grad and torch.is_grad_enabled()):
            chunk = x[active, start:start + k]
            steps = (lengths[active] - start).clamp(max=k)
            state = (h[:, active].detach(), c[:, active].detach())
            nh, nc = model.step(model.embed(chunk), steps, state)
        h = h.index_copy(1, active, nh)
        c = c.index_copy(1, active, nc)
    return model.classify(h)
