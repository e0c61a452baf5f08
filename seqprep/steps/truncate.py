"""truncate: keep the start, the end, or both ends of every sequence."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pyarrow as pa

from ..dataset import BATCH_ROWS
from ..engine import Progress
from ..kernels.truncate import check_options as check_truncate
from ..kernels.truncate import truncate as truncate_kernel
from ..kernels.truncate import truncate_pad
from ..output import step_record
from ..padding import PadSpec
from ..output import describe_steps
from .common import Padding, check_row_values, out_padding, prepare, ragged_of, with_seq, write


def truncate(src: str, out: str, *, length: int, keep: str = "end", head: int | None = None,
             padding: Padding = Padding(), format: str = "parquet", overwrite: bool = False,
             batch_rows: int = BATCH_ROWS, progress: Progress | None = None,
           workers: int = 1, scheduler: str | None = None) -> dict:
    """Keep ``length`` steps of every sequence (see :func:`seqprep.kernels.truncate.truncate`), padded by default."""
    head = check_truncate(length, keep, head)
    source, value = prepare(src, out, format, padding, overwrite)
    channels = describe_steps(source.schema)["channels"]
    if padding.pad:
        check_row_values(length, channels, f"--length {length}")
    transform = TruncateRows(length, keep, head, out_padding(padding, length, value), source.padding)
    params = {"length": length, "keep": keep, "head": head, **asdict(padding), "format": format}
    lineage = source.lineage + [step_record("truncate", params, input_sha256=source.input_sha256)]

    return write(source, out, transform, format=format, lineage=lineage, padding=transform.out, overwrite=overwrite,
                 batch_rows=batch_rows, progress=progress, workers=workers, scheduler=scheduler,
                 row_values=length * (channels or 1) if padding.pad else None)


@dataclass(frozen=True)
class TruncateRows:
    """A batch's rows cut to ``length`` steps, then padded as ``out`` says (None: lists)."""

    length: int
    keep: str
    head: int | None
    out: PadSpec | None
    padding_in: PadSpec | None

    def __call__(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, dict]:
        rows = ragged_of(batch, self.padding_in)
        if self.out is not None:
            padded = truncate_pad(rows, length=self.length, keep=self.keep, head=self.head, side=self.out.side,
                                  value=self.out.value)
            return with_seq(batch, padded=padded, length=self.length), {}
        return with_seq(batch, truncate_kernel(rows, length=self.length, keep=self.keep, head=self.head)), {}
