"""Training: epochs over shuffled batches, TBPTT or full back-propagation, early stopping."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .data import Arrays
from .model import LSTMClassifier, real_steps_first, tbptt_logits


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    tbptt: int | None = None
    patience: int | None = None
    seed: int = 0


def tensors(a: Arrays, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """x with real steps first, lengths, y: on ``device``."""
    x = torch.from_numpy(np.ascontiguousarray(a.x)).to(device)
    lengths = torch.from_numpy(a.lengths).to(device)
    return real_steps_first(x, lengths, a.pad_side), lengths, torch.from_numpy(a.y).to(device)


def logits_of(model: LSTMClassifier, x, lengths, tbptt: int | None) -> torch.Tensor:
    return tbptt_logits(model, x, lengths, tbptt) if tbptt else model(x, lengths)


@torch.no_grad()
def loss_and_accuracy(model: LSTMClassifier, x, lengths, y, batch_size: int) -> tuple[float, float]:
    """Mean cross-entropy and accuracy over rows with a known class, in evaluation mode."""
    model.eval()
    total = correct = 0
    loss = 0.0
    for i in range(0, len(y), batch_size):
        out = model(x[i:i + batch_size], lengths[i:i + batch_size])
        t = y[i:i + batch_size]
        known = t >= 0
        if known.any():
            loss += nn.functional.cross_entropy(out[known], t[known], reduction="sum").item()
            correct += (out[known].argmax(1) == t[known]).sum().item()
            total += int(known.sum())
    model.train()
    return (loss / total, correct / total) if total else (float("nan"), float("nan"))


def fit(model: LSTMClassifier, train: Arrays, val: Arrays | None, cfg: TrainConfig, device: torch.device,
        on_epoch=None) -> list[dict]:
    """Train in place; with ``val``, keep the weights of the epoch with the lowest validation loss
    and stop after ``patience`` epochs without improvement. Returns one record per epoch."""
    torch.manual_seed(cfg.seed)
    order_rng = torch.Generator().manual_seed(cfg.seed)
    x, lengths, y = tensors(train, device)
    vx = vlen = vy = None
    if val is not None:
        vx, vlen, vy = tensors(val, device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    history: list[dict] = []
    best_loss, best_state, waited = float("inf"), None, 0
    model.train()
    for epoch in range(1, cfg.epochs + 1):
        started = time.perf_counter()
        order = torch.randperm(len(y), generator=order_rng).to(device)
        for i in range(0, len(order), cfg.batch_size):
            rows = order[i:i + cfg.batch_size]
            target = y[rows]
            known = target >= 0
            if not known.any():
                continue
            out = logits_of(model, x[rows], lengths[rows], cfg.tbptt)
            loss = nn.functional.cross_entropy(out[known], target[known])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        record = {"epoch": epoch, "seconds": round(time.perf_counter() - started, 4)}
        record["loss"], record["accuracy"] = loss_and_accuracy(model, x, lengths, y, cfg.batch_size)
        if val is not None:
            record["val_loss"], record["val_accuracy"] = loss_and_accuracy(model, vx, vlen, vy, cfg.batch_size)
        history.append(record)
        if on_epoch is not None:
            on_epoch(record)
        if val is not None:
            if record["val_loss"] < best_loss:
                best_loss, best_state, waited = record["val_loss"], copy.deepcopy(model.state_dict()), 0
            else:
                waited += 1
                if cfg.patience is not None and waited >= cfg.patience:
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history
