"""Slow, obvious per-row references the kernels are checked against."""

from __future__ import annotations

import numpy as np


def keras_pad_sequences(sequences, maxlen, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """keras.utils.pad_sequences as its documentation and source describe it (maxlen given)."""
    sample_shape = ()
    for s in sequences:
        if len(s):
            sample_shape = np.asarray(s).shape[1:]
            break
    x = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s):
            continue  # an empty sequence stays all padding
        trunc = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        if padding == "post":
            x[i, : len(trunc)] = trunc
        else:
            x[i, -len(trunc):] = trunc
    return x


def truncate_row(row: list, length: int, keep: str, head: int | None) -> list:
    if len(row) <= length:
        return list(row)
    if keep == "start":
        return list(row[:length])
    if keep == "end":
        return list(row[len(row) - length:])
    return list(row[:head]) + list(row[len(row) - (length - head):])


def pad_row(row: list, length: int, side: str, value) -> list:
    fill = [value] * (length - len(row))
    return fill + list(row) if side == "start" else list(row) + fill
