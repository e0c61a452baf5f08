"""Real benchmark sets for seqprep, and the simple baselines its LSTMs must reach.

Needs (besides seqprep itself; scikit-learn is optional, numpy fallbacks otherwise):

    python -m pip install --no-deps aeon==1.6.0 sktime==1.2.0 && python -m pip install scikit-learn

aeon and sktime are installed only for the UCR/UEA archive files inside their wheels (read by
path through importlib.util.find_spec; neither package is imported, so --no-deps is enough and
their heavy dependencies are never pulled in).

    python bench/real_data.py build OUTDIR       # writes OUTDIR/<set>/train.* and test.*
    python bench/real_data.py baselines OUTDIR   # rows, classes, lengths, baseline scores
    python bench/real_data.py lstm OUTDIR WORK   # seqprep ingest/fit/encode/train, as a user would

Sets:

- ``code``: long documents. Python source files of eight packages installed in this venv
  (torch, sympy, keras, networkx, numpy, matplotlib, dask, pygments), classified by the
  package they come from. Each file is tokenized with Python's own tokenizer, then comments
  are dropped, every string literal (docstrings, license headers) becomes ``<str>``, import
  statements are dropped and the package names and their usual aliases (``np``, ``plt``,
  ``nx``...) become ``<pkg>``, so no header line gives the class away; finally every
  identifier not seen in the training files of all eight packages (``Tensor``, ``Expr``,
  ``Graph``...) becomes ``<id>`` (about a fifth of the tokens), so what is left is each
  project's style and the vocabulary they share (TF-IDF: about 0.93 instead of 0.98). Only files of 1,500 to
  20,000 tokens after that; at most 150 a class, drawn with a fixed seed from the sorted file
  list; stratified 70/30 split, seeded. JSON lines (id, text = tokens joined by spaces,
  label); ``files.csv`` lists each document's source file and ``versions.json`` the package
  versions (the set follows what is installed, so compare runs made with the same versions).
- ``ACSF1`` (aeon): electrical power consumption of home appliances, 1 channel, 1,460 steps,
  10 classes, 100 train / 100 test (the archive's own split).
- ``OSULeaf`` (aeon): leaf outlines as 1-D series, 427 steps, 6 classes, 200 / 242.
- ``PLAID`` (sktime): appliance current, unequal lengths 100 to 1,344 steps, 11 classes,
  537 / 537.

The time-series files are copied as they are (``train.ts``, ``test.ts``).
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import importlib.util
import io
import json
import keyword
import random
import shlex
import shutil
import subprocess
import sys
import time
import tokenize
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from seqprep import baselines as bl  # noqa: E402

PIP_LINE = "python -m pip install --no-deps aeon==1.6.0 sktime==1.2.0 && python -m pip install scikit-learn"
SEED = 0

TS_SETS = {  # name: (package, folder under <package>/datasets/data)
    "ACSF1": ("aeon", "ACSF1"),
    "OSULeaf": ("aeon", "OSULeaf"),
    "PLAID": ("sktime", "PLAID"),
}

CODE_PACKAGES = {  # class: names masked as <pkg> (the package and the aliases it is used under)
    "torch": {"torch", "nn", "F"},
    "sympy": {"sympy", "sp"},
    "keras": {"keras", "K", "ops"},
    "networkx": {"networkx", "nx"},
    "numpy": {"numpy", "np"},
    "matplotlib": {"matplotlib", "mpl", "plt", "mpatches", "mcolors", "mtransforms"},
    "dask": {"dask", "dd", "da", "db"},
    "pygments": {"pygments"},
}
CODE_MIN_TOKENS, CODE_MAX_TOKENS = 1500, 20000
CODE_MAX_BYTES = 400_000
CODE_PER_CLASS = 150
TEST_SHARE = 0.3


# --------------------------------------------------------------------------- build


def package_dir(name: str) -> Path:
    """The installed package's folder, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"error: the package {name!r} is not installed; run: {PIP_LINE}")
    return Path(list(spec.submodule_search_locations)[0])


def build_ts(out: Path, name: str) -> None:
    pkg, folder = TS_SETS[name]
    src = package_dir(pkg) / "datasets" / "data" / folder
    dst = out / name
    dst.mkdir(parents=True, exist_ok=True)
    for split in ("TRAIN", "TEST"):
        f = src / f"{folder}_{split}.ts"
        if not f.exists():
            sys.exit(f"error: {f} is missing; this script expects {pkg} as pinned: {PIP_LINE}")
        shutil.copyfile(f, dst / f"{split.lower()}.ts")
    (dst / "source.json").write_text(
        json.dumps({"package": pkg, "version": importlib.metadata.version(pkg), "folder": folder}, indent=1) + "\n"
    )


def code_tokens(source: str, masked: set[str]) -> list[str] | None:
    """The tokens of one Python file: no comments, strings as <str>, no imports, names masked."""
    out: list[str] = []
    line: list[str] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            kind, text = tok.type, tok.string
            if kind in (tokenize.NEWLINE, tokenize.ENDMARKER):
                if line and line[0] not in ("import", "from"):
                    out.extend(line)
                    out.append("<nl>")
                line = []
            elif kind == tokenize.NAME:
                line.append("<pkg>" if text in masked else text)
            elif kind == tokenize.STRING or kind in _FSTRING:
                if not line or line[-1] != "<str>":  # f-string parts collapse to one <str>
                    line.append("<str>")
            elif kind in (tokenize.OP, tokenize.NUMBER):
                line.append(text)
            # COMMENT, NL, INDENT, DEDENT, ENCODING: dropped
    except (tokenize.TokenError, SyntaxError, IndentationError, ValueError):
        return None
    return out


_FSTRING = {getattr(tokenize, n) for n in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END") if hasattr(tokenize, n)}


def _mask_identifier(token: str, shared: set[str]) -> str:
    is_name = token[0].isalpha() or token[0] == "_"
    return token if not is_name or token in shared or keyword.iskeyword(token) else "<id>"


def build_code(out: Path) -> None:
    site = package_dir("numpy").parent
    masked_all = set().union(*CODE_PACKAGES.values())
    rng = random.Random(SEED)
    rows = []
    for label in sorted(CODE_PACKAGES):
        root = package_dir(label)
        files = sorted(p for p in root.rglob("*.py") if p.is_file() and 4000 <= p.stat().st_size <= CODE_MAX_BYTES)
        rng.shuffle(files)  # a seeded draw from the sorted list
        kept = 0
        for path in files:
            toks = code_tokens(path.read_text(encoding="utf-8", errors="replace"), masked_all)
            if toks is None or not CODE_MIN_TOKENS <= len(toks) <= CODE_MAX_TOKENS:
                continue
            rows.append((label, str(path.relative_to(site)), toks))
            kept += 1
            if kept == CODE_PER_CLASS:
                break
    # stratified split, seeded: per class, a shuffled order, the first 30% to test
    split_rng = np.random.default_rng(SEED)
    labels = np.array([r[0] for r in rows])
    is_test = np.zeros(len(rows), dtype=bool)
    for label in sorted(set(labels)):
        idx = np.flatnonzero(labels == label)
        idx = idx[split_rng.permutation(len(idx))]
        is_test[idx[: int(round(TEST_SHARE * len(idx)))]] = True
    # Identifiers that only some packages use (Tensor, Expr, Graph...) give the class away:
    # keep those found in training files of every class, the rest become <id>
    by_token: dict[str, set[str]] = {}
    for (label, _, toks), test in zip(rows, is_test):
        if not test:
            for t in set(toks):
                by_token.setdefault(t, set()).add(label)
    shared = {t for t, seen in by_token.items() if len(seen) == len(CODE_PACKAGES)}
    rows = [(label, rel, [_mask_identifier(t, shared) for t in toks]) for label, rel, toks in rows]
    dst = out / "code"
    dst.mkdir(parents=True, exist_ok=True)
    with open(dst / "train.jsonl", "w") as ftr, open(dst / "test.jsonl", "w") as fte, open(
        dst / "files.csv", "w", newline=""
    ) as fl:
        w = csv.writer(fl)
        w.writerow(["id", "split", "label", "path", "tokens"])
        for i, (label, rel, toks) in enumerate(rows):
            f = fte if is_test[i] else ftr
            f.write(json.dumps({"id": i, "text": " ".join(toks), "label": label}) + "\n")
            w.writerow([i, "test" if is_test[i] else "train", label, rel, len(toks)])
    versions = {p: importlib.metadata.version(p) for p in sorted(CODE_PACKAGES)}
    versions["python"] = sys.version.split()[0]
    (dst / "versions.json").write_text(json.dumps(versions, indent=1) + "\n")


def cmd_build(args) -> None:
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    for name in TS_SETS:
        build_ts(out, name)
        print(f"built {out / name}", flush=True)
    t = time.time()
    build_code(out)
    print(f"built {out / 'code'} ({time.time() - t:.0f} s)", flush=True)


# --------------------------------------------------------------------------- read back


def read_ts(path: Path) -> tuple[list[np.ndarray], np.ndarray]:
    """A .ts file as a list of (T, C) float arrays and the labels (str); '?' is NaN."""
    series, labels = [], []
    in_data = False
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                in_data = line.lower().startswith("@data")
                continue
            *dims, label = line.split(":")
            chans = [np.array([np.nan if v == "?" else float(v) for v in d.split(",")]) for d in dims]
            t = min(len(c) for c in chans)
            series.append(np.stack([c[:t] for c in chans], axis=1))
            labels.append(label.strip())
    return series, np.array(labels)


def read_jsonl(path: Path) -> tuple[list[list[str]], np.ndarray]:
    docs, labels = [], []
    with open(path) as f:
        for line in f:
            row = json.loads(line)
            docs.append(row["text"].split())
            labels.append(str(row["label"]))
    return docs, np.array(labels)


def read_set(d: Path):
    if (d / "train.ts").exists():
        return "readings", read_ts(d / "train.ts"), read_ts(d / "test.ts")
    return "text", read_jsonl(d / "train.jsonl"), read_jsonl(d / "test.jsonl")


def set_names(out: Path) -> list[str]:
    return [n for n in [*TS_SETS, "code"] if (out / n).is_dir()]


# --------------------------------------------------------------------------- baselines


def cmd_baselines(args) -> None:
    out = Path(args.outdir)
    results = {}
    for name in set_names(out):
        kind, (xtr, ytr), (xte, yte) = read_set(out / name)
        lengths = np.array([len(s) for s in xtr + xte])
        classes = np.unique(np.concatenate([ytr, yte]))
        rows = [bl.score("majority", yte, bl.majority(ytr, len(yte)), classes)]
        t = time.time()
        if kind == "readings":
            rows.append(bl.score("1-NN (z, PAA to min length)", yte, bl.nearest_neighbour(xtr, ytr, xte), classes))
        else:
            rows.append(bl.score("TF-IDF + logistic", yte, bl.tfidf_linear(xtr, ytr, xte, seed=SEED), classes))
        rows[-1]["seconds"] = round(time.time() - t, 1)
        q = np.percentile(lengths, [0, 50, 90, 100]).astype(int)
        channels = xtr[0].shape[1] if kind == "readings" else None
        print(
            f"\n{name} ({kind}{f', {channels} channel(s)' if channels else ''}): "
            f"{len(xtr)} train / {len(xte)} test, {len(classes)} classes, "
            f"length min {q[0]:,} p50 {q[1]:,} p90 {q[2]:,} max {q[3]:,}"
        )
        print(f"  {'baseline':30s} {'accuracy':>8s} {'macro-F1':>8s}")
        for r in rows:
            print(f"  {r['name']:30s} {r['accuracy']:8.3f} {r['macro_f1']:8.3f}")
        results[name] = {
            "kind": kind,
            "train": len(xtr),
            "test": len(xte),
            "classes": len(classes),
            "length": dict(zip(["min", "p50", "p90", "max"], q.tolist())),
            "baselines": rows,
        }
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")


# --------------------------------------------------------------------------- seqprep LSTM


def seqprep(*argv: str) -> None:
    cmd = [str(Path(sys.executable).with_name("seqprep")), *argv]
    print("$ seqprep " + " ".join(argv), flush=True)
    subprocess.run(cmd, check=True)


def run_summary(run: Path, test: Path) -> dict:
    """Epochs run, the kept epoch (best validation macro-F1; without validation the last) and
    `seqprep evaluate` of it on TEST."""
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    validated = [r for r in rows if "val_macro_f1" in r]
    best = max(validated, key=lambda r: (r["val_macro_f1"], -r.get("val_loss", 0.0))) if validated else rows[-1]
    cmd = [str(Path(sys.executable).with_name("seqprep")), "evaluate", str(run), str(test), "--json"]
    scored = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    ev = scored.get("per_id") or scored["rows"]  # windows: each document's windows' probabilities averaged
    return {"epochs": len(rows), "kept_epoch": best.get("epoch"), "accuracy": ev["accuracy"],
            "macro_f1": ev["macro_f1"]}


# The training recipes measured on every set: "before" is the recipe train had before issue 17
# (the last step's output, a constant learning rate, no weight decay, no clipping); the others
# are the defaults with a pooling and, for "conv", a convolutional front-end whose stride brings
# the sequence to about 150 steps.
WINDOWS = ["--pool", "concat", "--hidden", "128", "--lr", "0.005", "--epochs", "12"]
RECIPES = {
    "before": ["--pool", "last", "--schedule", "constant", "--weight-decay", "0", "--clip", "0"],
    "last": ["--pool", "last"],
    "concat": ["--pool", "concat"],
    "conv+concat": ["--pool", "concat", "--conv", "{kernel}", "--conv-stride", "{stride}"],
    # Text only: every document cut into windows of 256 tokens every 128 (`seqprep split`),
    # each a training row; a test document is scored by its windows' mean probabilities.
    "windows": WINDOWS,
    # The same on all of TRAIN: no validation carved (a fifth more documents to learn from), the
    # schedule's last epoch kept; TEST is still scored once.
    "windows-all": WINDOWS,
}
UNVALIDATED = {"windows-all"}  # recipes trained on all of TRAIN (no --val-fraction)
WINDOWED = {"windows", "windows-all"}  # recipes trained and scored on 256-token windows


def cmd_lstm(args) -> None:
    """Each set as a user would prepare it (readings z-scored per row; text: ids of the training
    vocabulary, the last --text-length tokens), then every recipe over --seeds seeds: validation
    carved from TRAIN (--val-fraction 0.2, stratified, by id), TEST scored once by evaluate."""
    out, work = Path(args.outdir), Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in args.sets or set_names(out):
        src, w = out / name, work / name
        text = (src / "train.jsonl").exists()
        ext = "jsonl" if text else "ts"
        ow = ["--overwrite"]
        seqprep("ingest", str(src / f"train.{ext}"), str(w / "train"), *ow)
        seqprep("ingest", str(src / f"test.{ext}"), str(w / "test"), *ow)
        if text:
            seqprep("fit", str(w / "train"), str(w / "stats.json"), *ow)
            enc = ["--stats", str(w / "stats.json"), "--length", str(args.text_length)]
        else:
            enc = ["--normalize", "per-row"]
        seqprep("encode", str(w / "train"), str(w / "train-enc"), *enc, *ow)
        seqprep("encode", str(w / "test"), str(w / "test-enc"), *enc, *ow)
        longest = json.loads((w / "train-enc" / "_seqprep.json").read_text())["lengths"]["max"]
        stride = max(2, round(longest / 150))
        results[name] = {}
        if text and (not args.recipes or WINDOWED & set(args.recipes)):
            for split in ("train", "test"):
                seqprep("split", str(w / split), str(w / f"{split}-win"), "--length", "256", "--stride", "128", *ow)
                seqprep("encode", str(w / f"{split}-win"), str(w / f"{split}-win-enc"), "--stats",
                        str(w / "stats.json"), *ow)
        for recipe, options in RECIPES.items():
            if args.recipes and recipe not in args.recipes:
                continue
            if recipe in WINDOWED and not text:
                continue
            data, test = ("train-win-enc", "test-win-enc") if recipe in WINDOWED else ("train-enc", "test-enc")
            val = [] if recipe in UNVALIDATED else ["--val-fraction", "0.2"]
            options = [o.format(kernel=2 * stride, stride=stride) for o in options]
            runs = []
            for seed in range(args.seeds):
                t = time.time()
                seqprep("train", str(w / data), str(w / "run"), *val,
                        "--epochs", str(args.epochs), "--seed", str(seed), "--hidden", "64", *options,
                        *args.train_args, *ow)  # (a recipe's own --epochs / --hidden come later and win)
                runs.append({"seconds": round(time.time() - t, 1), **run_summary(w / "run", w / test)})
            acc = np.array([r["accuracy"] for r in runs])
            f1 = np.array([r["macro_f1"] for r in runs])
            results[name][recipe] = {"options": options, "runs": runs,
                                     "accuracy": [round(acc.mean(), 3), round(acc.std(), 3)],
                                     "macro_f1": [round(f1.mean(), 3), round(f1.std(), 3)]}
            print(f"{name:8} {recipe:12} accuracy {acc.mean():.3f} +- {acc.std():.3f}  macro-F1 {f1.mean():.3f} +- "
                  f"{f1.std():.3f}  ({args.seeds} seeds, {np.mean([r['seconds'] for r in runs]):.0f} s a run)",
                  flush=True)
    (work / "lstm.json").write_text(json.dumps(results, indent=1) + "\n")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="write OUTDIR/<set>/train.* and test.*")
    b.add_argument("outdir")
    b.set_defaults(func=cmd_build)
    s = sub.add_parser("baselines", help="rows, classes, lengths and baseline scores of each set")
    s.add_argument("outdir")
    s.add_argument("--json", help="also write the results here")
    s.set_defaults(func=cmd_baselines)
    m = sub.add_parser("lstm", help="seqprep ingest -> fit -> encode -> train --val test, per set")
    m.add_argument("outdir")
    m.add_argument("work")
    m.add_argument("--sets", nargs="*", help="default: every set in OUTDIR")
    m.add_argument("--epochs", type=int, default=40,
                   help="train --epochs (default 40); the windows recipes set their own 12")
    m.add_argument("--seeds", type=int, default=3, help="runs per recipe, seeds 0..N-1 (default 3)")
    m.add_argument("--recipes", nargs="*", help="default: every recipe (%s)" % ", ".join(RECIPES))
    m.add_argument("--text-length", type=int, default=1000, help="encode --length for text")
    m.add_argument("--train-args", type=shlex.split, default=[],
                   help='more `seqprep train` options, one string: --train-args "--threads 1"')
    m.set_defaults(func=cmd_lstm)
    args = p.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
