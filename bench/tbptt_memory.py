"""Peak memory of one training epoch: full back-propagation through time against --tbptt K,
at two sequence lengths, each measured in a fresh process (peak RSS over the process's
baseline after the data and model are made).

    python bench/tbptt_memory.py [--short 1000] [--long 8000] [--k 100]

TBPTT's promise is memory: its peak must not grow with T (ratio long/short <= 1.2), while full
BPTT's grows about linearly. Both --tbptt-loss variants are measured.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import numpy as np, torch
from seqprep.train.data import Arrays
from seqprep.train.loop import TrainConfig, fit
from seqprep.train.model import LSTMClassifier, ModelConfig
t, mode, k = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
torch.set_num_threads(1)
rng = np.random.default_rng(0)
n = 64
y = rng.integers(0, 2, n)
x = rng.standard_normal((n, t, 1)).astype(np.float32)
x[:, -50:, 0] += y[:, None]
data = Arrays(x, np.full(n, t), y.astype(np.int64), np.arange(n), [0, 1], None, "start")
torch.manual_seed(0)
model = LSTMClassifier(ModelConfig(classes=2, vocab_size=None, channels=1, embed=32, hidden=64, pool="concat"))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
cfg = TrainConfig(epochs=1, batch_size=32, tbptt=None if mode == "full" else k,
                  tbptt_loss="every" if mode == "every" else "last")
fit(model, data, None, cfg, torch.device("cpu"))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"mib": (peak - base) / 1024, "seconds": time.perf_counter() - start}))
"""


def measure(t: int, mode: str, k: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(t), mode, str(k)], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--short", type=int, default=1000)
    p.add_argument("--long", type=int, default=8000)
    p.add_argument("--k", type=int, default=100)
    a = p.parse_args()
    print(f"one epoch, 64 rows, LSTM of 64 units, concat pooling; peak RSS above the process's baseline")
    print(f"{'mode':22} {'T=' + str(a.short):>12} {'T=' + str(a.long):>12} {'ratio':>7}")
    for mode, name in (("full", "full BPTT"), ("last", f"--tbptt {a.k} (last)"), ("every", f"--tbptt {a.k} (every)")):
        short, long = measure(a.short, mode, a.k), measure(a.long, mode, a.k)
        print(f"{name:22} {short['mib']:9.1f} MiB {long['mib']:9.1f} MiB {long['mib'] / max(short['mib'], 1e-9):7.2f}"
              f"   ({short['seconds']:.1f} s, {long['seconds']:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
