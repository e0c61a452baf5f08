"""Training benchmarks on CPU, measured side by side in one run.

    python bench/train_bench.py [--quick]

Sequences of 2,000 steps (one reading per step), an LSTM of 64 units with concat pooling (the
default), batches of 32, the default recipe (AdamW, clipping, warm-up + cosine schedule):
1. seconds per epoch with full back-propagation through time / with --tbptt 100 (target >= 10x),
   and full BPTT / TBPTT's forward pass alone, without a graph: the most TBPTT can gain, since
   it still reads every step to carry the state to the last chunk;
2. seqprep's training loop / a bare PyTorch loop doing the same steps (same model, data,
   batch order and optimizer) (target <= 1.15x).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
import torch
from torch import nn

from seqprep.train.data import Arrays
from seqprep.train.loop import TrainConfig, fit
from seqprep.train.model import LSTMClassifier, ModelConfig, tbptt_logits


def data(n: int, t: int) -> Arrays:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    x = rng.standard_normal((n, t, 1)).astype(np.float32)
    x[:, -50:, 0] += y[:, None]  # the class shows near the end
    return Arrays(x, np.full(n, t), y.astype(np.int64), np.arange(n), [0, 1], None, "start")


def model(seed: int = 0) -> LSTMClassifier:
    torch.manual_seed(seed)
    return LSTMClassifier(ModelConfig(classes=2, vocab_size=None, channels=1, embed=32, hidden=64, pool="concat"))


def seqprep_epoch(a: Arrays, tbptt: int | None) -> float:
    history = fit(model(), a, None, TrainConfig(epochs=1, batch_size=32, tbptt=tbptt, seed=0), torch.device("cpu"))
    return history[0]["seconds"]


def bare_epoch(a: Arrays) -> float:
    """The same steps without seqprep's loop: the model (concat pooling), AdamW, the gradient
    norm clipped, a warm-up + cosine schedule stepped every batch, cross-entropy, the same
    batch order."""
    net = model()
    torch.manual_seed(0)
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.01)
    x, y = torch.from_numpy(a.x), torch.from_numpy(a.y)
    lengths = torch.from_numpy(a.lengths)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    steps = len(torch.split(order, 32))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / 1 if s < 1 else 0.5 * (1 + math.cos(math.pi * (s - 1) / max(1, steps - 1))))
    started = time.perf_counter()
    for rows in torch.split(order, 32):
        loss = nn.functional.cross_entropy(net(x[rows], lengths[rows]), y[rows])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        schedule.step()
    return time.perf_counter() - started


def forward_only_epoch(a: Arrays, k: int = 100) -> float:
    """The part of a --tbptt epoch no chunk size removes: its forward pass over every chunk of
    every batch, here without any graph (TBPTT builds one for the last chunk only, and runs
    the backward pass through it)."""
    net = model()
    x, lengths = torch.from_numpy(a.x), torch.from_numpy(a.lengths)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    started = time.perf_counter()
    with torch.no_grad():
        for rows in torch.split(order, 32):
            tbptt_logits(net, x[rows], lengths[rows], k)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sequences and repeats")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, repeat = (64, 1) if args.quick else (128, args.repeat)
    a = data(n, 2000)
    full, tb, fwd, ours, bare = [], [], [], [], []
    for _ in range(repeat):  # alternate, so each sees the same machine state
        full.append(seqprep_epoch(a, None))
        tb.append(seqprep_epoch(a, 100))
        fwd.append(forward_only_epoch(a))
        ours.append(seqprep_epoch(a, None))
        bare.append(bare_epoch(a))
    f, t, w, o, b = (statistics.median(v) for v in (full, tb, fwd, ours, bare))
    print(f"\ntraining on CPU: {n} sequences x 2,000 steps, LSTM 64, batch 32, {torch.get_num_threads()} threads; "
          f"median of {repeat}")
    print(f"  epoch, full BPTT                 {f:7.2f} s")
    print(f"  epoch, --tbptt 100               {t:7.2f} s")
    print(f"  full / tbptt                     {f / t:7.2f}x   (target >= 10x)")
    print(f"  tbptt's forward alone, no graph  {w:7.2f} s")
    print(f"  full / that (tbptt's ceiling)    {f / w:7.2f}x   (it still reads every step)")
    print(f"  epoch, bare PyTorch loop         {b:7.2f} s")
    print(f"  seqprep / bare                   {o / b:7.2f}x   (target <= 1.15x)")


if __name__ == "__main__":
    main()
