"""What the data commands share: padding options, rows as Ragged batches, output batches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..options import Format, values
from ..engine import Progress, run
from ..kernels.pad import SIDES, pad
from ..dataset import Source, open_source
from ..errors import UsageError, positive
from ..output import check_target, describe_steps
from ..sinks import open_sink
from ..padding import PadSpec
from ..ragged import Ragged, fixed_to_arrow, from_arrow, to_arrow
from ..workers import check_workers

FORMATS = values(Format)
MAX_LENGTH = 2**31 - 1  # Arrow's fixed_size_list and the length column are int32
ROW_VALUES = 1 << 27  # one output row holds at most this many values (steps x channels); a batch about as many


def check_length(length: int | None, option: str = "--length") -> None:
    """A positive length that Arrow's int32 sizes can hold."""
    positive((option, length))
    if length is not None and length > MAX_LENGTH:
        raise UsageError(f"{option} {length:,} must be at most {MAX_LENGTH:,} (2**31 - 1, the largest list Arrow holds)")


def check_row_values(steps: int, channels: int | None, what: str) -> int:
    """Refuse, before allocating, more than ROW_VALUES output values per input row: ``what``
    names the options that asked for them (``steps`` steps of ``channels``). Returns the count."""
    values = steps * (channels or 1)
    if values > ROW_VALUES:
        raise UsageError(f"{what} asks for {steps:,} steps" + (f" x {channels} channels" if channels else "")
                         + f" = {values:,} values per input row, more than the limit of {ROW_VALUES:,} (2**27); "
                         "ask for fewer")
    return values


def rows_per_batch(batch_rows: int, row_values: int) -> int:
    """Fewer rows per batch when each output row is large, so a batch stays near ROW_VALUES values."""
    return max(1, min(batch_rows, ROW_VALUES // max(1, row_values)))


@dataclass(frozen=True)
class Padding:
    """How a length-setting command fills rows up to the target length."""

    pad: bool = True
    side: str = "start"
    value: str | None = None  # as the user typed it; None: 0 for numbers, null for string tokens

    def check(self) -> None:
        if self.side not in SIDES:
            raise UsageError(f"--pad-side {self.side!r} must be one of {', '.join(SIDES)}")


FLOAT_DTYPES = {"float": np.float32, "double": np.float64, "halffloat": np.float16}
INFINITIES = ("inf", "+inf", "-inf", "infinity", "+infinity", "-infinity")


def pad_value_for(value: str | None, step_type: str | None):
    """The user's --pad-value as the step type needs it: a value the type holds exactly as
    typed (an integer in its range; a float that does not overflow to inf), or a clear error."""
    if step_type in (None, "string", "large_string"):
        return value
    if step_type in FLOAT_DTYPES:
        if value is None:
            return 0.0
        try:
            number = float(value)
        except ValueError:
            raise UsageError(f"--pad-value {value!r} is not a number, but seq holds {step_type} values") from None
        dtype = FLOAT_DTYPES[step_type]
        finfo = np.finfo(dtype)
        if np.isfinite(number) and abs(number) > float(finfo.max) or (np.isinf(number) and value.strip().lower() not in INFINITIES):
            raise UsageError(f"--pad-value {value} is out of range for {step_type} values "
                             f"(at most {float(finfo.max):g} in magnitude)")
        return number
    if value is None:
        return 0
    try:
        number = int(value)
    except ValueError:
        raise UsageError(f"--pad-value {value!r} is not an integer, but seq holds {step_type} token ids") from None
    try:
        info = np.iinfo(np.dtype(step_type))
    except TypeError:
        return number
    if not info.min <= number <= info.max:
        raise UsageError(f"--pad-value {number} does not fit the {step_type} steps (from {info.min:,} to "
                         f"{info.max:,}); give a value in that range")
    return number


def ragged_of(batch: pa.RecordBatch, padding_in: PadSpec | None) -> Ragged:
    """The real steps of each row of ``batch`` (padding, if any, removed)."""
    seq = batch.column("seq")
    if padding_in is not None and "length" in batch.schema.names and pa.types.is_fixed_size_list(seq.type):
        return from_arrow(seq, batch.column("length"), padding_in.side)
    return from_arrow(seq)


CONTRACT_COLUMNS = ("id", "seq", "label", "length", "part")


def with_seq(batch: pa.RecordBatch, ragged: Ragged | None = None, *, padded=None, length: int | None = None,
             parent: np.ndarray | None = None, part: np.ndarray | None = None) -> pa.RecordBatch:
    """``batch`` with ``seq`` replaced: by ``ragged`` as lists (dropping any ``length`` column), or
    by ``padded`` = (values, lengths) as ``fixed_size_list<T, length>`` with a ``length`` column.

    With ``parent`` (one input row per output row) and ``part``, each output row copies its
    parent's other columns and gets a ``part`` number. Columns come in the contract's order,
    then the rest in their input order.
    """
    names = batch.schema.names
    keep = [n for n in names if n not in ("seq", "length", "part")]
    columns = dict(zip(names, batch.columns))
    if parent is not None:
        taken = batch.select(keep).take(pa.array(parent, pa.int64()))
        columns = dict(zip(keep, taken.columns))
        columns["part"] = pa.array(part, pa.int32())
    for n in ("seq", "length"):
        columns.pop(n, None)
    if padded is not None:
        values, lengths = padded
        columns["seq"] = fixed_to_arrow(values, length)
        columns["length"] = pa.array(lengths, pa.int32())
    else:
        columns["seq"] = to_arrow(ragged)
    order = [n for n in CONTRACT_COLUMNS if n in columns] + [n for n in keep if n not in CONTRACT_COLUMNS]
    return pa.RecordBatch.from_arrays([columns[n] for n in order], names=order)


def prepare(src: str, out: str, fmt: str, padding: Padding, overwrite: bool) -> tuple[Source, object]:
    """Check the options and the target, open the input; returns it and the typed pad value."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} must be one of {', '.join(FORMATS)}")
    padding.check()
    if fmt == "npy" and not padding.pad:
        raise UsageError("--format npy needs fixed-length rows; drop --no-pad")
    check_target(out, inputs=(src,), overwrite=overwrite)
    source = open_source(src)
    step_type = describe_steps(source.schema)["type"]
    if fmt == "npy" and step_type in ("string", "large_string"):
        raise UsageError("--format npy needs numbers, but seq holds string tokens; map them to ids with `seqprep encode`")
    return source, pad_value_for(padding.value, step_type)


def shaped(batch: pa.RecordBatch, rows: Ragged, out: PadSpec | None) -> pa.RecordBatch:
    """Output rows padded as ``out`` says, or (None) kept as lists; rows that came from a parent
    row (``rows.parent``) copy its other columns and get a ``part``."""
    if out is not None:
        padded = pad(rows, length=out.length, side=out.side, value=out.value)
        return with_seq(batch, padded=padded, length=out.length, parent=rows.parent, part=rows.part)
    return with_seq(batch, rows, parent=rows.parent, part=rows.part)


def out_padding(padding: Padding, length: int | None, value, side: str | None = None) -> PadSpec | None:
    """The output's padding: rows of ``length`` steps when the options pad, else None."""
    if not padding.pad or length is None:
        return None
    return PadSpec(length, side or padding.side, value)


STREAM_SHARD_ROWS = 10_000  # a stream has no shards to mirror: cut its output every so many rows


def write(source: Source, out: str, transform, *, format: str, lineage: list, padding: PadSpec | None = None,
          overwrite: bool = False, batch_rows: int, progress: Progress | None = None,
          extra: dict | None = None, classes: list | None = None, workers: int = 1,
          scheduler: str | None = None, row_values: int | None = None, counts_into: str | None = None) -> dict:
    """Run ``transform`` over ``source`` into OUT; returns the manifest (or meta) written.
    ``transform`` is a plain-picklable object (workers and Dask get it by pickle): called on a
    batch, it returns the output batch and what it counted, which the runner adds up in order
    into ``extra[counts_into]``.
    ``workers`` processes (or a Dask ``scheduler``) run the shards at once, to the same bytes.
    ``row_values``: the values each output row holds, when it is fixed (padded rows); batches
    then hold fewer rows so each stays near ROW_VALUES values."""
    check_workers(workers, scheduler)
    if row_values:
        batch_rows = rows_per_batch(batch_rows, row_values)
    sink = open_sink(out, format=format, lineage=lineage, padding=padding, overwrite=overwrite,
                     shard_rows=STREAM_SHARD_ROWS if source.in_process else None, extra=extra, classes=classes,
                     counts_into=counts_into)
    return run(source, sink, transform, batch_rows=batch_rows, progress=progress, workers=workers,
               scheduler=scheduler)
