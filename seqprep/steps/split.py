"""split: fixed-length windows as separate rows, or stacked as parallel channels."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa

from ..dataset import BATCH_ROWS
from ..engine import Progress
from ..errors import UsageError, positive
from ..kernels.split import LASTS, as_features, window_counts, windows
from ..output import describe_steps, row_lengths, step_record
from ..padding import PadSpec
from .common import (Padding, check_length, check_row_values, out_padding, prepare, ragged_of, shaped, with_seq,
                     write)

BATCH_OUTPUT_VALUES = 1 << 30  # the windows of one batch of rows hold at most this many values


def longest_row(source) -> int:
    """The longest row's real steps, read from the data (one pass), never from the manifest."""
    longest = 0
    for _, batches in source.shard_batches():
        for batch in batches:
            lengths = row_lengths(batch)
            seq_type = batch.schema.field("seq").type
            if pa.types.is_fixed_size_list(seq_type):
                lengths = np.minimum(lengths, seq_type.list_size)
            if len(lengths):
                longest = max(longest, int(lengths.max()))
    return longest


def split(src: str, out: str, *, length: int, stride: int | None = None, last: str = "pad",
          features: bool = False, parts: int | None = None, padding: Padding = Padding(),
          format: str = "parquet", overwrite: bool = False, batch_rows: int = BATCH_ROWS,
          progress: Progress | None = None,
           workers: int = 1, scheduler: str | None = None) -> dict:
    """Cut sequences into windows of ``length`` steps every ``stride`` steps, one row each
    (keeping the parent's id, with a ``part``); or, with ``features``, stack each sequence's
    windows as channel blocks of one row."""
    check_length(length)
    check_length(stride, "--stride")
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
    channels = describe_steps(source.schema)["channels"]
    if features and parts is None:
        if source.is_stream:
            raise UsageError("--as-features needs --parts K when the input is a stream (it cannot be read twice)")
        # From the rows themselves: a manifest's lengths.max is not trusted to size the rows.
        parts = max(1, math.ceil(longest_row(source) / length))
    row_values = None
    if features:
        row_values = check_row_values(parts * length, channels, f"--length {length} x --parts {parts}")
    elif padding.pad:
        row_values = check_row_values(length, channels, f"--length {length}")
    transform = SplitRows(length, stride, last, parts if features else None, channels,
                          out_padding(padding, length, value, side="end" if features else None), source.padding)
    params = {"length": length, "stride": stride, "last": last, "as_features": features, "parts": parts,
              **asdict(padding), "format": format}
    lineage = source.lineage + [step_record("split", params, input_sha256=source.input_sha256)]

    return write(source, out, transform, format=format, lineage=lineage, padding=transform.out, overwrite=overwrite,
                 batch_rows=batch_rows, progress=progress, workers=workers, scheduler=scheduler,
                 row_values=row_values)


@dataclass(frozen=True)
class SplitRows:
    """A batch's rows cut into windows of ``length`` steps every ``stride``, one row each (padded
    as ``out`` says, or lists); or, with ``parts``, each row's windows stacked as channel blocks."""

    length: int
    stride: int | None
    last: str
    parts: int | None  # --as-features
    channels: int | None
    out: PadSpec | None
    padding_in: PadSpec | None

    def __call__(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, dict]:
        length, stride = self.length, self.stride
        rows = ragged_of(batch, self.padding_in)
        if self.parts is not None:
            padded = as_features(rows, length=length, parts=self.parts, value=self.out.value)
            return with_seq(batch, padded=padded, length=length), {}
        full, partial = window_counts(rows.lengths, length, stride or length, self.last)
        values = int((np.minimum(full + partial, 2**31) * length).sum()) * (self.channels or 1)
        if values > BATCH_OUTPUT_VALUES:
            row = int(np.argmax(full + partial))
            raise UsageError(f"--length {length} --stride {stride or length} cuts a row of {int(rows.lengths[row]):,} "
                             f"steps into {int(full[row] + partial[row]):,} windows: {values:,} values for this batch, "
                             f"more than the limit of {BATCH_OUTPUT_VALUES:,}; use a larger --stride")
        return shaped(batch, windows(rows, length=length, stride=stride, last=self.last), self.out), {}
