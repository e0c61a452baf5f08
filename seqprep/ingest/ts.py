"""The .ts format of the time-series classification archives (UCR/UEA, as sktime writes it).

Header lines (@problemName, @timeStamps, @univariate, @dimensions, @equalLength,
@seriesLength, @classLabel) then @data; one case per line, dimensions separated by ':',
values by ',', '?' for a missing value, the class label last.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from .common import BUFFER_LIMIT, MAX_CHANNELS, MAX_SEQ_VALUES, IngestOptions, list_array, make_batch, text_lines, too_long

NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|nan|inf|infinity)$"
NAMES = {"dimensions": "dimensions", "serieslength": "seriesLength"}  # as the format spells them
INFINITE = re.compile(r"[+-]?inf(inity)?", re.IGNORECASE)


def _header(path: Path, lines) -> dict:
    header: dict[str, str] = {}
    for number, line in lines:
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if not s.startswith("@"):
            raise InputError(f"{path}:{number}: expected a @header line or @data before the series; is this a .ts file?")
        key, _, rest = s[1:].partition(" ")
        key = key.lower()
        if key == "data":
            return header
        header[key] = rest.strip()
    raise InputError(f"{path}: no @data line; is this a .ts file?")


def _flag(header: dict, key: str, path: Path) -> bool | None:
    value = header.get(key)
    if value is None:
        return None
    word = value.split()[0].lower() if value.split() else ""
    if word not in ("true", "false"):
        raise InputError(f"{path}: @{key} {value!r} must be true or false")
    return word == "true"


def _values(text: str, where: str, dim: int) -> np.ndarray:
    """One dimension's comma-separated values as float32 ('?' is NaN), parsed by Arrow: strict
    decimal numbers (no '1_0' or '0x10'), and a finite value beyond float32 is refused, not inf."""
    text = text.strip()
    if not text:
        return np.zeros(0, dtype=np.float32)
    parts = pc.utf8_trim_whitespace(pc.split_pattern(pa.array([text]), ",").flatten())
    parts = pc.if_else(pc.equal(parts, "?"), "nan", parts)
    ok = pc.match_substring_regex(parts, NUMBER, ignore_case=True).to_numpy(zero_copy_only=False)
    if not ok.all():
        bad = parts[int(np.argmin(ok))].as_py()
        raise InputError(f"{where}: value {bad!r} in dimension {dim} is not a number ('?' marks a missing value)")
    wide = parts.cast(pa.float64()).to_numpy(zero_copy_only=False)
    with np.errstate(over="ignore"):  # overflow is found and named just below
        values = wide.astype(np.float32)
    overflow = np.isinf(values) & ~pc.match_substring_regex(parts, INFINITE.pattern + "$", ignore_case=True).to_numpy(
        zero_copy_only=False)
    if overflow.any():
        bad = parts[int(np.argmax(overflow))].as_py()
        raise InputError(f"{where}: value {bad!r} in dimension {dim} does not fit float32 (it would become inf); "
                         "rescale the series")
    return values


def _count(header: dict, key: str, path: Path, low: int, high: int) -> int | None:
    value = header.get(key)
    if value is None:
        return None
    word = value.split()[0] if value.split() else ""
    if not word.isdigit() or not low <= int(word) <= high:
        raise InputError(f"{path}: @{NAMES.get(key, key)} {value!r} must be a whole number from {low} to {high:,}")
    return int(word)


def read_ts(path: Path, opts: IngestOptions) -> Iterator[pa.RecordBatch]:
    lines = text_lines(path)
    header = _header(path, lines)
    if _flag(header, "timestamps", path):
        raise InputError(f"{path}: @timeStamps true is not supported; export the series without timestamps")
    if _flag(header, "targetlabel", path):
        raise InputError(f"{path}: @targetLabel (regression) is not supported; seqprep classifies sequences")
    univariate = _flag(header, "univariate", path)
    dims = _count(header, "dimensions", path, 1, MAX_CHANNELS)
    if univariate and dims not in (None, 1):
        raise InputError(f"{path}: @univariate true but @dimensions {dims}; fix the header")
    dims = 1 if univariate else dims
    has_label = _flag(header, "classlabel", path)
    declared = set(header.get("classlabel", "").split()[1:]) if has_label else set()
    series_length = _count(header, "serieslength", path, 0, 2**62)
    equal = _flag(header, "equallength", path)

    cases: list[np.ndarray] = []
    labels: list[str] = []
    size = 0

    def flush() -> pa.RecordBatch:
        nonlocal size
        size = 0
        lengths = [len(c) for c in cases]
        if dims == 1:
            flat = pa.array(np.concatenate(cases) if cases else np.zeros(0, np.float32))
        else:
            joined = np.concatenate(cases) if cases else np.zeros((0, dims), np.float32)
            flat = pa.FixedSizeListArray.from_arrays(pa.array(joined.reshape(-1)), dims)
        batch = make_batch(list_array(flat, lengths), pa.array(labels, pa.string()) if has_label else None)
        cases.clear(), labels.clear()
        return batch

    for number, line in lines:
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        where = f"{path}:{number}"
        fields = s.split(":")
        if has_label:
            if dims is not None and len(fields) == dims:
                raise InputError(f"{where}: no class label after the {dims} dimension(s); @classLabel is true")
            label = fields.pop().strip()
            if not label:
                raise InputError(f"{where}: the class label after the last ':' is empty; @classLabel is true")
            if declared and label not in declared:
                raise InputError(f"{where}: class label {label!r} is not among those @classLabel declares ({', '.join(sorted(declared))})")
            labels.append(label)
        if dims is None:
            dims = len(fields)
        if len(fields) != dims:
            raise InputError(f"{where}: {len(fields)} dimensions, but the header says {dims}")
        series = [_values(f, where, d + 1) for d, f in enumerate(fields)]
        n = len(series[0])
        if any(len(x) != n for x in series):
            raise InputError(f"{where}: dimensions have different lengths ({', '.join(str(len(x)) for x in series)}); "
                             "seqprep needs one length per case")
        if equal and series_length is not None and n != series_length:
            raise InputError(f"{where}: {n} values, but @seriesLength is {series_length}")
        if equal and series_length is None:
            series_length = n  # @equalLength true: the first case sets the length every case has
        if n * dims > MAX_SEQ_VALUES:
            raise too_long(n * dims, where)
        cases.append(series[0] if dims == 1 else np.stack(series, axis=1))
        size += n * dims
        if len(cases) >= opts.batch_rows or size >= BUFFER_LIMIT:
            yield flush()
    if cases:
        yield flush()
