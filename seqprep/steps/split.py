"""split: fixed-length windows as separate rows, or stacked as parallel channels."""

from __future__ import annotations

import math
from dataclasses import asdict

import pyarrow as pa

from ..dataset import BATCH_ROWS
from ..engine import Progress
from ..errors import UsageError, positive
from ..kernels.split import LASTS, as_features, windows
from ..output import step_record
from .common import Padding, prepare, ragged_of, shaped, with_seq, write


def split(src: str, out: str, *, length: int, stride: int | None = None, last: str = "pad",
          features: bool = False, parts: int | None = None, padding: Padding = Padding(),
          format: str = "parquet", overwrite: bool = False, batch_rows: int = BATCH_ROWS,
          progress: Progress | None = None,
           workers: int = 1, scheduler: str | None = None) -> dict:
    """Cut sequences into windows of ``length`` steps every ``stride`` steps, one row each
    (keeping the parent's id, with a ``part``); or, with ``features``, stack each sequence's
    windows as channel blocks of one row."""
    positive(("--length", length), ("--stride", stride))
    if last not in LASTS:
        raise UsageError(f"--last {last!r} must be one of {', '.join(LASTS)}")
    positive(("--parts", parts))
    if parts is not None and not features:
        raise UsageError("--parts applies with --as-features")
    if features and stride is not None:
        raise UsageError("--stride does not apply with --as-features (its windows do not overlap)")
    if last == "pad" and not padding.pad and not features:
        raise UsageError("--last pad pads the final window; with --no-pad use --last keep or --last drop")
    if features and not padding.pad:
        raise UsageError("--as-features writes fixed-size rows; drop --no-pad")
    source, value = prepare(src, out, format, padding, overwrite)
    if features and parts is None:
        if source.manifest is None:
            raise UsageError("--as-features needs --parts K when the input has no manifest (a stream)")
        longest = source.manifest.get("lengths", {}).get("max") or 0  # None: an empty dataset
        parts = max(1, math.ceil(longest / length))
    padding_in = source.padding
    out_padding = {"length": length, "side": "end" if features else padding.side, "value": value} if padding.pad else None
    params = {"length": length, "stride": stride, "last": last, "as_features": features, "parts": parts,
              **asdict(padding), "format": format}
    lineage = source.lineage + [step_record("split", params, input_sha256=source.input_sha256)]

    def transform(batch: pa.RecordBatch) -> pa.RecordBatch:
        rows = ragged_of(batch, padding_in)
        if features:
            stacked, lengths = as_features(rows, length=length, parts=parts, value=value)
            return with_seq(batch, padded=(stacked, lengths), length=length)
        parted, parent, part = windows(rows, length=length, stride=stride, last=last)
        return shaped(batch, parted, length=length, padding=padding, value=value, parent=parent, part=part)

    return write(source, out, transform, format=format, lineage=lineage, padding=out_padding, overwrite=overwrite,
                 batch_rows=batch_rows, progress=progress,
                 workers=workers, scheduler=scheduler)
