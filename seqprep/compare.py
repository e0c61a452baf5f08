"""compare: which way of shortening works on your data. Each technique prepares TRAIN and
TEST (statistics fitted on TRAIN only), trains the same model size, and is scored on TEST."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
            exclude: list[str] | None = None, epochs: int = 8, budget: float | None = None, hidden: int = 32,
            embed: int = 32, lr: float = 0.01, seed: int = 0, val_fraction: float = 0.2, baselines: bool = True,
            on_result=None) -> list[dict]:
    """Run each technique, then the baselines; returns one row per technique and baseline.

    Each technique prepares TRAIN and TEST (statistics fitted on TRAIN only) and trains the same
    model; the epoch kept is chosen on ``val_fraction`` of TRAIN's sequences (stratified, by id:
    the windows or crops of one sequence stay together), never on TEST, which is scored once.
    Each score comes with a 95% bootstrap interval of its macro-F1 over TEST's sequences; the
    best row (by macro-F1) is marked ``best`` and every row whose interval reaches the best's
    score ``tie``. Baselines (majority class; TF-IDF + logistic regression for tokens, 1-NN on
    z-scored series for readings) are scored on the same TEST and marked ``baseline``.
    ``on_result(row)`` is called as each row is done.
    """
    from .train import train
    from .train.data import TooFewToCarve
    from .train.run import score_run

    positive(("--length", length), ("--epochs", epochs))
    for flag, names in (("--techniques", techniques), ("--exclude", exclude)):
        unknown = [t for t in names or [] if t not in TECHNIQUES]
        if unknown:
            raise UsageError(f"{flag}: {', '.join(unknown)} unknown; choose from {', '.join(TECHNIQUES)}")
    if not 0 < val_fraction < 1:
        raise UsageError(f"--val-fraction {val_fraction} must be between 0 and 1")
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
        chosen = [t for t in (techniques or [t for t in TECHNIQUES if t in available]) if t not in (exclude or [])]
        for name in chosen:
            if name not in available:
                rows.append({"technique": name, "skipped": f"not for {kind}"})
                continue
            plan = available[name]
            d = work / name
            d.mkdir()
            plan.prepare(train_path, str(d / "train"), True)
            plan.prepare(test_path, str(d / "test"), False)
            options = dict(epochs=epochs, hidden=hidden, embed=embed, seed=seed, lr=lr, budget=budget, **plan.train)
            try:
                result = train(str(d / "train"), str(d / "run"), val_fraction=val_fraction, **options)
                validated = True
            except TooFewToCarve:
                result = train(str(d / "train"), str(d / "run"), **options)  # no validation: the last epoch
                validated = False
            arrays, probs, _ = score_run(str(d / "run"), str(d / "test"), labelled=True)
            y, predicted, per = arrays.y, probs.argmax(1), "per row"
            if len(np.unique(arrays.ids)) < len(arrays.ids):
                from .train.evaluate import per_id

                _, y, merged = per_id(arrays.ids, arrays.y, probs)
                predicted, per = merged.argmax(1), "per id"
            row = {"technique": name, "steps": plan.steps, "epochs": len(result["history"]),
                   "kept_epoch": next((r["epoch"] for r in result["history"] if r.get("kept")), None),
                   "validated": validated,
                   "train_seconds": round(sum(r["seconds"] for r in result["history"]), 2),
                   **_scores(y, predicted, probs.shape[1], seed), "scored": per}
            rows.append(row)
            if on_result is not None:
                on_result(row)
        if baselines:
            for row in baseline_rows(train_path, test_path, kind, seed):
                rows.append(row)
                if on_result is not None:
                    on_result(row)
    mark(rows)
    return rows


BOOTSTRAP = 1000  # resamples of TEST for each score's interval


def _scores(y: np.ndarray, predicted: np.ndarray, k: int, seed: int) -> dict:
    """Accuracy and macro-F1 over the rows with a known class, with a 95% bootstrap interval of
    the macro-F1 (TEST's rows resampled with replacement, seeded)."""
    from .train.metrics import scores, scores_from

    known = y >= 0
    y, predicted = y[known], predicted[known]
    s = scores(y, predicted, k)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(BOOTSTRAP if len(y) else 0):
        pick = rng.integers(0, len(y), len(y))
        confusion = np.bincount(y[pick] * k + predicted[pick], minlength=k * k).reshape(k, k)
        draws.append(scores_from(confusion)["macro_f1"] or 0.0)
    low, high = (float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))) if draws else (None, None)
    return {"accuracy": s["accuracy"], "macro_f1": s["macro_f1"], "macro_f1_interval": [low, high]}


def mark(rows: list[dict]) -> None:
    """Among the techniques (not the baselines): ``best``, the highest macro-F1 (then accuracy,
    then the shorter training); ``tie``, every other one whose interval reaches the best's
    macro-F1 (not told apart from it)."""
    scored = [r for r in rows if r.get("macro_f1") is not None and not r.get("baseline")]
    if not scored:
        return
    best = max(scored, key=lambda r: (r["macro_f1"], r["accuracy"], -r.get("train_seconds", 0.0)))
    best["best"] = True
    for r in scored:
        high = (r.get("macro_f1_interval") or [None, None])[1]
        if r is not best and high is not None and high >= best["macro_f1"]:
            r["tie"] = True


def verdict(rows: list[dict]) -> str | None:
    """One line: the best technique against the strongest baseline, by macro-F1 and intervals."""
    best = next((r for r in rows if r.get("best")), None)
    base = max((r for r in rows if r.get("baseline") and r.get("macro_f1") is not None),
               key=lambda r: r["macro_f1"], default=None)
    if best is None or base is None:
        return None
    b_low, b_high = base["macro_f1_interval"]
    low, high = best["macro_f1_interval"]
    if low is not None and b_high is not None and low > b_high:
        how = "above it"
    elif high is not None and b_low is not None and high < b_low:
        how = "below it: no technique earns its cost over the baseline here"
    else:
        how = "not told apart from it (the intervals overlap)"
    return (f"best technique {best['technique']} (macro-F1 {best['macro_f1']:.3f}) vs the best baseline "
            f"{base['technique']} ({base['macro_f1']:.3f}): {how}")


def baseline_rows(train_path: str, test_path: str, kind: str, seed: int) -> list[dict]:
    """The majority class, and TF-IDF + logistic regression (tokens) or 1-NN Euclidean on
    z-scored series (readings), fitted on TRAIN and scored on TEST."""
    from . import baselines as bl
    from .handle import open as open_dataset

    def read(path: str):
        table = open_dataset(path).to_arrow()
        seqs = table.column("seq").to_pylist()
        labels = table.column("label").to_pylist() if "label" in table.column_names else [None] * len(seqs)
        return seqs, labels

    x_train, y_train = read(train_path)
    x_test, y_test = read(test_path)
    keep_train = [i for i, v in enumerate(y_train) if v is not None]
    keep_test = [i for i, v in enumerate(y_test) if v is not None]
    if not keep_train or not keep_test:
        return []
    classes = sorted({str(y_train[i]) for i in keep_train} | {str(y_test[i]) for i in keep_test})
    index = {c: i for i, c in enumerate(classes)}
    ytr = np.array([index[str(y_train[i])] for i in keep_train])
    yte = np.array([index[str(y_test[i])] for i in keep_test])
    out = [("majority", bl.majority(ytr, len(yte)))]
    if kind == "tokens":
        docs_train = [[str(t) for t in (x_train[i] or [])] for i in keep_train]
        docs_test = [[str(t) for t in (x_test[i] or [])] for i in keep_test]
        out.append(("tf-idf + logistic", bl.tfidf_linear(docs_train, ytr, docs_test, seed=seed)))
    else:
        series_train = [np.asarray(x_train[i] or [0.0], dtype=np.float64) for i in keep_train]
        series_test = [np.asarray(x_test[i] or [0.0], dtype=np.float64) for i in keep_test]
        out.append(("1-nn euclidean", bl.nearest_neighbour(series_train, ytr, series_test)))
    return [{"technique": name, "baseline": True, **_scores(yte, np.asarray(pred, dtype=np.int64), len(classes), seed),
             "scored": "per row"} for name, pred in out]


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


def plot(rows: list[dict], path: str, *, title: str = "", classes: int | None = None) -> None:
    """Test macro-F1 per technique (the metric that picks the best) with its 95% interval as
    error bars; the baselines as vertical lines, chance (1 / classes) dotted (needs matplotlib)."""
    plt = pyplot()
    scored = [r for r in rows if r.get("macro_f1") is not None and not r.get("baseline")]
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(scored) + 1.6), dpi=100)
    names = [r["technique"] for r in scored][::-1]
    values = [r["macro_f1"] for r in scored][::-1]
    low = [r["macro_f1"] - (r["macro_f1_interval"][0] if r["macro_f1_interval"][0] is not None else r["macro_f1"])
           for r in scored][::-1]
    high = [(r["macro_f1_interval"][1] if r["macro_f1_interval"][1] is not None else r["macro_f1"]) - r["macro_f1"]
            for r in scored][::-1]
    colors = ["#cc6677" if r.get("best") else "#ddaa33" if r.get("tie") else "#4477aa" for r in scored][::-1]
    ax.barh(names, values, color=colors, xerr=[low, high], ecolor="#333333", capsize=3)
    for i, r in enumerate(r for r in rows if r.get("baseline") and r.get("macro_f1") is not None):
        ax.axvline(r["macro_f1"], color=("#117733", "#999933", "#882255")[i % 3], linestyle="--", linewidth=1.2,
                   label=f"{r['technique']} {r['macro_f1']:.3f}")
    if classes:
        ax.axvline(1 / classes, color="#888888", linestyle=":", linewidth=1, label=f"chance (1/{classes})")
    ax.set_xlim(0, 1)
    ax.set_xlabel("test macro-F1 (95% bootstrap interval); red: best, yellow: ties with it")
    if title:
        ax.set_title(title, fontsize=10)
    for y, v in enumerate(values):
        ax.text(min(v + 0.01, 0.93), y + 0.25, f"{v:.3f}", va="center", fontsize=7)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    try:
        save(fig, path)
    finally:
        plt.close(fig)
