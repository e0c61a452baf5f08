"""Training: epochs over shuffled batches, TBPTT or full back-propagation, early stopping."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .data import Arrays
from .distributed import World, reduced, share, wrap
from .model import LSTMClassifier, real_steps_first, tbptt_logits


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    tbptt: int | None = None
    patience: int | None = None
    seed: int = 0
    budget: float | None = None  # seconds of training; stop after the epoch that uses them up


class Batcher:
    """Batches of (x with real steps first, lengths, y) on a device, for fixed-length data
    (sliced from tensors built once) or variable-length data (each batch padded to its own
    longest row, so rows of similar length batch together with little padding)."""

    def __init__(self, a: Arrays, device: torch.device):
        self.a, self.device = a, device
        self.y = torch.from_numpy(a.y).to(device)
        self.lengths = torch.from_numpy(a.lengths).to(device)
        if a.offsets is None:
            x = torch.from_numpy(np.ascontiguousarray(a.x)).to(device)
            self.x = real_steps_first(x, self.lengths, a.pad_side)

    def __len__(self) -> int:
        return len(self.y)

    def batch(self, rows: torch.Tensor):
        if self.a.offsets is None:
            return self.x[rows], self.lengths[rows], self.y[rows]
        idx = rows.cpu().numpy()
        lengths = self.a.lengths[idx]
        width = max(int(lengths.max()), 1)
        starts = self.a.offsets[idx]
        out = np.zeros((len(idx), width) + self.a.x.shape[1:], dtype=self.a.x.dtype)
        for_rows = np.repeat(np.arange(len(idx)), lengths)
        pos = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        out[for_rows, pos] = self.a.x[np.repeat(starts, lengths) + pos]
        x = torch.from_numpy(out).to(self.device)
        if x.dtype.is_floating_point and x.dim() == 2:
            x = x[:, :, None]  # one channel
        return x, self.lengths[rows], self.y[rows]

    def order(self, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
        """This epoch's batches: shuffled rows; for variable-length data, rows sorted by length
        (ties in random order) and cut into batches, the batches then shuffled."""
        perm = torch.randperm(len(self), generator=generator)
        if self.a.offsets is not None:
            perm = perm[torch.from_numpy(np.argsort(self.a.lengths[perm.numpy()], kind="stable"))]
            chunks = list(torch.split(perm, batch_size))
            return [chunks[i] for i in torch.randperm(len(chunks), generator=generator).tolist()]
        return list(torch.split(perm, batch_size))

    def in_order(self, batch_size: int) -> list[torch.Tensor]:
        return list(torch.split(torch.arange(len(self)), batch_size))


def logits_of(model: LSTMClassifier, x, lengths, tbptt: int | None) -> torch.Tensor:
    return tbptt_logits(model, x, lengths, tbptt) if tbptt else model(x, lengths)


class Logits(nn.Module):
    """The training forward pass (full or TBPTT) as one module, so that DistributedDataParallel
    wraps all of it."""

    def __init__(self, model: LSTMClassifier, tbptt: int | None):
        super().__init__()
        self.model, self.tbptt = model, tbptt

    def forward(self, x, lengths):
        return logits_of(self.model, x, lengths, self.tbptt)


@torch.no_grad()
def loss_and_accuracy(model: LSTMClassifier, data: Batcher, batch_size: int,
                      world: World = World()) -> tuple[float, float]:
    """Mean cross-entropy and accuracy over rows with a known class, in evaluation mode. In a
    group each process scores every ``size``-th batch and the sums are shared."""
    model.eval()
    total = correct = 0
    loss = 0.0
    for rows in data.in_order(batch_size)[world.rank::world.size]:
        x, lengths, t = data.batch(rows)
        out = model(x, lengths)
        known = t >= 0
        if known.any():
            loss += nn.functional.cross_entropy(out[known], t[known], reduction="sum").item()
            correct += (out[known].argmax(1) == t[known]).sum().item()
            total += int(known.sum())
    model.train()
    loss, correct, total = reduced([loss, correct, total], world, data.device)
    return (loss / total, correct / total) if total else (float("nan"), float("nan"))


def fit(model: LSTMClassifier, train: Arrays, val: Arrays | None, cfg: TrainConfig, device: torch.device,
        on_epoch=None, on_batch=None, world: World = World()) -> list[dict]:
    """Train in place; with ``val``, keep the weights of the epoch with the lowest validation loss
    and stop after ``patience`` epochs without improvement. Returns one record per epoch: its
    training loss and accuracy (averaged over the epoch's batches, as they were computed) and
    the validation loss and accuracy (a pass over ``val`` after the epoch).

    Under torchrun (``world``), each process takes its share of every epoch's batches and the
    gradients are averaged (see :mod:`seqprep.train.distributed`); the records are global."""
    torch.manual_seed(cfg.seed)
    order_rng = torch.Generator().manual_seed(cfg.seed)
    data = Batcher(train, device)
    val_data = Batcher(val, device) if val is not None else None
    runner = wrap(Logits(model, cfg.tbptt), world, device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    history: list[dict] = []
    best_loss, best_state, waited = float("inf"), None, 0
    spent = 0.0
    model.train()
    for epoch in range(1, cfg.epochs + 1):
        started = time.perf_counter()
        seen = correct = 0
        total_loss = 0.0
        batches = share(data.order(cfg.batch_size, order_rng), world)
        for b, rows in enumerate(batches):
            if on_batch is not None:
                on_batch(epoch, b, len(batches))
            x, lengths, target = data.batch(rows)
            known = target >= 0
            if not known.any() and not world.active:  # (in a group every process takes every step)
                continue
            # On CUDA the forward pass runs in bfloat16 (mixed precision); bf16 needs no loss scaling.
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
                out = runner(x, lengths)
            if known.any():
                loss = nn.functional.cross_entropy(out[known].float(), target[known])
            else:
                loss = out.float().sum() * 0.0
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            n = int(known.sum())  # the epoch's training figures come from its own batches
            seen += n
            total_loss += loss.item() * n
            correct += (out[known].argmax(1) == target[known]).sum().item()
        seen, total_loss, correct = reduced([seen, total_loss, correct], world, device)
        seconds = reduced([time.perf_counter() - started], world, device, op="max")[0]
        record = {"epoch": epoch, "seconds": round(seconds, 4),
                  "loss": total_loss / seen if seen else float("nan"),
                  "accuracy": correct / seen if seen else float("nan")}
        if val_data is not None:
            # The same figures in every process, so they all stop (or not) together.
            record["val_loss"], record["val_accuracy"] = loss_and_accuracy(model, val_data, cfg.batch_size, world)
        history.append(record)
        spent += record["seconds"]
        if on_epoch is not None:
            on_epoch(record)
        if val is not None:
            if record["val_loss"] < best_loss:
                best_loss, best_state, waited = record["val_loss"], copy.deepcopy(model.state_dict()), 0
            else:
                waited += 1
                if cfg.patience is not None and waited >= cfg.patience:
                    break
        if cfg.budget is not None and spent >= cfg.budget:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history
