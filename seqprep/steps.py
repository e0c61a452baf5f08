"""The data commands as library functions: each opens its input, runs a kernel through the
engine and returns the manifest it wrote. The CLI calls exactly one of these per command.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pyarrow as pa

from .kernels.pad import SIDES
from .kernels.truncate import check_options as check_truncate
from .kernels.truncate import truncate as truncate_kernel
from .kernels.truncate import truncate_pad
from .dataset import BATCH_ROWS, Source, open_source
from .engine import Progress, run
from .errors import UsageError
from .output import check_target, describe_steps, open_sink, step_record
from .ragged import Ragged, fixed_to_arrow, from_arrow, to_arrow

FORMATS = ("parquet", "npy")


@dataclass(frozen=True)
class Padding:
    """How a length-setting command fills rows up to the target length."""

    pad: bool = True
    side: str = "start"
    value: str | None = None  # as the user typed it; None: 0 for numbers, null for string tokens

    def check(self) -> None:
        if self.side not in SIDES:
            raise UsageError(f"--pad-side {self.side!r} must be one of {', '.join(SIDES)}")


def pad_value_for(value: str | None, step_type: str | None):
    """The user's --pad-value as the step type needs it."""
    if step_type in (None, "string", "large_string"):
        return value
    if step_type in ("float", "double", "halffloat"):
        if value is None:
            return 0.0
        try:
            return float(value)
        except ValueError:
            raise UsageError(f"--pad-value {value!r} is not a number, but seq holds {step_type} values") from None
    if value is None:
        return 0
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"--pad-value {value!r} is not an integer, but seq holds {step_type} token ids") from None


def ragged_of(batch: pa.RecordBatch, padding_in: dict | None) -> Ragged:
    """The real steps of each row of ``batch`` (padding, if any, removed)."""
    seq = batch.column("seq")
    if padding_in is not None and "length" in batch.schema.names and pa.types.is_fixed_size_list(seq.type):
        return from_arrow(seq, batch.column("length"), padding_in.get("side", "end"))
    return from_arrow(seq)


def with_seq(batch: pa.RecordBatch, ragged: Ragged | None = None, *, padded=None,
             length: int | None = None) -> pa.RecordBatch:
    """``batch`` with ``seq`` replaced: by ``ragged`` as lists (dropping any ``length`` column), or
    by ``padded`` = (values, lengths) as ``fixed_size_list<T, length>`` with a ``length`` column."""
    names = batch.schema.names
    columns = dict(zip(names, batch.columns))
    if padded is not None:
        values, lengths = padded
        columns["seq"] = fixed_to_arrow(values, length)
        columns["length"] = pa.array(lengths, pa.int32())
        if "length" not in names:
            at = names.index("label") + 1 if "label" in names else names.index("seq") + 1
            names = names[:at] + ["length"] + names[at:]
    else:
        columns["seq"] = to_arrow(ragged)
        names = [n for n in names if n != "length"]
    return pa.RecordBatch.from_arrays([columns[n] for n in names], names=names)


def _prepare(src: str, out: str, fmt: str, padding: Padding, overwrite: bool) -> tuple[Source, object]:
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


def truncate(src: str, out: str, *, length: int, keep: str = "end", head: int | None = None,
             padding: Padding = Padding(), format: str = "parquet", overwrite: bool = False,
             batch_rows: int = BATCH_ROWS, progress: Progress | None = None) -> dict:
    """Keep ``length`` steps of every sequence (see :func:`seqprep.kernels.truncate.truncate`), padded by default."""
    head = check_truncate(length, keep, head)
    source, value = _prepare(src, out, format, padding, overwrite)
    padding_in = source.padding
    out_padding = {"length": length, "side": padding.side, "value": value} if padding.pad else None
    params = {"length": length, "keep": keep, "head": head, **asdict(padding), "format": format}
    lineage = source.lineage + [step_record("truncate", params, input_sha256=source.input_sha256)]

    def transform(batch: pa.RecordBatch) -> pa.RecordBatch:
        rows = ragged_of(batch, padding_in)
        if padding.pad:
            padded = truncate_pad(rows, length=length, keep=keep, head=head, side=padding.side, value=value)
            return with_seq(batch, padded=padded, length=length)
        return with_seq(batch, truncate_kernel(rows, length=length, keep=keep, head=head))

    sink = open_sink(out, format=format, lineage=lineage, padding=out_padding, overwrite=overwrite,
                     shard_rows=10_000 if source.is_stream else None)
    return run(source, sink, transform, batch_rows=batch_rows, progress=progress)
