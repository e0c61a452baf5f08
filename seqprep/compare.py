"""compare: which way of shortening works on your data. Each technique prepares TRAIN and
TEST (statistics fitted on TRAIN only), trains the same model size, and is scored on TEST."""

from __future__ import annotations

import json
import os
import shlex
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .dataset import open_source
from .errors import InputError, OutputError, UsageError, positive
from .fit import fit
from .output import describe_steps
from .plotting import check_folder, check_image_target, pyplot, save
from .steps import Padding, encode, sample, split, summarize

TECHNIQUES = ("as-is", "truncate-start", "truncate-end", "truncate-both", "summarize", "random-steps",
              "random-crops", "windows", "windows-features", "tbptt", "segments", "autoencoder", "conv")


@dataclass(frozen=True)
class Step:
    """One ``seqprep`` command of a technique's preparation, as its command-line options
    (name without ``--`` -> value; True: a flag): run through the library here, printed for a
    user to run. ``train_only``: run on TRAIN alone (the autoencoder's pre-training), writing
    ``makes`` beside the data, which goes on from this step's input."""

    command: str  # "encode", "summarize", "sample", "split", or "train" (the autoencoder)
    options: tuple  # ((name, value), ...)
    train_only: bool = False
    makes: str = ""

    def kwargs(self, paths: dict) -> dict:
        """The library call's keyword arguments: paths filled in, padding flags as a Padding."""
        renamed = {"normalize": "normalize_with", "as-features": "features"}
        out: dict = {}
        for name, value in self.options:
            value = paths.get(value, value) if isinstance(value, str) else value
            if name == "pad-side":
                out["padding"] = Padding(side=value)
            elif name == "no-pad":
                out["padding"] = Padding(pad=False)
            else:
                out[renamed.get(name, name).replace("-", "_")] = value
        return out

    def line(self, src: str, out: str, paths: dict) -> str:
        words = ["seqprep", self.command, src, out]
        for name, value in self.options:
            words += [f"--{name}"] if value is True else [f"--{name}", str(paths.get(value, value))]
        return " ".join(shlex.quote(w) for w in words)


@dataclass
class Plan:
    """How one technique prepares a split (its steps, in order) and trains."""

    steps_list: list  # [Step, ...]
    train: dict  # extra train() options
    steps: int  # steps the LSTM reads per sequence (at most)

    def prepare(self, src: str, out: str, is_train: bool, paths: dict, spent: dict) -> None:
        """Run the steps from ``src`` to ``out`` through the library (intermediate data beside OUT)."""
        from .train import train

        for step, a, b in self._chain(src, out, is_train):
            if step.command == "train":
                kw = step.kwargs(paths)
                result = train(a, paths[step.makes], **kw)
                spent["autoencoder"] = result["history"][-1].get("steps_read", 0) if result["history"] else 0
                continue
            RUN[step.command](a, b, **step.kwargs(paths))

    def lines(self, src: str, out: str, is_train: bool, paths: dict) -> list[str]:
        """The same steps as command lines."""
        return [step.line(a, paths[step.makes] if step.train_only else b, paths)
                for step, a, b in self._chain(src, out, is_train)]

    def _chain(self, src: str, out: str, is_train: bool):
        steps = [s for s in self.steps_list if is_train or not s.train_only]
        current = src
        for i, step in enumerate(steps):
            if step.train_only:
                yield step, current, current
                continue
            last = all(t.train_only for t in steps[i + 1:])
            target = out if last else f"{out}.mid{i}"
            yield step, current, target
            current = target


RUN = {"encode": encode, "summarize": summarize, "sample": sample, "split": split}


def plans(kind: str, length: int, longest: int, seed: int, budget: int | None = None,
          normalize: str = "per-row") -> dict[str, Plan]:
    """The techniques for ``kind`` ("tokens" or "readings"), each as a Plan. Paths named
    "STATS" (the statistics fitted on TRAIN) and "AE" (the autoencoder's run) are filled in
    when a plan runs. With ``budget`` (steps read), the autoencoder's pre-training takes at
    most half of it. Readings are z-scored ``normalize``: "per-row" (each row over its own
    steps) or "global" (with TRAIN's mean and std)."""

    def to_model(**cut) -> Step:
        """Tokens to ids (training-rank vocabulary), readings z-scored; then cut if asked."""
        first = ("stats", "STATS") if kind == "tokens" else ("normalize", "STATS" if normalize == "global" else "per-row")
        return Step("encode", (first,) + tuple(cut.items()))

    def cut(keep: str) -> list:
        return [to_model(length=length, keep=keep, **{"pad-side": "end"})]

    def then(*first: Step) -> list:
        return [*first, to_model(length=length, **{"pad-side": "end"})]

    summarized = (Step("summarize", (("stats", "STATS"), ("drop-top", 20))) if kind == "tokens"
                  else Step("summarize", (("paa", length),)))
    part = max(1, length // 4)
    stride = max(2, -(-longest // length))
    kernel = max(1, min(2 * stride, longest))
    stride = min(stride, kernel)
    ae = Step("train", (("model", "autoencoder"), ("chunk", 8), ("latent", 8), ("epochs", 3), ("hidden", 32),
                        ("embed", 16), ("seed", seed))
              + ((("budget-steps", max(1, budget // 2)),) if budget else ()), train_only=True, makes="AE")
    out = {
        "as-is": Plan([to_model()], {}, longest),
        "truncate-start": Plan(cut("start"), {}, length),
        "truncate-end": Plan(cut("end"), {}, length),
        "truncate-both": Plan(cut("both"), {}, length),
        "summarize": Plan(then(summarized), {}, length),
        "random-steps": Plan(then(Step("sample", (("length", length), ("seed", seed), ("no-pad", True)))), {}, length),
        "random-crops": Plan(then(Step("sample", (("length", length), ("seed", seed), ("mode", "crop"), ("copies", 4),
                                                  ("no-pad", True)))), {}, length),
        "windows": Plan(then(Step("split", (("length", length), ("last", "keep"), ("no-pad", True)))), {}, length),
        "tbptt": Plan([to_model(length=min(longest, 8 * length), **{"pad-side": "end"})],
                      {"tbptt": max(1, length // 4)}, min(longest, 8 * length)),
        "segments": Plan([to_model(length=min(longest, 4 * length), **{"pad-side": "end"})],
                         {"model": "segments", "segments": 4}, length),
        "autoencoder": Plan([to_model(), ae, Step("encode", (("autoencoder", "AE"), ("length", max(1, length // 8)),
                                                             ("pad-side", "end")))], {}, max(1, length // 8)),
        # The whole sequence, shortened by a learned convolutional front-end whose stride
        # brings the longest to about --length steps (train --conv, LSTM-FCN style).
        "conv": Plan([to_model()], {"conv": kernel, "conv_stride": stride}, -(-longest // stride)),
    }
    if kind == "readings":
        out["windows-features"] = Plan([to_model(), Step("split", (("length", part), ("as-features", True),
                                                                   ("parts", -(-longest // part))))], {}, part)
    return out


BUDGET = 3_000_000  # the CLI's --budget: steps each run reads (see compare's time in the README)
NORMALIZE = ("per-row", "global")  # how compare z-scores readings
MAX_VOCAB = 20_000  # compare's default cap on a token vocabulary: embeddings stay small
MAX_REPEATS = 100
WORK = "compare-work"  # where the printed command lines put their files


def compare(train_path: str, test_path: str, *, length: int = 500, techniques: list[str] | None = None,
            exclude: list[str] | None = None, epochs: int = 100, budget: int | None = None, hidden: int = 32,
            embed: int = 32, lr: float = 0.01, seed: int = 0, val_fraction: float = 0.2, baselines: bool = True,
            repeats: int = 1, max_vocab: int | None = MAX_VOCAB, normalize: str = "per-row", on_result=None,
            on_progress=None) -> list[dict]:
    """Run each technique, then the baselines; returns one row per technique and baseline.

    Each technique prepares TRAIN and TEST (statistics fitted on TRAIN only; for tokens, a
    vocabulary of at most ``max_vocab`` ids; readings z-scored ``normalize``: "per-row", as the
    1-NN baseline sees them, or "global", with TRAIN's mean and std) and trains the same model ``repeats`` times (seeds
    ``seed``, ``seed + 1``, ...); the epoch kept is chosen on ``val_fraction`` of TRAIN's
    sequences (stratified, by id: the windows or crops of one sequence stay together), never on
    TEST, which is scored once per run. A row's scores are the runs' means, with a 95% bootstrap
    interval of the macro-F1 over TEST's sequences (and the runs' spread when ``repeats`` > 1);
    the best row (by macro-F1) is marked ``best`` and every row whose interval reaches the
    best's score ``tie``. Baselines (majority class; TF-IDF + logistic regression for tokens,
    1-NN on z-scored series for readings) are scored on the same TEST and marked ``baseline``.
    ``budget`` caps the steps each run reads in training (each row's real steps, summed over
    the batches; the autoencoder's pre-training included), so the same options give the same
    table on any machine; ``epochs`` caps the epochs (the CLI's defaults, 3M steps read and 100
    epochs: a small TRAIN gets many epochs, a large one part of one). Each row holds ``commands``: the ``seqprep`` command lines that make
    its first run (work files under ``compare-work/``). ``on_result(row)`` is called as each
    row is done, ``on_progress(technique, k, n, record)`` after each epoch.
    """
    from .train import train
    from .train.data import TooFewToCarve
    from .train.metrics import per_id, shares_ids
    from .train.run import score_run

    check_options(length=length, epochs=epochs, budget=budget, repeats=repeats, max_vocab=max_vocab,
                  techniques=techniques, exclude=exclude, val_fraction=val_fraction, normalize=normalize)
    source = open_source(train_path)
    step_type = describe_steps(source.schema)["type"]
    kind = "tokens" if step_type in ("string", "large_string", "int32", "int64") else "readings"
    if source.manifest is None:
        raise InputError(f"{train_path}: compare needs a dataset directory (with _seqprep.json)")
    longest = int(source.manifest["lengths"]["max"] or 1)
    counts = (source.manifest.get("labels") or {}).get("counts")
    if isinstance(counts, dict) and len(counts) < 2:
        raise InputError(f"{train_path}: compare needs at least two classes in TRAIN, and it has "
                         f"{len(counts)}{' (' + ', '.join(map(str, counts)) + ')' if counts else ''}: every technique "
                         "would score 1.0; give a TRAIN with labels of two classes or more")
    rows = []
    cap = {"max_size": max_vocab} if kind == "tokens" and max_vocab else {}
    with tempfile.TemporaryDirectory(prefix="seqprep-compare-") as tmp:
        work = Path(tmp)
        fit(train_path, str(work / "stats.json"), **cap)
        available = plans(kind, length, longest, seed, budget, normalize)
        chosen = [t for t in (techniques or [t for t in TECHNIQUES if t in available]) if t not in (exclude or [])]
        for k, name in enumerate(chosen, 1):
            if name not in available:
                rows.append({"technique": name, "skipped": f"not for {kind}"})
                continue
            plan = available[name]
            d = work / name
            d.mkdir()
            paths = {"STATS": str(work / "stats.json"), "AE": str(d / "ae")}
            spent: dict = {}
            plan.prepare(train_path, str(d / "train"), True, paths, spent)
            plan.prepare(test_path, str(d / "test"), False, paths, spent)
            left = None if budget is None else max(1, budget - spent.get("autoencoder", 0))
            runs, validated = [], True
            for r in range(repeats):
                options = dict(epochs=epochs, hidden=hidden, embed=embed, seed=seed + r, lr=lr, budget_steps=left,
                               **plan.train)
                if on_progress is not None:
                    options["on_epoch"] = lambda record, r=r: on_progress(name, k, len(chosen), {**record, "run": r})
                try:
                    result = train(str(d / "train"), str(d / f"run{r}"), val_fraction=val_fraction, **options)
                except TooFewToCarve:
                    result = train(str(d / "train"), str(d / f"run{r}"), **options)  # no validation: the last epoch
                    validated = False
                arrays, probs, _ = score_run(str(d / f"run{r}"), str(d / "test"), labelled=True)
                y, predicted, per = arrays.y, probs.argmax(1), "per row"
                if shares_ids(arrays.ids):
                    _, y, merged = per_id(arrays.ids, arrays.y, probs)
                    predicted, per = merged.argmax(1), "per id"
                runs.append((result["history"], predicted))
            histories = [h for h, _ in runs]
            kept = [next((e["epoch"] for e in h if e.get("kept")), None) for h in histories]
            row = {"technique": name, "steps": plan.steps, "epochs": len(histories[0]), "kept_epoch": kept[0],
                   "validated": validated,
                   "train_seconds": round(float(np.mean([sum(e["seconds"] for e in h) for h in histories])), 2),
                   **({"steps_read": spent.get("autoencoder", 0) + histories[0][-1]["steps_read"]}
                      if budget is not None else {}),
                   **_scores(y, [p for _, p in runs], probs.shape[1], seed), "scored": per}
            if repeats > 1:
                row.update(repeats=repeats, seeds=[seed + r for r in range(repeats)], kept_epochs=kept)
            row["commands"] = commands(plan, train_path, test_path, name, cap, validated=validated,
                                       train=dict(epochs=epochs, hidden=hidden, embed=embed, lr=lr, seed=seed,
                                                  val_fraction=val_fraction if validated else None,
                                                  budget_steps=left, **plan.train))
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


def check_options(*, length: int, epochs: int, budget: int | None, repeats: int, max_vocab: int | None,
                  techniques: list[str] | None, exclude: list[str] | None, val_fraction: float,
                  normalize: str = "per-row") -> None:
    """compare's options, checked before anything runs (one line for the first wrong one)."""
    positive(("--length", length), ("--epochs", epochs), ("--budget", budget), ("--repeats", repeats),
             ("--max-vocab", max_vocab))
    if repeats > MAX_REPEATS:
        raise UsageError(f"--repeats {repeats} must be at most {MAX_REPEATS}")
    for flag, names in (("--techniques", techniques), ("--exclude", exclude)):
        unknown = [t for t in names or [] if t not in TECHNIQUES]
        if unknown:
            raise UsageError(f"{flag}: {', '.join(unknown)} unknown; choose from {', '.join(TECHNIQUES)}")
    if not 0 < val_fraction < 1:
        raise UsageError(f"--val-fraction {val_fraction} must be between 0 and 1")
    if normalize not in NORMALIZE:
        raise UsageError(f"--normalize {normalize!r}: choose from {', '.join(NORMALIZE)}")


def commands(plan: Plan, train_path: str, test_path: str, name: str, cap: dict, *, validated: bool,
             train: dict) -> list[str]:
    """The command lines that make a technique's first run: fit, prepare TRAIN and TEST, train,
    evaluate (files under compare-work/)."""
    d = f"{WORK}/{name}"
    paths = {"STATS": f"{WORK}/stats.json", "AE": f"{d}/ae"}
    fit_line = ["seqprep", "fit", train_path, paths["STATS"]] + (["--max-size", str(cap["max_size"])] if cap else [])
    uses_stats = any(value == "STATS" for step in plan.steps_list for _, value in step.options)
    lines = [" ".join(shlex.quote(w) for w in fit_line)] if uses_stats else []
    lines += plan.lines(train_path, f"{d}/train", True, paths)
    lines += plan.lines(test_path, f"{d}/test", False, paths)
    words = ["seqprep", "train", f"{d}/train", f"{d}/run"]
    for key, value in train.items():
        if value is not None:
            words += [f"--{key.replace('_', '-')}", str(value)]
    lines.append(" ".join(shlex.quote(w) for w in words))
    lines.append(" ".join(shlex.quote(w) for w in ["seqprep", "evaluate", f"{d}/run", f"{d}/test"]))
    return lines


BOOTSTRAP = 1000  # resamples of TEST for each score's interval


def _scores(y: np.ndarray, predicted: "np.ndarray | list[np.ndarray]", k: int, seed: int) -> dict:
    """Accuracy and macro-F1 over the rows with a known class, with a 95% bootstrap interval of
    the macro-F1 (TEST's rows resampled with replacement, seeded). ``predicted`` may hold one
    prediction per repeat (R runs of different seeds): the scores are then their means, each
    resample scores every run on the same rows, and the runs' own macro-F1s are listed."""
    from .train.metrics import macro_f1, scores

    runs = [predicted] if isinstance(predicted, np.ndarray) else list(predicted)
    known = y >= 0
    y = y[known]
    runs = [p[known] for p in runs]
    each = [scores(y, p, k) for p in runs]
    out = {"accuracy": _mean([s["accuracy"] for s in each]), "macro_f1": _mean([s["macro_f1"] for s in each])}
    if len(runs) > 1:
        out["macro_f1_runs"] = [s["macro_f1"] for s in each]
        out["macro_f1_sd"] = float(np.std(out["macro_f1_runs"]))
    out["macro_f1_interval"] = list(_bootstrap(y, runs, k, seed))
    return out


def _mean(values: list) -> float | None:
    return None if any(v is None for v in values) else float(np.mean(values))


def _bootstrap(y: np.ndarray, runs: list[np.ndarray], k: int, seed: int) -> tuple:
    """The 2.5th and 97.5th percentiles of the runs' mean macro-F1 over BOOTSTRAP resamples of
    the rows (drawn in blocks, so memory stays at about 2**22 numbers)."""
    from .train.metrics import macro_f1

    n = len(y)
    if not n:
        return None, None
    rng = np.random.default_rng(seed)
    block = max(1, min(BOOTSTRAP, (1 << 22) // n))
    draws = []
    for start in range(0, BOOTSTRAP, block):
        b = min(block, BOOTSTRAP - start)
        pick = rng.integers(0, n, (b, n))
        offset = (np.arange(b) * k * k)[:, None]
        f1 = np.zeros(b)
        for p in runs:
            codes = (y[pick] * k + p[pick] + offset).ravel()
            f1 += macro_f1(np.bincount(codes, minlength=b * k * k).reshape(b, k, k))
        draws.append(f1 / len(runs))
    draws = np.concatenate(draws)
    return float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))


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
    from .ragged import from_arrow, to_arrow

    def read(path: str):
        dataset = open_dataset(path)
        table = dataset.to_arrow()
        labels = table.column("label").to_pylist() if "label" in table.column_names else [None] * table.num_rows
        seq = table.column("seq")
        if dataset.padding is not None and "length" in table.column_names:  # padded already: its real steps
            seq = to_arrow(from_arrow(seq, table.column("length"), dataset.padding.side))
        return seq, labels

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
    # The columns as they are read (Arrow), never as Python objects: a token or a reading as a
    # Python object costs 30-60 bytes, and a split of 20M tokens took 12 GiB that way.
    x_train, x_test = x_train.take(keep_train), x_test.take(keep_test)
    if kind == "tokens":
        out.append(("tf-idf + logistic", bl.tfidf_linear(x_train, ytr, x_test, seed=seed)))
    else:
        out.append(("1-nn euclidean", bl.nearest_neighbour(_series(x_train), ytr, _series(x_test))))
    return [{"technique": name, "baseline": True, **_scores(yte, np.asarray(pred, dtype=np.int64), len(classes), seed),
             "scored": "per row"} for name, pred in out]


def _series(column) -> list:
    """Each row of a column of readings as a float64 array (``(T,)``, or ``(T, C)`` for C
    channels) viewing one flat copy; an empty or null row: one 0."""
    from .ragged import from_arrow

    rows = from_arrow(column)
    flat = np.asarray(rows.values, dtype=np.float64)
    empty = np.zeros((1,) + flat.shape[1:])
    offsets = rows.offsets.tolist()
    return [flat[a:b] if b > a else empty for a, b in zip(offsets[:-1], offsets[1:])]


def check_outputs(json_out: str | None, plot_out: str | None) -> None:
    """Refuse, before any training, --json and --plot paths that hold something seqprep did not
    write (a compare table, a plot)."""
    if plot_out:
        check_image_target(plot_out)
    if json_out:
        check_folder(json_out, "--json")
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
