"""sample: random steps of each sequence, or random crops as augmentation."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pyarrow as pa

from ..options import SampleMode, values
from ..dataset import BATCH_ROWS
from ..engine import Progress
from ..errors import UsageError, positive
from ..kernels.sample import crops, sample_steps
from ..output import step_record
from ..padding import PadSpec
from ..output import describe_steps
from .common import Padding, check_length, check_row_values, out_padding, prepare, ragged_of, shaped, write

MODES = values(SampleMode)


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
    transform = SampleRows(length, mode, seed, copies, overlap, out_padding(padding, length, value), source.padding)
    params = {"length": length, "mode": mode, "copies": copies, "overlap": overlap, **asdict(padding), "format": format}
    lineage = source.lineage + [step_record("sample", params, input_sha256=source.input_sha256, seed=seed)]

    return write(source, out, transform, format=format, lineage=lineage, padding=transform.out, overwrite=overwrite,
                 batch_rows=batch_rows, progress=progress, workers=workers, scheduler=scheduler,
                 row_values=length * per_row * (channels or 1) if padding.pad or per_row > 1 else None)


@dataclass(frozen=True)
class SampleRows:
    """A batch's rows sampled (random steps, or random crops as rows of their own), drawn from
    (seed, id), then padded as ``out`` says (None: lists)."""

    length: int
    mode: str
    seed: int
    copies: int
    overlap: bool
    out: PadSpec | None
    padding_in: PadSpec | None

    def __call__(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, dict]:
        rows = ragged_of(batch, self.padding_in)
        ids = batch.column("id").to_numpy(zero_copy_only=False)
        if self.mode == "steps":
            kept = sample_steps(rows, length=self.length, ids=ids, seed=self.seed)
        else:
            kept = crops(rows, length=self.length, ids=ids, seed=self.seed, copies=self.copies, overlap=self.overlap)
        return shaped(batch, kept, self.out), {}
