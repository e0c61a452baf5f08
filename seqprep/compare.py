"""compare: which way of shortening works on your data. Each technique prepares TRAIN and
TEST (statistics fitted on TRAIN only), trains the same model size, and is scored on TEST."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .dataset import open_source
from .errors import InputError, OutputError, UsageError, positive
from .fit import fit
from .output import describe_steps
from .plotting import check_image_target, pyplot, save
from .steps import Padding, encode, sample, split, summarize

TECHNIQUES = ("as-is", "truncate-start", "truncate-end", "truncate-both", "summarize", "random-steps",
              "random-crops", "windows", "windows-features", "tbptt", "segments", "autoencoder")


@dataclass
class Plan:
    """How one technique prepares a split and trains."""

    prepare: Callable[[str, str, bool], None]  # (src, out, is_train)
    train: dict  # extra train() options
    steps: int  # steps the LSTM reads per sequence (at most)


def plans(kind: str, length: int, longest: int, work: Path, seed: int) -> dict[str, Plan]:
    """The techniques for ``kind`` ("tokens" or "readings"), each as a Plan."""
    stats = str(work / "stats.json")

    def to_model(src: str, out: str, **cut) -> None:
        """Tokens to ids (training-rank vocabulary), readings z-scored; then cut if asked."""
        if kind == "tokens":
            encode(src, out, stats=stats, **cut)
        else:
            encode(src, out, normalize_with=stats, **cut)

    def cut(keep: str) -> Callable:
        return lambda src, out, _: to_model(src, out, length=length, keep=keep, padding=Padding(side="end"))

    def then(first: Callable[[str, str], None]) -> Callable:
        def run(src: str, out: str, is_train: bool) -> None:
            mid = out + ".mid"
            first(src, mid, is_train)
            to_model(mid, out, length=length, padding=Padding(side="end"))
        return run

    def summarized(src: str, out: str, _: bool) -> None:
        if kind == "tokens":
            summarize(src, out, stats=stats, drop_top=20)
        else:
            summarize(src, out, paa=length)

    def features(src: str, out: str, _: bool) -> None:
        mid = out + ".mid"
        to_model(src, mid)
        part = max(1, length // 4)
        split(mid, out, length=part, features=True, parts=-(-longest // part))

    def autoencoded(src: str, out: str, is_train: bool) -> None:
        ids = out + ".mid"
        to_model(src, ids)
        run = str(work / "ae")
        if is_train:
            from .train import train

            train(ids, run, model="autoencoder", chunk=8, latent=8, epochs=3, hidden=32, embed=16, seed=seed)
        encode(ids, out, autoencoder=run, length=max(1, length // 8), padding=Padding(side="end"))

    out = {
        "as-is": Plan(lambda s, o, _: to_model(s, o), {}, longest),
        "truncate-start": Plan(cut("start"), {}, length),
        "truncate-end": Plan(cut("end"), {}, length),
        "truncate-both": Plan(cut("both"), {}, length),
        "summarize": Plan(then(summarized), {}, length),
        "random-steps": Plan(then(lambda s, o, _: sample(s, o, length=length, seed=seed, padding=Padding(pad=False))),
                             {}, length),
        "random-crops": Plan(then(lambda s, o, _: sample(s, o, length=length, seed=seed, mode="crop", copies=4,
                                                        padding=Padding(pad=False))), {}, length),
        "windows": Plan(then(lambda s, o, _: split(s, o, length=length, last="keep", padding=Padding(pad=False))),
                        {}, length),
        "tbptt": Plan(lambda s, o, _: to_model(s, o, length=min(longest, 8 * length), padding=Padding(side="end")),
                      {"tbptt": max(1, length // 4)}, min(longest, 8 * length)),
        "segments": Plan(lambda s, o, _: to_model(s, o, length=min(longest, 4 * length), padding=Padding(side="end")),
                         {"model": "segments", "segments": 4}, length),
        "autoencoder": Plan(autoencoded, {}, max(1, length // 8)),
    }
    if kind == "readings":
        out["windows-features"] = Plan(features, {}, max(1, length // 4))
    return out


def compare(train_path: str, test_path: str, *, length: int = 500, techniques: list[str] | None = None,
            epochs: int = 8, budget: float | None = None, hidden: int = 32, embed: int = 32, lr: float = 0.01,
            seed: int = 0, on_result=None) -> list[dict]:
    """Run each technique; returns one row per technique (best first marked ``best``)."""
    from .train import evaluate, train

    positive(("--length", length), ("--epochs", epochs))
    unknown = [t for t in (techniques or []) if t not in TECHNIQUES]
    if unknown:
        raise UsageError(f"--techniques: {', '.join(unknown)} unknown; choose from {', '.join(TECHNIQUES)}")
    source = open_source(train_path)
    step_type = describe_steps(source.schema)["type"]
    kind = "tokens" if step_type in ("string", "int32", "int64") else "readings"
    if source.manifest is None:
        raise InputError(f"{train_path}: compare needs a dataset directory (with _seqprep.json)")
    longest = int(source.manifest["lengths"]["max"] or 1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="seqprep-compare-") as tmp:
        work = Path(tmp)
        fit(train_path, str(work / "stats.json"))
        available = plans(kind, length, longest, work, seed)
        chosen = techniques or [t for t in TECHNIQUES if t in available]
        for name in chosen:
            if name not in available:
                rows.append({"technique": name, "skipped": f"not for {kind}"})
                continue
            plan = available[name]
            d = work / name
            d.mkdir()
            plan.prepare(train_path, str(d / "train"), True)
            plan.prepare(test_path, str(d / "test"), False)
            result = train(str(d / "train"), str(d / "run"), epochs=epochs, hidden=hidden, embed=embed, seed=seed,
                           lr=lr, budget=budget, **plan.train)
            scores = evaluate(str(d / "run"), str(d / "test"))
            score = scores.get("per_id", scores["rows"])
            row = {"technique": name, "steps": plan.steps, "epochs": len(result["history"]),
                   "train_seconds": round(sum(r["seconds"] for r in result["history"]), 2),
                   "accuracy": score["accuracy"], "macro_f1": score["macro_f1"],
                   "scored": "per id" if "per_id" in scores else "per row"}
            rows.append(row)
            if on_result is not None:
                on_result(row)
    scored = [r for r in rows if "accuracy" in r]
    if scored:
        # macro-F1 first: a model that predicts one class can match its accuracy, not its F1
        best = max(scored, key=lambda r: (r["macro_f1"], r["accuracy"], -r["train_seconds"]))
        best["best"] = True
    return rows


def check_outputs(json_out: str | None, plot_out: str | None) -> None:
    """Refuse, before any training, --json and --plot paths that hold something seqprep did not
    write (a compare table, a plot)."""
    if plot_out:
        check_image_target(plot_out)
    if json_out and os.path.lexists(json_out):
        try:
            old = json.loads(Path(json_out).read_bytes()) if Path(json_out).is_file() else None
        except (OSError, ValueError, RecursionError):
            old = None
        if not (isinstance(old, list) and all(isinstance(r, dict) and "technique" in r for r in old)):
            raise OutputError(f"{json_out}: exists and is not a table seqprep compare wrote; remove it or give "
                              "--json another path")


def write_json(rows: list[dict], path: str) -> None:
    p = Path(path)
    tmp = p.parent / f".{p.name}.seqprep-tmp-{os.getpid()}"
    tmp.write_text(json.dumps(rows, indent=2) + "\n")
    os.replace(tmp, p)


def plot(rows: list[dict], path: str) -> None:
    """Test accuracy per technique as a bar chart (needs matplotlib)."""
    plt = pyplot()
    scored = [r for r in rows if "accuracy" in r]
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(scored) + 1.2), dpi=100)
    names = [r["technique"] for r in scored][::-1]
    values = [r["accuracy"] for r in scored][::-1]
    colors = ["#cc6677" if r.get("best") else "#4477aa" for r in scored][::-1]
    ax.barh(names, values, color=colors)
    ax.set_xlim(0, 1)
    ax.set_xlabel("test accuracy")
    for y, v in enumerate(values):
        ax.text(v + 0.01, y, f"{v:.3f}", va="center", fontsize=8)
    fig.tight_layout()
    try:
        save(fig, path)
    finally:
        plt.close(fig)
