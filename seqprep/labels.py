"""The order of classes: what index each label gets in y.npy, a model's outputs, a report.

Labels that are all numbers, as int64 or as text ("0", "2", "10", as the time-series archives'
.ts files write them), are ordered by value, so y = 2 means class "2", not "10"; any other
labels as strings. The order is fixed once (by `fit`, `encode`, or the first export) and
recorded, and every later split reuses it.
"""

from __future__ import annotations

import math


def _number(label) -> float | None:
    if isinstance(label, bool):
        return None
    if isinstance(label, int):
        return float(label)
    try:
        value = float(label)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def class_order(labels) -> list:
    """The distinct labels (nulls dropped) in natural order: by value when every one is a
    number (text that parses as one included, ties kept apart by their text), else as text.

    >>> class_order(["10", "2", "0", "2"])
    ['0', '2', '10']
    >>> class_order(["b", "a10", "a9"])
    ['a10', 'a9', 'b']
    """
    distinct = {label for label in labels if label is not None}
    numbers = {label: _number(label) for label in distinct}
    if distinct and all(v is not None for v in numbers.values()):
        return sorted(distinct, key=lambda label: (numbers[label], str(label)))
    return sorted(distinct, key=str)
