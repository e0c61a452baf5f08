"""train, evaluate, predict: LSTM classifiers (PyTorch, imported only when these run)."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from .. import options
from . import InArg, app, err, out, show
from ..errors import UsageError


def _train_module():
    try:
        from .. import train
    except ImportError as e:
        if "torch" in str(e):
            raise UsageError("this command needs PyTorch: run `make install-train` (pip install torch==2.13.0)") from None
        raise
    return train


Device = options.choices("Device", options.Device)
Model = options.choices("Model", options.Model)
Pool = options.choices("Pool", options.Pool)
Schedule = options.choices("Schedule", options.Schedule)
TbpttLoss = options.choices("TbpttLoss", options.TbpttLoss)


class EpochBar:
    """A progress bar over one epoch's batches, on stderr, only when stderr is a terminal."""

    def __init__(self):
        self.bar = None
        self.task = None

    def update(self, epoch: int, batch: int, total: int) -> None:
        if not err.is_terminal:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        if self.bar is None:
            self.bar = Progress(TextColumn(f"epoch {epoch}"), BarColumn(), MofNCompleteColumn(), TextColumn("batches"),
                                TimeElapsedColumn(), console=err, transient=True)
            self.bar.start()
            self.task = self.bar.add_task("epoch", total=total)
        self.bar.update(self.task, completed=batch + 1)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


RunArg = Annotated[str, typer.Argument(metavar="RUN", help="The run directory (model.pt, metrics.jsonl).")]
RunOverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="Replace RUN if it exists (atomically).")]
PredictOverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="Replace OUT if it exists (atomically).")]


@app.command(epilog="Example: seqprep train data/train-ids runs/lstm --val data/val-ids --epochs 10 --tbptt 100")
def train(
    src: InArg,
    run: RunArg,
    val: Annotated[Optional[str], typer.Option(help="A validation split: early stopping keeps the best epoch (without --val or --val-fraction, the last).")] = None,
    model: Annotated[Model, typer.Option(help="lstm: one LSTM over the sequence; segments: one shared LSTM per segment.")] = Model.lstm,
    segments: Annotated[int, typer.Option(help="--model segments: how many segments.")] = 2,
    chunk: Annotated[int, typer.Option(help="--model autoencoder: steps per chunk, each squeezed into one code.")] = 16,
    latent: Annotated[int, typer.Option(help="--model autoencoder: the size of each chunk's code.")] = 16,
    embed: Annotated[int, typer.Option(help="Embedding size (token ids) or input projection (readings).")] = 64,
    hidden: Annotated[int, typer.Option(help="LSTM hidden size.")] = 128,
    layers: Annotated[int, typer.Option(help="Stacked LSTM layers.")] = 1,
    bidirectional: Annotated[bool, typer.Option("--bidirectional", help="Read each sequence both ways.")] = False,
    dropout: Annotated[float, typer.Option(help="Dropout before the classifier (and between layers).")] = 0.0,
    tbptt: Annotated[Optional[int], typer.Option(help="Truncated back-propagation through time in chunks of K steps.")] = None,
    epochs: Annotated[int, typer.Option(help="Training epochs.")] = 10,
    batch_size: Annotated[int, typer.Option(help="Sequences per batch.")] = 32,
    lr: Annotated[float, typer.Option(help="Adam's learning rate.")] = 1e-3,
    patience: Annotated[Optional[int], typer.Option(help="With --val: stop after P epochs without a better validation macro-F1.")] = None,
    val_fraction: Annotated[Optional[float], typer.Option(help="Without --val: hold out this share of DATA's sequences (stratified, by id, seeded) to validate on.")] = None,
    pool: Annotated[Pool, typer.Option(help="How the LSTM's outputs over the real steps become one vector: the last, their mean, max, or all three (concat).")] = Pool.concat,
    input_dropout: Annotated[float, typer.Option(help="Dropout on the embedded steps.")] = 0.0,
    conv: Annotated[Optional[int], typer.Option(help="A 1-D convolutional front-end with kernel K that shortens the sequence (LSTM-FCN style).")] = None,
    conv_stride: Annotated[Optional[int], typer.Option(help="With --conv K: the stride it shortens by.", show_default="K // 2")] = None,
    weight_decay: Annotated[float, typer.Option(help="AdamW's weight decay.")] = 0.01,
    clip: Annotated[float, typer.Option(help="Clip the gradients' norm to this; 0: no clipping.")] = 1.0,
    schedule: Annotated[Schedule, typer.Option(help="The learning rate: warm-up then cosine decay, or constant.")] = Schedule.cosine,
    warmup: Annotated[float, typer.Option(help="The share of all steps the warm-up takes.")] = 0.05,
    balance: Annotated[bool, typer.Option("--balance", help="Weight the loss by class (n / (k x class rows)) for skewed labels.")] = False,
    tbptt_loss: Annotated[TbpttLoss, typer.Option(help="With --tbptt: the loss at each sequence's end (last), or after every chunk (every).")] = TbpttLoss.last,
    budget_steps: Annotated[Optional[str], typer.Option(help="Stop after the batch whose steps read (rows' real steps, summed) reach N, e.g. 2M: the same on every machine.", show_default="no budget")] = None,
    device: Annotated[Device, typer.Option(help="auto takes CUDA when present.")] = Device.auto,
    seed: Annotated[int, typer.Option(help="Seed for weights and batch order (deterministic on CPU for a thread count).")] = 0,
    threads: Annotated[Optional[int], typer.Option(help="CPU threads PyTorch computes with. Fewer run faster on a busy machine; results differ in the last bits between thread counts.", show_default="one per core")] = None,
    overwrite: RunOverwriteOpt = False,
) -> None:
    """Train an LSTM classifier on encoded sequences, of one length or of many.

    IN holds token ids (read through an embedding) or readings (through a linear layer), as
    `seqprep encode` writes them, padded to one length or not. Rows of different lengths are
    batched with rows of similar length, each batch padded to its longest row, and the class is
    read at each row's last real step, so padding never changes the result. RUN receives
    model.pt (the weights, config, classes and vocabulary) and metrics.jsonl (one line an epoch).

    --model autoencoder trains an encoder-decoder LSTM that rebuilds chunks of --chunk steps
    from a --latent code (the reconstruction error is reported); `seqprep encode IN OUT
    --autoencoder RUN` then replaces each chunk by its code.

    With --tbptt K the sequence runs in chunks of K steps, the state carried and detached
    between chunks; the loss at the sequence's end back-propagates only through its last
    chunk (its last ((T - 1) mod K) + 1 steps), earlier chunks only carry the state.
    """
    module = _train_module()

    def show(r: dict) -> None:
        if "reconstruction_error" in r:
            extra = f"  val {r['val_reconstruction_error']:.4f}" if "val_reconstruction_error" in r else ""
            err.print(f"epoch {r['epoch']:>3}  reconstruction error {r['reconstruction_error']:.4f}{extra}  "
                      f"{r['seconds']:.2f}s", markup=False)
            return
        extra = (f"  val loss {r['val_loss']:.4f}  val acc {r['val_accuracy']:.3f}  val F1 {r['val_macro_f1']:.3f}"
                 if "val_loss" in r else "")
        if "val_macro_f1_per_id" in r:
            extra += f"  per id: val acc {r['val_accuracy_per_id']:.3f}  val F1 {r['val_macro_f1_per_id']:.3f}"
        err.print(f"epoch {r['epoch']:>3}  loss {r['loss']:.4f}  acc {r['accuracy']:.3f}{extra}  {r['seconds']:.2f}s",
                  markup=False)

    bar = EpochBar()
    result = module.train(src, run, val=val, model=model.value, segments=segments, chunk=chunk, latent=latent, embed=embed, hidden=hidden, layers=layers, bidirectional=bidirectional,
                          dropout=dropout, tbptt=tbptt, epochs=epochs, batch_size=batch_size, lr=lr,
                          patience=patience, device=device.value, seed=seed, overwrite=overwrite,
                          val_fraction=val_fraction, pool=pool.value, input_dropout=input_dropout, conv=conv,
                          conv_stride=conv_stride, weight_decay=weight_decay, clip=clip if clip != 0 else None,
                          schedule=schedule.value, warmup=warmup, balance=balance, tbptt_loss=tbptt_loss.value,
                          budget_steps=options.count(budget_steps, "--budget-steps") if budget_steps is not None else None,
                          threads=threads, on_epoch=lambda r: (bar.stop(), show(r)), on_batch=bar.update)
    bar.stop()
    if result.get("rank", 0) != 0:
        return  # under torchrun, process 0 reports
    for warning in result.get("warnings", []):
        err.print(f"Warning: {warning}", markup=False)
    where = result.get("device", "cpu") + (f" x {result['processes']} processes" if result.get("processes", 1) > 1 else "")
    kept = next((r["epoch"] for r in result.get("history", []) if r.get("kept")), None)
    epochs = f"{result['epochs']} epoch{'s' if result['epochs'] != 1 else ''}"
    err.print(f"train: {epochs} on {where}{f' (kept epoch {kept})' if kept else ''}; model in {run}/model.pt",
              markup=False)


@app.command(epilog="Example: seqprep evaluate runs/lstm data/test-ids --json")
def evaluate(
    run: RunArg,
    src: InArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Score a trained model on a labelled dataset: accuracy, macro-F1, confusion matrix.

    Where several rows share an id (windows, crops), also per id, from their mean probabilities.
    """
    result = _train_module().evaluate(run, src)
    if as_json:
        out.print(json.dumps(result), markup=False)
        return
    for level in ("rows", "per_id"):
        if level in result:
            s = result[level]
            out.print(f"{level}: {s['rows']:,}  accuracy {s['accuracy']:.4f}  macro-F1 {s['macro_f1']:.4f}", markup=False)
    if result.get("unlabelled"):
        out.print(f"unlabelled: {result['unlabelled']:,} rows have no label and are not scored", markup=False)
    out.print("confusion (rows: true " + ", ".join(map(str, result["classes"])) + "):", markup=False)
    for row in result["rows"]["confusion"]:
        out.print("  " + " ".join(f"{v:>6}" for v in row), markup=False)


@app.command(epilog="Example: seqprep predict runs/lstm data/test-ids predictions.csv")
def predict(
    run: RunArg,
    src: InArg,
    dest: Annotated[str, typer.Argument(metavar="OUT", help="A dataset directory, or a .csv file.")],
    overwrite: PredictOverwriteOpt = False,
) -> None:
    """Predict the class of every row: its id, the class name and the class probabilities."""
    result = _train_module().predict(run, src, dest, overwrite=overwrite)
    err.print(f"predict: wrote {result['rows']:,} rows to {dest}", markup=False)


@app.command(epilog="Example: seqprep compare data/train data/test --length 500 --epochs 8 --plot compare.png")
def compare(
    train_data: Annotated[str, typer.Argument(metavar="TRAIN", help="The training dataset (statistics are fitted on it only).")],
    test_data: Annotated[str, typer.Argument(metavar="TEST", help="The test dataset the techniques are scored on.")],
    length: Annotated[int, typer.Option("--length", "-l", help="The length the techniques shorten to.")] = 500,
    techniques: Annotated[Optional[str], typer.Option(
        help="Comma-separated techniques to run: as-is, truncate-start, truncate-end, truncate-both, summarize, "
        "random-steps, random-crops, windows, windows-features (readings only), tbptt, segments, autoencoder, conv.",
        show_default="all that fit the data")] = None,
    epochs: Annotated[int, typer.Option(help="At most this many epochs per run (--budget usually stops it first).")] = 100,
    budget: Annotated[str, typer.Option(help="Steps each run reads (rows' real steps summed over the batches, e.g. 500k, 20M), the autoencoder's pre-training included: a small TRAIN gets many epochs, a large one part of one; the same table on every machine.")] = "3M",
    hidden: Annotated[int, typer.Option(help="LSTM hidden size, the same for every technique.")] = 32,
    embed: Annotated[int, typer.Option(help="Embedding / input projection size, the same for every technique.")] = 32,
    lr: Annotated[float, typer.Option(help="Learning rate (higher than train's 0.001: each run has a budget of steps).")] = 0.01,
    val_fraction: Annotated[float, typer.Option(help="The share of TRAIN's sequences that picks each technique's epoch.")] = 0.2,
    exclude: Annotated[Optional[str], typer.Option(help="Comma-separated techniques to leave out.")] = None,
    baselines: Annotated[bool, typer.Option("--baselines/--no-baselines", help="Score the baselines too.")] = True,
    repeats: Annotated[int, typer.Option(help="Train each technique R times (seeds S, S+1, ...): the table shows the mean and spread.")] = 1,
    max_vocab: Annotated[int, typer.Option(help="Tokens: the vocabulary's most frequent ids kept (the rest one unknown id).")] = 20_000,
    normalize: Annotated[str, typer.Option(help="Readings: z-score each row over its own steps (per-row, as the 1-NN baseline sees them) or with TRAIN's mean and std (global).")] = "per-row",
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same table.")] = 0,
    json_out: Annotated[Optional[str], typer.Option("--json", help="Also write the table as JSON to this file (row by row).")] = None,
    plot: Annotated[Optional[str], typer.Option(help="Also write a chart of test macro-F1 with intervals and baselines to this PNG.")] = None,
) -> None:
    """Find which technique works on your data: each trains the same model, scored on TEST.

    Each technique prepares TRAIN and TEST (statistics fitted on TRAIN only), trains an LSTM of
    the same size, keeps the epoch that scores best on --val-fraction of TRAIN (never TEST), and
    is scored once on TEST; windows and crops are scored per id. Each macro-F1 has a 95%
    bootstrap interval over TEST: "tie" marks a technique whose interval reaches the best's
    score. Baselines (majority; TF-IDF + logistic regression for tokens, 1-NN on z-scored series
    for readings) are scored on the same TEST. Each row is added to --json as it is done;
    Ctrl-C prints the rows done so far.

    \b
    as-is             the whole sequences (token ids, or z-scored readings)
    truncate-start    the first --length steps
    truncate-end      the last --length steps
    truncate-both     the first quarter and the last three quarters of --length steps
    summarize         tokens: the 20 most frequent dropped; readings: PAA to --length steps
    random-steps      --length random steps of each sequence, in order
    random-crops      4 random crops of --length steps each, as augmentation
    windows           windows of --length steps as separate rows
    windows-features  readings: windows of --length / 4 steps as parallel channels
    tbptt             up to 8 x --length steps, back-propagated in chunks of --length / 4
    segments          up to 4 x --length steps in 4 segments, one shared LSTM over each
    autoencoder       an encoder-decoder's codes of 8-step chunks
    conv              the whole sequences, a convolutional front-end striding them to about --length
    """
    _train_module()
    from rich.table import Table

    from ..compare import compare as run
    from ..compare import plot as write_plot
    from ..compare import check_options, check_outputs, mark, verdict, write_json

    check_outputs(json_out, plot)
    chosen = [t.strip() for t in techniques.split(",")] if techniques else None
    left_out = [t.strip() for t in exclude.split(",")] if exclude else None
    done: list[dict] = []

    status = err.status("compare: preparing") if err.is_terminal else None

    def progress(technique: str, k: int, n: int, record: dict) -> None:
        if status is None:
            return
        score = f", validation macro-F1 {record['val_macro_f1']:.3f}" if record.get("val_macro_f1") is not None else ""
        run = f" run {record['run'] + 1}/{repeats}," if repeats > 1 else ""
        spent = f" ({record['steps_read'] / steps:.0%} of the budget)" if record.get("steps_read") else ""
        status.update(f"compare: technique {k}/{n} {technique}:{run} epoch {record['epoch']}{spent}{score}")

    def finished(r: dict) -> None:
        done.append(r)
        scored = f": macro-F1 {r['macro_f1']:.3f}" if r.get("macro_f1") is not None else ""
        err.print(f"compare: {'baseline ' if r.get('baseline') else ''}{r['technique']} done{scored}", markup=False)
        if json_out:
            write_json(done, json_out)  # atomically, row by row: an interrupted run keeps what it finished

    steps = options.count(budget, "--budget")
    check_options(length=length, epochs=epochs, budget=steps, repeats=repeats, max_vocab=max_vocab,
                  techniques=chosen, exclude=left_out, val_fraction=val_fraction, normalize=normalize)
    err.print(f"compare: epochs {epochs}{f', budget {steps:,} steps read' if steps else ''}, hidden {hidden}, embed "
              f"{embed}, lr {lr}, validation {val_fraction:g} of TRAIN, seed {seed}"
              f"{f', {repeats} runs each' if repeats > 1 else ''}; readings z-scored {normalize}, token vocabulary "
              f"at most {max_vocab:,}",
              markup=False)
    interrupted = False
    try:
        if status is not None:
            status.start()
        rows = run(train_data, test_data, length=length, techniques=chosen, exclude=left_out, epochs=epochs,
                   budget=steps, hidden=hidden, embed=embed, lr=lr, val_fraction=val_fraction, baselines=baselines,
                   seed=seed, repeats=repeats, max_vocab=max_vocab, normalize=normalize, on_result=finished,
                   on_progress=progress)
    except KeyboardInterrupt:
        rows, interrupted = done, True
        mark(rows)
    finally:
        if status is not None:
            status.stop()
    table = Table(title=f"{train_data} -> {test_data}, length {length}" + (" (interrupted)" if interrupted else ""),
                  title_justify="left")
    for col, justify in (("technique", "left"), ("steps", "right"), ("epochs", "right"),
                         ("train s", "right"), ("accuracy", "right"), ("macro-F1", "right"), ("95% interval", "right"),
                         ("", "left")):
        table.add_column(col, justify=justify, no_wrap=True)
    for r in rows:
        if "accuracy" not in r:
            table.add_row(r["technique"], "", "", "", "", "", "", r.get("skipped", ""))
            continue
        low, high = r.get("macro_f1_interval") or (None, None)
        interval = f"{low:.3f}-{high:.3f}" if low is not None else ""
        mark_text = "baseline" if r.get("baseline") else "best" if r.get("best") else "tie" if r.get("tie") else ""
        table.add_row(r["technique"], f"{r['steps']:,}" if "steps" in r else "",
                      _epochs(r),
                      f"{r['train_seconds']:.1f}" if "train_seconds" in r else "",
                      f"{r['accuracy']:.3f}",
                      f"{r['macro_f1']:.3f}" + (f" ± {r['macro_f1_sd']:.3f}" if "macro_f1_sd" in r else ""), interval,
                      " ".join(w for w in (mark_text, "(per id)" if r.get("scored") == "per id" else "") if w))
    show(table)
    line = verdict(rows)
    if line:
        err.print(f"compare: {line}", markup=False)
    best = next((r for r in rows if r.get("best") and r.get("commands")), None)
    if best is not None:
        err.print(f"compare: to reproduce {best['technique']} (seed {seed}), run from this directory (every row's commands are in --json):",
                  markup=False)
        for command in best["commands"]:
            err.print(f"  {command}", markup=False, soft_wrap=True)
    if json_out:
        write_json(rows, json_out)
    if interrupted:
        raise typer.Exit(130)
    if plot:
        from ..dataset import open_source

        counts = ((open_source(train_data).manifest or {}).get("labels") or {}).get("counts") or {}
        write_plot(rows, plot, title=f"{train_data}, length {length}", classes=len(counts) or None)


def _epochs(r: dict) -> str:
    """The epoch kept of those run ("6/8"); with --repeats, each run's ("6,7,5/8")."""
    if "epochs" not in r:
        return ""
    kept = [k for k in r.get("kept_epochs") or [r.get("kept_epoch")] if k]
    return f"{','.join(map(str, kept))}/{r['epochs']}" if kept else str(r["epochs"])
