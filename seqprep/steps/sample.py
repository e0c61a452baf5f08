"""sample: random steps of each sequence, or random crops as augmentation."""

from __future__ import annotations

from dataclasses import asdict

import pyarrow as pa

from ..dataset import BATCH_ROWS
from ..engine import Progress
from ..errors import UsageError, positive
from ..kernels.sample import crops, sample_steps
from ..output import step_record
from ..output import describe_steps
from .common import Padding, check_length, check_row_values, prepare, ragged_of, shaped, write

MODES = ("steps", "crop")


def sample(src: str, out: str, *, length: int, seed: int, mode: str = "steps", copies: int = 1,
           overlap: bool = True, padding: Padding = Padding(), format: str = "parquet", overwrite: bool = False,
           batch_rows: int = BATCH_ROWS, progress: Progress | None = None,
           workers: int = 1, scheduler: str | None = None) -> dict:
    """Keep ``length`` random steps (mode "steps") or ``copies`` random windows of ``length``
    steps (mode "crop", each a row with its parent's id and a ``part``), drawn from (seed, id)."""
    check_length(length)
    if mode not in MODES:
        raise UsageError(f"--mode {mode!r} must be one of {', '.join(MODES)}")
    positive(("--copies", copies))
    if mode == "steps" and (copies != 1 or not overlap):
        raise UsageError("--copies and --no-overlap apply to --mode crop")
    if not -2**63 <= seed < 2**64:
        raise UsageError(f"--seed {seed} must fit in 64 bits (from -2**63 to 2**64 - 1)")
    source, value = prepare(src, out, format, padding, overwrite)
    channels = describe_steps(source.schema)["channels"]
    per_row = copies if mode == "crop" else 1
    if padding.pad or per_row > 1:
        check_row_values(length * per_row, channels, f"--length {length}" + (f" --copies {copies}" if per_row > 1 else ""))
    padding_in = source.padding
    out_padding = {"length": length, "side": padding.side, "value": value} if padding.pad else None
    params = {"length": length, "mode": mode, "copies": copies, "overlap": overlap, **asdict(padding), "format": format}
    lineage = source.lineage + [step_record("sample", params, input_sha256=source.input_sha256, seed=seed)]

    def transform(batch: pa.RecordBatch) -> pa.RecordBatch:
        rows = ragged_of(batch, padding_in)
        ids = batch.column("id").to_numpy(zero_copy_only=False)
        parent = part = None
        if mode == "steps":
            kept = sample_steps(rows, length=length, ids=ids, seed=seed)
        else:
            kept, parent, part = crops(rows, length=length, ids=ids, seed=seed, copies=copies, overlap=overlap)
        return shaped(batch, kept, length=length, padding=padding, value=value, parent=parent, part=part)

    return write(source, out, transform, format=format, lineage=lineage, padding=out_padding, overwrite=overwrite,
                 batch_rows=batch_rows, progress=progress, workers=workers, scheduler=scheduler,
                 row_values=length * per_row * (channels or 1) if padding.pad or per_row > 1 else None)
