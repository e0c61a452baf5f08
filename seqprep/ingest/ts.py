"""The .ts format of the time-series classification archives (UCR/UEA, as sktime writes it).

Header lines (@problemName, @timeStamps, @univariate, @dimensions, @equalLength,
@seriesLength, @classLabel) then @data; one case per line, dimensions separated by ':',
values by ',', '?' for a missing value, the class label last.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..errors import InputError
from .common import IngestOptions, list_array, make_batch, text_lines


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
    text = text.strip()
    if not text:
        return np.zeros(0, dtype=np.float32)
    parts = text.replace("?", "nan").split(",")
    try:
        return np.array(parts, dtype=np.float32)
    except ValueError:
        for p in parts:
            try:
                float(p)
            except ValueError:
                raise InputError(f"{where}: value {p.strip()!r} in dimension {dim} is not a number ('?' marks a missing value)") from None
        raise


def read_ts(path: Path, opts: IngestOptions) -> Iterator[pa.RecordBatch]:
    lines = text_lines(path)
    header = _header(path, lines)
    if _flag(header, "timestamps", path):
        raise InputError(f"{path}: @timeStamps true is not supported; export the series without timestamps")
    if _flag(header, "targetlabel", path):
        raise InputError(f"{path}: @targetLabel (regression) is not supported; seqprep classifies sequences")
    univariate = _flag(header, "univariate", path)
    dims = 1 if univariate else None
    if "dimensions" in header:
        try:
            dims = int(header["dimensions"])
        except ValueError:
            raise InputError(f"{path}: @dimensions {header['dimensions']!r} is not a number") from None
    has_label = _flag(header, "classlabel", path)
    declared = set(header.get("classlabel", "").split()[1:]) if has_label else set()
    series_length = int(header["serieslength"]) if header.get("serieslength", "").isdigit() else None
    equal = _flag(header, "equallength", path)

    cases: list[np.ndarray] = []
    labels: list[str] = []

    def flush() -> pa.RecordBatch:
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
        cases.append(series[0] if dims == 1 else np.stack(series, axis=1))
        if len(cases) >= opts.batch_rows:
            yield flush()
    if cases:
        yield flush()
