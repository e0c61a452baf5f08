"""train, evaluate, predict: the library functions behind the commands."""

from __future__ import annotations

import csv
import inspect
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch

from ..options import Model, Schedule, TbpttLoss, values
from .. import __version__
from ..errors import InputError, UsageError, positive
from ..atomic import DATA_KINDS, RUN_KINDS, AtomicDir, check_target
from ..plotting import pyplot
from .checkpoint import CHECKPOINT, DAMAGED, check_seed, check_training_floats, model_from, read, shapes
from .data import Arrays, TooFewToCarve, carve, check_fits, check_labels, load
from .distributed import join, launched, leave
from .evaluate import per_id, probabilities, scores
from .metrics import shares_ids
from .loop import TrainConfig, fit
from .model import POOLS, LSTMClassifier, ModelConfig, build


def pick_device(name: str) -> torch.device:
    if name not in ("auto", "cpu", "cuda"):
        raise UsageError(f"--device {name!r} must be one of auto, cpu, cuda")
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is available here; use --device cpu or auto")
    return torch.device("cuda" if name != "cpu" and torch.cuda.is_available() else "cpu")


MODELS = values(Model)
LONG = 500  # steps past which a plain LSTM is warned about
SIZE_LIMIT = 1 << 20  # --embed, --hidden, --conv: far past any model, before sizes overflow
MAX_LR = 100.0
POOL = "concat"  # the default pooling: measured on real data (README, Training on real data)
SCHEDULES = values(Schedule)
TBPTT_LOSSES = values(TbpttLoss)


def train(data: str, run: str, *, val: str | None = None, model: str = "lstm", segments: int = 2, chunk: int = 16,
          latent: int = 16, embed: int = 64, hidden: int = 128, layers: int = 1,
          bidirectional: bool = False, dropout: float = 0.0, tbptt: int | None = None, epochs: int = 10,
          batch_size: int = 32, lr: float = 1e-3, patience: int | None = None, device: str = "auto",
          seed: int = 0, budget: float | None = None, overwrite: bool = False, on_epoch=None,
          on_batch=None, pool: str = POOL, input_dropout: float = 0.0, conv: int | None = None,
          conv_stride: int | None = None, weight_decay: float = 0.01, clip: float | None = 1.0,
          schedule: str = "cosine", warmup: float = 0.05, balance: bool = False, tbptt_loss: str = "last",
          val_fraction: float | None = None, budget_steps: int | None = None, threads: int | None = None) -> dict:
    """Train an LSTM classifier on a dataset; writes RUN/model.pt, metrics.jsonl and curves.png.

    The recipe: AdamW (``weight_decay``), gradients clipped to norm ``clip``, the learning rate
    warmed up over ``warmup`` of the steps then decayed (``schedule`` "cosine", or "constant"),
    dropout on the embedded steps (``input_dropout``) and before the classifier (``dropout``),
    the loss weighted by class with ``balance``. The LSTM's outputs over the real steps are
    pooled (``pool``: last, mean, max, or concat of the three). ``conv`` K puts two 1-D
    convolutions in front that shorten the sequence by ``conv_stride`` (default K // 2).
    With ``val`` (or ``val_fraction`` F: a stratified, seeded split of DATA by id), the epoch
    with the best validation macro-F1 is kept. ``budget`` stops after the epoch that uses up so
    many seconds (machine-dependent); ``budget_steps`` after the batch whose steps read (each
    row's real steps, summed over the batches) reach it, the same on every machine, the
    schedule spread over the epochs it reaches into. ``threads`` sets the CPU threads PyTorch
    computes with, for the whole process (default: PyTorch's own, one per core); results differ
    in the last bits between thread counts.
    """
    positive(("--threads", threads))
    if threads is not None and threads > 4096:
        raise UsageError(f"--threads {threads:,} must be at most 4,096")
    positive(("--embed", embed), ("--hidden", hidden), ("--layers", layers), ("--epochs", epochs),
             ("--batch-size", batch_size), ("--tbptt", tbptt), ("--conv", conv), ("--conv-stride", conv_stride),
             ("--budget-steps", budget_steps))
    for name, value, most in (("--embed", embed, SIZE_LIMIT), ("--hidden", hidden, SIZE_LIMIT),
                              ("--layers", layers, 1024), ("--epochs", epochs, 10**9), ("--conv", conv, SIZE_LIMIT),
                              ("--batch-size", batch_size, 2**31 - 1), ("--tbptt", tbptt, 2**31 - 1)):
        if value is not None and value > most:
            raise UsageError(f"{name} {value:,} must be at most {most:,}")
    check_training_floats(lr=lr, budget=budget, val_fraction=val_fraction, clip=clip)
    if lr > MAX_LR:
        raise UsageError(f"--lr {lr} must be at most {MAX_LR:g} (a larger rate only diverges)")
    for name, value, allowed in (("--pool", pool, POOLS), ("--schedule", schedule, SCHEDULES),
                                 ("--tbptt-loss", tbptt_loss, TBPTT_LOSSES)):
        if value not in allowed:
            raise UsageError(f"{name} {value!r} must be one of {', '.join(allowed)}")
    if not 0 <= input_dropout < 1:
        raise UsageError(f"--input-dropout {input_dropout} must be in [0, 1)")
    if not 0 <= weight_decay <= 1e6:
        raise UsageError(f"--weight-decay {weight_decay} must be a number from 0 to 1e6")
    if not 0 <= warmup < 1:
        raise UsageError(f"--warmup {warmup} must be in [0, 1) (a share of all the steps)")
    if val_fraction is not None and val is not None:
        raise UsageError("give --val (a validation split) or --val-fraction (one carved from DATA), not both")
    if val_fraction is not None and not 0 < val_fraction < 1:
        raise UsageError(f"--val-fraction {val_fraction} must be between 0 and 1 (the share of DATA's sequences "
                         "to validate on)")
    if conv is not None and (model != "lstm" or tbptt is not None):
        raise UsageError("--conv applies to --model lstm without --tbptt (it shortens the sequence already)")
    if conv is None and conv_stride is not None:
        raise UsageError("--conv-stride applies with --conv K")
    if conv is not None and conv_stride is not None and conv_stride > conv:
        raise UsageError(f"--conv-stride {conv_stride} must be at most --conv {conv}: a larger stride skips steps")
    if tbptt_loss != "last" and tbptt is None:
        raise UsageError("--tbptt-loss applies with --tbptt K")
    check_seed(seed)
    if threads is not None:
        torch.set_num_threads(threads)
    if model not in MODELS:
        raise UsageError(f"--model {model!r} must be one of {', '.join(MODELS)}")
    if model == "autoencoder":
        from .autoencoder import train_autoencoder

        asked = dict(val_fraction=val_fraction, pool=pool, input_dropout=input_dropout, conv=conv,
                     conv_stride=conv_stride, weight_decay=weight_decay, clip=clip, schedule=schedule, warmup=warmup,
                     balance=balance, tbptt=tbptt, tbptt_loss=tbptt_loss, patience=patience, dropout=dropout,
                     bidirectional=bidirectional, layers=layers, segments=segments)
        defaults = inspect.signature(train).parameters  # the classifier's options, left as they are
        given = ["--" + name.replace("_", "-") for name, value in asked.items() if value != defaults[name].default]
        if given:
            raise UsageError(f"{', '.join(given)} apply to the classifier (--model lstm or segments), not to "
                             "--model autoencoder")
        if launched().active:
            raise UsageError("--model autoencoder trains in one process; run it without torchrun")
        return train_autoencoder(data, run, chunk=chunk, latent=latent, val=val, embed=embed, hidden=hidden,
                                 epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, overwrite=overwrite,
                                 on_epoch=on_epoch, budget_steps=budget_steps)
    if model == "segments" and segments < 1:
        raise UsageError(f"--segments {segments} must be positive")
    if tbptt is not None and model == "segments":
        raise UsageError("--tbptt applies to --model lstm; segments are short already")
    if tbptt is not None and bidirectional:
        raise UsageError("--tbptt reads sequences forward in chunks; it does not combine with --bidirectional")
    if not 0 <= dropout < 1:
        raise UsageError(f"--dropout {dropout} must be in [0, 1)")
    if patience is not None and (patience < 1 or (val is None and val_fraction is None)):
        raise UsageError("--patience needs --val or --val-fraction and must be positive")
    check_target(run, inputs=(data,) + ((val,) if val else ()), overwrite=overwrite, replaces=RUN_KINDS)
    train_data = load(data)
    if not train_data.classes or (train_data.y < 0).all():
        raise InputError(f"{data}: no labels to train on")
    check_labels(train_data, data)
    val_data = load(val, classes=train_data.classes) if val else None
    if val_fraction is not None:
        train_data, val_data = carve(train_data, val_fraction, seed)
        if not (val_data.y >= 0).any() or not (train_data.y >= 0).any():
            raise TooFewToCarve(f"{data}: too few labelled sequences to carve --val-fraction {val_fraction} from; "
                             "give --val")
    if val_data is not None:
        check_fits(val_data, train_data.vocab_size, train_data.channels, val)
        check_labels(val_data, val)
        if not (val_data.y >= 0).any():
            raise InputError(f"{val}: no labelled rows to validate on; give a labelled --val")
    if conv is not None and conv > max(train_data.longest, 1):
        raise UsageError(f"--conv {conv} is more than the {train_data.longest} steps of the longest row of {data}; "
                         "use at most that many")
    if model == "segments" and segments > max(train_data.longest, 1):
        raise UsageError(f"--segments {segments} is more than the {train_data.longest} steps of the longest row of "
                         f"{data}; use at most that many")
    torch.manual_seed(seed)
    cfg = ModelConfig(classes=len(train_data.classes), vocab_size=train_data.vocab_size,
                      channels=train_data.channels, embed=embed, hidden=hidden, layers=layers,
                      bidirectional=bidirectional, dropout=dropout, kind=model,
                      segments=segments if model == "segments" else 1, pool=pool, input_dropout=input_dropout,
                      conv=conv, conv_stride=(conv_stride or max(1, conv // 2)) if conv else 1)
    shapes(cfg, build, f"--embed {embed} --hidden {hidden} --layers {layers} on {train_data.vocab_size or 0:,} "
           f"token ids / {train_data.channels} channel(s)", error=UsageError)
    tcfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, tbptt=tbptt, patience=patience, seed=seed,
                       budget=budget, weight_decay=weight_decay, clip=clip, schedule=schedule, warmup=warmup,
                       balance=balance, tbptt_loss=tbptt_loss, budget_steps=budget_steps)
    if budget_steps is not None and launched().active:
        raise UsageError("--budget-steps counts the steps one process reads; run it without torchrun")
    if tbptt_loss == "every" and launched().active:
        raise UsageError("--tbptt-loss every back-propagates chunk by chunk in one process; run it without torchrun")
    world = launched()
    dev = join(world, pick_device(device))
    done = False
    try:
        net = build(cfg).to(dev)
        if world.is_main:
            history = _train_into(run, net, train_data, val_data, tcfg, dev, cfg, data, overwrite, world,
                                  {"val": val, "val_fraction": val_fraction},
                                  on_epoch, on_batch)
        else:  # process 0 writes RUN; the others only train along
            history = fit(net, train_data, val_data, tcfg, dev, world=world)
        done = True
    finally:
        leave(world, done=done)
    warnings = []
    if len(np.unique(train_data.y[train_data.y >= 0])) < 2:
        warnings.append(f"{data} holds one class only: the model has nothing to tell apart")
    if train_data.offsets is not None and train_data.longest > LONG:
        warnings.append(f"sequences of up to {train_data.longest:,} steps, used as they are: an LSTM learns poorly "
                        f"past a few hundred; consider truncate, split, summarize or --tbptt")
    return {"run": run, "epochs": len(history), "history": history, "device": str(dev), "warnings": warnings,
            "rank": world.rank, "processes": world.size}


def _train_into(run: str, net, train_data: Arrays, val_data: Arrays | None, tcfg: TrainConfig, dev, cfg: ModelConfig,
                data: str, overwrite: bool, world, validation: dict, on_epoch, on_batch) -> list[dict]:
    out = AtomicDir(run, overwrite=overwrite, replaces=RUN_KINDS)
    try:
        with open(out.tmp / "metrics.jsonl", "w") as log:
            def record(r: dict) -> None:
                log.write(json.dumps(r) + "\n")
                log.flush()
                if on_epoch is not None:
                    on_epoch(r)

            history = fit(net, train_data, val_data, tcfg, dev, on_epoch=record, on_batch=on_batch, world=world)
        plot_curves(history, out.tmp / "curves.png")
        torch.save({
            "state_dict": {k: v.cpu() for k, v in net.state_dict().items()},
            "model": asdict(cfg),
            "train": {**asdict(tcfg), "processes": world.size, **validation,
                      "kept_epoch": next((r["epoch"] for r in history if r.get("kept")), None)},
            "classes": [c if type(c) in (str, int) else str(c) for c in train_data.classes],
            "data": {"path": data, "length": train_data.longest, "pad_side": train_data.pad_side,
                     "variable_length": train_data.offsets is not None},
            "seqprep_version": __version__,
        }, out.tmp / CHECKPOINT)
        out.commit()
    except BaseException:
        out.abort()
        raise
    return history


def plot_curves(history: list[dict], path: Path) -> None:
    """Loss (train and validation) and the scores (train accuracy; validation accuracy and
    macro-F1, per id too where rows share ids: the metric that picks the kept epoch) per epoch, the kept epoch marked, if
    matplotlib is there."""
    try:
        plt = pyplot()
    except UsageError:
        return  # curves are a convenience; metrics.jsonl holds the same numbers
    from matplotlib.ticker import MaxNLocator

    epochs = [r["epoch"] for r in history]
    kept = next((r["epoch"] for r in history if r.get("kept")), None)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5), dpi=100)
    for ax, series, title, ylabel in (
            (left, (("loss", "train"), ("val_loss", "validation")), "loss", "cross-entropy"),
            (right, (("accuracy", "train accuracy"), ("val_accuracy", "validation accuracy"),
                     ("val_macro_f1", "validation macro-F1"),
                     ("val_macro_f1_per_id", "validation macro-F1 per id")), "scores", "score")):
        for key, label in series:
            if history and key in history[0]:
                ax.plot(epochs, [r[key] for r in history], marker="o", markersize=3, label=label)
        if kept is not None:
            ax.axvline(kept, color="#888888", linestyle="--", linewidth=1, label=f"kept (epoch {kept})")
        ax.set(xlabel="epoch", ylabel=ylabel, title=title)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=8)
    right.set_ylim(0, 1.02)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def load_run(run: str) -> tuple[LSTMClassifier, dict]:
    """The classifier in RUN/model.pt and its checkpoint, every field checked (see checkpoint.py)."""
    ckpt, path = read(run, f"seqprep train DATA {run}")
    if ckpt["model"].get("kind") == "autoencoder":
        raise InputError(f"{path}: an autoencoder, not a classifier; use it with `seqprep encode IN OUT --autoencoder "
                         f"{run}`, or train a classifier")
    model = model_from(ckpt, path, ModelConfig, build, ("lstm", "segments"))
    classes = ckpt.get("classes")
    if not isinstance(classes, list) or len(classes) != model.cfg.classes:
        said = f"{len(classes)} classes" if isinstance(classes, list) else f"classes of type {type(classes).__name__}"
        raise InputError(f"{path}: {said}, but the model has {model.cfg.classes} outputs; {DAMAGED}")
    kinds = {type(c) for c in classes}
    if not (kinds <= {str} or kinds <= {int}) or len(set(classes)) != len(classes):
        raise InputError(f"{path}: the class list {classes[:10]!r} must be distinct strings or distinct integers; "
                         f"{DAMAGED}")
    return model, ckpt


def score_run(run: str, data: str, *, labelled: bool = False) -> tuple[Arrays, np.ndarray, dict]:
    """RUN's model on DATA: the arrays, each row's class probabilities and the checkpoint."""
    model, ckpt = load_run(run)
    classes = ckpt["classes"]
    arrays = load(data, classes=classes)
    check_fits(arrays, model.cfg.vocab_size, model.cfg.channels, data)
    if labelled:
        check_labels(arrays, data)
        if not (arrays.y >= 0).any():
            raise InputError(f"{data}: {'no rows' if len(arrays.y) == 0 else 'no labelled rows'} to score; evaluate "
                             "needs labelled data (`seqprep predict` labels unlabelled data)")
    return arrays, probabilities(model, arrays, torch.device("cpu")), ckpt


def evaluate(run: str, data: str) -> dict:
    """Accuracy, macro-F1 and the confusion matrix; per id too where ids repeat (windows, crops)."""
    arrays, probs, ckpt = score_run(run, data, labelled=True)
    k = len(ckpt["classes"])
    result = {"classes": ckpt["classes"], "rows": scores(arrays.y, probs.argmax(1), k),
              "unlabelled": int((arrays.y < 0).sum())}  # rows scored by nothing: said, not hidden
    if shares_ids(arrays.ids):
        ids, y, merged = per_id(arrays.ids, arrays.y, probs)
        result["per_id"] = scores(y, merged.argmax(1), k)
    return result


def predict(run: str, data: str, out: str, *, overwrite: bool = False) -> dict:
    """id, predicted class and class probabilities per row: a dataset, or CSV when OUT ends in .csv."""
    check_target(out, inputs=(data, run), overwrite=overwrite,
                 replaces=("predictions",) if out.endswith(".csv") else DATA_KINDS)
    arrays, probs, ckpt = score_run(run, data)
    classes = ckpt["classes"]
    predicted = [classes[i] for i in probs.argmax(1)] if len(probs) else []
    if out.endswith(".csv"):
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(out).with_name(f".{Path(out).name}.seqprep-tmp")
        with open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "predicted"] + [f"p_{c}" for c in classes])
            for i, p, row in zip(arrays.ids.tolist(), predicted, probs.tolist()):
                w.writerow([i, p] + [f"{v:.6f}" for v in row])
        tmp.replace(out)
        return {"rows": len(predicted)}
    from ..output import DatasetSink

    table = {"id": pa.array(arrays.ids), "predicted": pa.array(predicted),
             "probabilities": pa.FixedSizeListArray.from_arrays(pa.array(probs.reshape(-1), pa.float32()), len(classes))}
    with DatasetSink(out, lineage=[{"command": "predict", "run": run, "data": data}], overwrite=overwrite,
                     extra={"classes": classes}) as sink:
        sink.write(pa.RecordBatch.from_pydict(table))
        return sink.finish()
