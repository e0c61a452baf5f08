"""Training: epochs over shuffled batches, TBPTT or full back-propagation, a learning-rate
schedule, clipped gradients, early stopping on validation macro-F1."""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..errors import SeqprepError
from .data import Arrays, RowReader, release
from .distributed import World, reduced, share, wrap
from .metrics import per_id, scores, scores_from, shares_ids
from .model import LSTMClassifier, real_steps_first, tbptt_every, tbptt_logits


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    tbptt: int | None = None
    patience: int | None = None
    seed: int = 0
    budget: float | None = None  # seconds of training; stop after the epoch that uses them up
    budget_steps: int | None = None  # steps read (each row's real steps, summed); stop after the batch that reaches it
    weight_decay: float = 0.01  # AdamW's (decoupled) weight decay
    clip: float | None = 1.0  # the gradients' largest norm; None: not clipped
    schedule: str = "cosine"  # the learning rate: "cosine" (warm-up, then cosine decay) or "constant"
    warmup: float = 0.05  # the share of all steps the warm-up takes
    balance: bool = False  # weight the loss by class: n / (k x the class's rows)
    tbptt_loss: str = "last"  # with tbptt: the loss at each sequence's end, or after "every" chunk


class Batcher:
    """Batches of (x with real steps first, lengths, y) on a device, for fixed-length data
    (sliced from tensors built once) or variable-length data (each batch padded to its own
    longest row, so rows of similar length batch together with little padding)."""

    def __init__(self, a: Arrays, device: torch.device):
        self.a, self.device = a, device
        self.y = torch.from_numpy(a.y).to(device)
        self.lengths = torch.from_numpy(a.lengths).to(device)
        self._shares_ids = None  # not yet looked for
        self.x = None  # rows streamed from the file (RowReader): read batch by batch
        if a.offsets is None and not isinstance(a.x, RowReader):
            x = torch.from_numpy(np.ascontiguousarray(a.x)).to(device)
            self.x = real_steps_first(x, self.lengths, a.pad_side)

    def __len__(self) -> int:
        return len(self.y)

    @property
    def shares_ids(self) -> bool:
        """Whether rows share ids (windows, crops): validation then scores per id too."""
        if self._shares_ids is None:
            self._shares_ids = bool(len(self.a.ids)) and shares_ids(self.a.ids)
        return self._shares_ids

    def batch(self, rows: torch.Tensor):
        if self.x is not None:
            return self.x[rows], self.lengths[rows], self.y[rows]
        if self.a.offsets is None:  # the same rows, read from the file now
            x = torch.from_numpy(self.a.x.rows(rows.cpu().numpy())).to(self.device)
            return real_steps_first(x, self.lengths[rows], self.a.pad_side), self.lengths[rows], self.y[rows]
        idx = rows.cpu().numpy()
        lengths = self.a.lengths[idx]
        width = max(int(lengths.max()), 1)
        starts = self.a.offsets[idx]
        out = np.zeros((len(idx), width) + self.a.x.shape[1:], dtype=self.a.x.dtype)
        for_rows = np.repeat(np.arange(len(idx)), lengths)
        pos = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        out[for_rows, pos] = self.a.x[np.repeat(starts, lengths) + pos]
        release(self.a.x)  # steps mapped from a file: this batch's pages go back
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
def validate(model: LSTMClassifier, data: Batcher, batch_size: int, world: World = World()) -> dict:
    """Mean cross-entropy, accuracy and macro-F1 over rows with a known class, in evaluation
    mode. Where rows share an id (windows, crops of one sequence), also accuracy and macro-F1
    per id, each id's rows' probabilities averaged (as ``evaluate`` scores them): the epoch kept
    is then the best per id. In a group each process scores every ``size``-th batch and the
    counts are shared."""
    model.eval()
    k = model.cfg.classes
    loss = 0.0
    confusion = torch.zeros(k * k, dtype=torch.float64)
    probs = np.zeros((len(data), k)) if data.shares_ids else None  # each row's, for the per-id scores
    for rows in data.in_order(batch_size)[world.rank::world.size]:
        x, lengths, t = data.batch(rows)
        out = model(x, lengths)
        known = t >= 0
        if known.any():
            loss += nn.functional.cross_entropy(out[known].float(), t[known], reduction="sum").item()
            pairs = (t[known] * k + out[known].argmax(1)).cpu()
            confusion += torch.bincount(pairs, minlength=k * k).double()
        if probs is not None:
            probs[rows.cpu().numpy()] = torch.softmax(out.float(), 1).cpu().numpy()
    model.train()
    summed = reduced([loss] + confusion.tolist() + ([] if probs is None else probs.reshape(-1).tolist()), world,
                     data.device)
    loss, confusion = summed[0], np.array(summed[1:1 + k * k], dtype=np.int64).reshape(k, k)
    total = int(confusion.sum())
    if not total:
        return {"val_loss": float("nan"), "val_accuracy": float("nan"), "val_macro_f1": float("nan")}
    s = scores_from(confusion)
    record = {"val_loss": loss / total, "val_accuracy": s["accuracy"], "val_macro_f1": s["macro_f1"]}
    if probs is not None:  # as evaluate scores them
        _, y, merged = per_id(data.a.ids, data.a.y, np.array(summed[1 + k * k:]).reshape(-1, k))
        s = scores(y, merged.argmax(1), k)
        record.update(val_accuracy_per_id=s["accuracy"], val_macro_f1_per_id=s["macro_f1"])
    return record


def lr_factor(step: int, total: int, warmup: int, schedule: str) -> float:
    """The learning rate's multiplier at optimizer step ``step`` (0-based) of ``total``: a linear
    warm-up over ``warmup`` steps, then constant or a cosine decay to zero."""
    if schedule == "constant":
        return 1.0
    if step < warmup:
        return (step + 1) / warmup
    done = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, done)))


def class_weights(y: np.ndarray, k: int, device: torch.device) -> torch.Tensor:
    """--balance: each class weighted n / (k * its rows), so every class counts the same in the
    loss (scikit-learn's class_weight="balanced"); a class with no rows gets weight 0."""
    counts = np.bincount(y[y >= 0], minlength=k).astype(np.float64)
    present = counts > 0
    w = np.zeros(k)
    w[present] = counts.sum() / (present.sum() * counts[present])
    return torch.tensor(w, dtype=torch.float32, device=device)


def better(record: dict, best: dict | None) -> bool:
    """The epoch to keep: the highest validation macro-F1 (per id where rows share ids, as
    windows do), ties broken by the lower loss."""
    if best is None:
        return True
    metric = "val_macro_f1_per_id" if "val_macro_f1_per_id" in record else "val_macro_f1"
    f1, best_f1 = record[metric], best[metric]
    if f1 != best_f1:
        return f1 > best_f1
    return record["val_loss"] < best["val_loss"]


def fit(model: LSTMClassifier, train: Arrays, val: Arrays | None, cfg: TrainConfig, device: torch.device,
        on_epoch=None, on_batch=None, world: World = World()) -> list[dict]:
    """Train in place: AdamW with weight decay, the gradient norm clipped, the learning rate
    warmed up then decayed (cosine) over all the run's steps, the loss weighted by class with
    ``balance``. With ``val``, keep the weights of the epoch with the best validation macro-F1
    (ties: the lower loss) and stop after ``patience`` epochs without a better one. Returns one
    record per epoch: its training loss and accuracy (averaged over the epoch's batches, as they
    were computed), the learning rate it ended at, and the validation loss, accuracy and
    macro-F1 (a pass over ``val`` after the epoch); the kept epoch has ``"kept": true``.

    Under torchrun (``world``), each process takes its share of every epoch's batches and the
    gradients are averaged (see :mod:`seqprep.train.distributed`); the records are global."""
    torch.manual_seed(cfg.seed)
    order_rng = torch.Generator().manual_seed(cfg.seed)
    data = Batcher(train, device)
    val_data = Batcher(val, device) if val is not None else None
    every = cfg.tbptt is not None and cfg.tbptt_loss == "every"
    runner = wrap(Logits(model, None if every else cfg.tbptt), world, device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    per_epoch = len(share(data.order(cfg.batch_size, torch.Generator().manual_seed(0)), world))
    epochs = cfg.epochs
    if cfg.budget_steps is not None:  # as many epochs as the budget reaches into: the schedule spans them
        epochs = min(epochs, max(1, -(-cfg.budget_steps // max(1, int(train.lengths.sum())))))
    total_steps = max(1, per_epoch * epochs)
    warmup = max(1, round(cfg.warmup * total_steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, total_steps, warmup, cfg.schedule))
    weight = class_weights(train.y, model.cfg.classes, device) if cfg.balance else None
    history: list[dict] = []
    lr = cfg.lr
    best, best_state, waited = None, None, 0
    spent = 0.0
    read = 0  # steps read so far, for budget_steps
    model.train()
    for epoch in range(1, epochs + 1):
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
            optimizer.zero_grad()
            if every:  # each chunk's loss back-propagates inside (one chunk's graph at a time)
                out, loss_value = tbptt_every(model, x, lengths, cfg.tbptt, target, weight)
            else:
                # On CUDA the forward pass runs in bfloat16 (mixed precision); bf16 needs no loss scaling.
                with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
                    out = runner(x, lengths)
                if known.any():
                    loss = nn.functional.cross_entropy(out[known].float(), target[known], weight=weight)
                else:
                    loss = out.float().sum() * 0.0
                loss.backward()
                loss_value = loss.item()
            if cfg.clip:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            optimizer.step()
            lr = optimizer.param_groups[0]["lr"]  # the rate this step took
            schedule.step()
            n = int(known.sum())  # the epoch's training figures come from its own batches
            seen += n
            total_loss += loss_value * n
            correct += (out[known].argmax(1) == target[known]).sum().item()
            if cfg.budget_steps is not None:
                read += int(train.lengths[rows.numpy()].sum())
                if read >= cfg.budget_steps:
                    break
        seen, total_loss, correct = reduced([seen, total_loss, correct], world, device)
        seconds = reduced([time.perf_counter() - started], world, device, op="max")[0]
        record = {"epoch": epoch, "seconds": round(seconds, 4),
                  "loss": total_loss / seen if seen else float("nan"),
                  "accuracy": correct / seen if seen else float("nan"),
                  "lr": lr}
        if cfg.budget_steps is not None:
            record["steps_read"] = read
        if val_data is not None:
            # The same figures in every process, so they all stop (or not) together.
            record.update(validate(model, val_data, cfg.batch_size, world))
        if not math.isfinite(record["loss"]) and seen:
            raise SeqprepError(f"training diverged: the loss is not finite at epoch {epoch}; lower --lr (now "
                               f"{cfg.lr:g}) or keep --clip on")
        history.append(record)
        spent += record["seconds"]
        if on_epoch is not None:
            on_epoch(record)
        if val is not None:
            if better(record, best):
                best, best_state, waited = record, copy.deepcopy(model.state_dict()), 0
            else:
                waited += 1
                if cfg.patience is not None and waited >= cfg.patience:
                    break
        if cfg.budget is not None and spent >= cfg.budget:
            break
        if cfg.budget_steps is not None and read >= cfg.budget_steps:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
        best["kept"] = True
    return history
