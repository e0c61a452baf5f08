"""Make sample_data/: small labelled long sequences in the three domains seqprep is for,
as the files users have. Deterministic: the same files every run.

    python scripts/make_sample_data.py sample_data

- reviews/{train,test}.jsonl: documents of hundreds to thousands of words, pos/neg; the
  verdict is in the opening and closing sentences, the middle is mostly plot summary.
- sensors/{train,test}.ts: 3-channel traces of 300-1500 steps, walk/run, unequal lengths,
  a few missing values ('?'); the class shows in the rhythm of channel 1 near the end.
- dna/{train,test}.fasta + *_labels.csv: 1,000-6,000 bases, promoter/background; promoters
  carry a TATAAT box in the first 100 bases.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

FILLER = (
    "the a of and to in is it that was for on with as his her they film story plot scene "
    "character director camera music when then after before while there this which who "
    "city night house family friend war love money time year old young man woman child "
    "goes finds meets leaves returns tries learns discovers decides knows says takes "
    "first second final long short early later ending opening middle act part shot"
).split()
POSITIVE = "wonderful brilliant moving superb delightful great excellent loved beautiful".split()
NEGATIVE = "dull awful boring tedious weak terrible wasted hated clumsy".split()


def review(rng: np.random.Generator, label: str) -> str:
    n = int(np.clip(rng.lognormal(6.3, 0.7), 60, 6000))
    words = list(rng.choice(FILLER, size=n))
    tone = POSITIVE if label == "pos" else NEGATIVE
    other = NEGATIVE if label == "pos" else POSITIVE
    for start, stop in ((0, 40), (max(n - 40, 0), n)):  # the verdict: opening and closing lines
        for i in rng.integers(start, stop, size=4):
            words[i] = str(rng.choice(tone))
    for i in rng.integers(0, n, size=max(1, n // 300)):  # and some noise in the middle
        words[i] = str(rng.choice(other))
    return " ".join(words).capitalize() + "."


def write_reviews(out: Path, rng: np.random.Generator, n: int, split: str) -> None:
    with open(out / f"{split}.jsonl", "w") as f:
        for i in range(n):
            label = "pos" if rng.random() < 0.5 else "neg"
            f.write(json.dumps({"review_id": f"{split}-{i}", "text": review(rng, label), "label": label}) + "\n")


def trace(rng: np.random.Generator, label: str) -> np.ndarray:
    t = int(rng.integers(300, 1500))
    steps = np.arange(t)
    freq = 0.05 if label == "walk" else 0.12
    x = np.stack([
        0.3 * np.sin(2 * np.pi * 0.05 * steps) + 0.3 * rng.standard_normal(t),
        0.2 * rng.standard_normal(t).cumsum() / np.sqrt(t),
        0.5 * rng.standard_normal(t),
    ], axis=1)
    tail = slice(max(0, t - 200), t)
    x[tail, 0] = np.sin(2 * np.pi * freq * steps[tail]) + 0.3 * rng.standard_normal(tail.stop - tail.start)
    return x


def write_sensors(out: Path, rng: np.random.Generator, n: int, split: str) -> None:
    with open(out / f"{split}.ts", "w") as f:
        f.write("# Synthetic 3-axis accelerometer traces made by scripts/make_sample_data.py\n")
        f.write("@problemName SampleGait\n@timeStamps false\n@missing true\n@univariate false\n"
                "@dimensions 3\n@equalLength false\n@classLabel true walk run\n@data\n")
        for _ in range(n):
            label = "walk" if rng.random() < 0.5 else "run"
            x = trace(rng, label)
            dims = []
            for c in range(3):
                vals = [f"{v:.2f}" for v in x[:, c]]
                for i in rng.integers(0, len(vals), size=2):
                    vals[i] = "?"
                dims.append(",".join(vals))
            f.write(":".join(dims) + f":{label}\n")


def write_dna(out: Path, rng: np.random.Generator, n: int, split: str) -> None:
    with open(out / f"{split}.fasta", "w") as fa, open(out / f"{split}_labels.csv", "w") as lab:
        lab.write("record,label\n")
        for i in range(n):
            label = "promoter" if rng.random() < 0.5 else "background"
            bases = rng.choice(list("ACGT"), size=int(rng.integers(1000, 6000)))
            if label == "promoter":
                at = int(rng.integers(10, 94))
                bases[at:at + 6] = list("TATAAT")
            seq = "".join(bases)
            name = f"seq{split[:2]}{i:04d}"
            fa.write(f">{name} synthetic {split} record {i}\n")
            fa.writelines(seq[j:j + 60] + "\n" for j in range(0, len(seq), 60))
            lab.write(f"{name},{label}\n")


def main(root: str) -> None:
    rng = np.random.default_rng(20261124)
    for sub, writer, sizes in (("reviews", write_reviews, (120, 40)), ("sensors", write_sensors, (60, 20)),
                               ("dna", write_dna, (80, 30))):
        out = Path(root) / sub
        out.mkdir(parents=True, exist_ok=True)
        writer(out, rng, sizes[0], "train")
        writer(out, rng, sizes[1], "test")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sample_data")
