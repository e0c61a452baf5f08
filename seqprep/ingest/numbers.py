"""Numeric sequences in text formats: a CSV/JSON-lines cell of numbers ("1.5 2 3", split on
whitespace or ``--sep``; or a JSON list, or a list of per-step lists for channels), and wide CSV
(a label column plus numbered columns t0..tN, one series a row).

Nothing here guesses: a column is read as numbers only when every row checked is numbers (and
the user did not pass ``--as-text``); a cell that is not a number is refused naming its file,
line, column and value; an integer float32 would round, or a finite value it would make inf,
is refused too.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from .common import FLOAT32_EXACT, INT_TEXT, MAX_CHANNELS, fit_int64, list_array, too_long, MAX_SEQ_VALUES

# A decimal number as the .ts reader takes it (no '1_0', no '0x10'), NaN and inf included.
NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|nan|inf|infinity)$"
NUMBER_RE = re.compile(NUMBER, re.IGNORECASE)
INTEGER = r"^[+-]?[0-9]+$"
INFINITE = r"^[+-]?inf(inity)?$"

KINDS = {"float32": "float32 readings", "int64": "int64 token ids"}


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ------------------------------------------------------------------------------------- detection


def _json_list(text: str):
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, list) else None


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def list_width(value: list) -> int | None:
    """0 for a flat list of numbers, C for a list of C-number lists; None for anything else."""
    if all(_is_number(v) for v in value):
        return 0
    if all(isinstance(v, list) for v in value):
        widths = {len(v) for v in value}
        if len(widths) == 1 and 0 < next(iter(widths)) <= MAX_CHANNELS and all(_is_number(x) for v in value for x in v):
            return next(iter(widths))
    return None


def cell_numeric(value, sep: str | None) -> bool | None:
    """Whether one cell holds numbers: True, False, or None for an empty cell (either)."""
    if value is None:
        return None
    if isinstance(value, list):  # never text: its shape is checked when it is read
        return True if value else None
    if not isinstance(value, str):
        return False
    s = value.strip()
    if not s:
        return None
    if s[0] == "[":
        lst = _json_list(s)
        return lst is not None and (not lst or list_width(lst) is not None)
    parts = s.split() if sep is None else [p.strip() for p in s.split(sep)]
    return all(NUMBER_RE.match(p) for p in parts)


class Detector:
    """Whether a column is numbers in every row seen: ``add`` each cell, then ``numeric``."""

    def __init__(self, sep: str | None):
        self.sep = sep
        self.any_number = False
        self.text_at = None  # the first row that is not numbers

    def add(self, value, line) -> bool:
        """False once a row is not numbers (the caller may stop looking)."""
        ok = cell_numeric(value, self.sep)
        if ok is False:
            self.text_at = line
            return False
        self.any_number = self.any_number or ok is True
        return True

    @property
    def numeric(self) -> bool:
        return self.text_at is None and self.any_number


# ------------------------------------------------------------------------------------- parsing


def tokens_to_values(flat: pa.Array, kind: str, where) -> np.ndarray:
    """Number tokens (strings) as float32 or int64; ``where(i)`` names token ``i`` in messages
    ("FILE:LINE: column 'c'"). A token that is not a number, a finite value float32 makes inf, an
    integer float32 would round, or an integer beyond int64 is refused."""
    if not len(flat):
        return np.zeros(0, np.float32 if kind == "float32" else np.int64)
    flat = pc.utf8_trim_whitespace(flat)
    pattern = NUMBER if kind == "float32" else INTEGER
    ok = pc.match_substring_regex(flat, pattern, ignore_case=True).to_numpy(zero_copy_only=False)
    if not ok.all():
        i = int(np.argmin(ok))
        bad = flat[i].as_py()
        if bad == "":
            raise InputError(f"{where(i)}: an empty value; write NaN for a missing reading")
        if kind == "int64" and NUMBER_RE.match(bad):
            raise InputError(f"{where(i)}: value {_shown(bad)} is not an integer, but --as-ids reads token ids; "
                             "drop --as-ids to read float32 readings")
        raise InputError(f"{where(i)}: value {_shown(bad)} is not a number; fix the cell, or pass --as-text to "
                         "read the column as text tokens")
    if kind == "int64":
        try:
            return pc.cast(pc.replace_substring_regex(flat, r"^\+", ""), pa.int64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:
            for i, tok in enumerate(flat.to_pylist()):
                fit_int64(int(tok), where(i), "value")
            raise
    wide = pc.cast(flat, pa.float64()).to_numpy(zero_copy_only=False)
    with np.errstate(over="ignore"):  # overflow is found and named just below
        values = wide.astype(np.float32)
    infinite = pc.match_substring_regex(flat, INFINITE, ignore_case=True).to_numpy(zero_copy_only=False)
    bad = np.isinf(values) & ~infinite
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"{where(i)}: value {_shown(flat[i].as_py())} does not fit float32 (it would become inf); "
                         "rescale the data")
    if infinite.any():
        raise InputError(f"{where(int(np.argmax(infinite)))}: an infinite value is not a reading (NaN marks a "
                         "missing one); fix the data")
    rounded = (np.abs(wide) > FLOAT32_EXACT) & (values.astype(np.float64) != wide)
    if rounded.any():
        integral = pc.match_substring_regex(flat, INTEGER).to_numpy(zero_copy_only=False)
        rounded &= integral
        if rounded.any():
            i = int(np.argmax(rounded))
            raise InputError(f"{where(i)}: integer {flat[i].as_py()} cannot be stored exactly as a float32 reading "
                             "(|v| > 2**24); pass --as-ids for token ids, or scale the data")
    return values


def _list_values(value: list, kind: str, width: int, where: str, column: str) -> np.ndarray:
    """A JSON list row as a (T,) or (T, C) array."""
    if kind == "int64":
        if width:
            raise InputError(f"{where}: column {column!r} holds lists of lists (channels), but --as-ids reads one "
                             "token id a step; drop --as-ids")
        for v in value:
            if not isinstance(v, int):
                raise InputError(f"{where}: column {column!r}: value {_shown(v)} is not an integer, but --as-ids reads "
                                 "token ids; drop --as-ids to read float32 readings")
            fit_int64(v, f"{where}: column {column!r}", "value")
        return np.asarray(value, dtype=np.int64)
    flat = [x for v in value for x in v] if width else value
    for x in flat:
        if isinstance(x, int) and abs(x) > FLOAT32_EXACT and float(np.float32(x)) != x:
            raise InputError(f"{where}: column {column!r}: integer {x} cannot be stored exactly as a float32 reading "
                             "(|v| > 2**24); pass --as-ids for token ids, or scale the data")
    try:
        wide = np.asarray(flat, dtype=np.float64)
    except OverflowError:
        raise InputError(f"{where}: column {column!r}: an integer too large for a float32 reading") from None
    with np.errstate(over="ignore"):
        values = wide.astype(np.float32)
    bad = np.isinf(values) & np.isfinite(wide)
    if bad.any():
        raise InputError(f"{where}: column {column!r}: value {float(wide[np.argmax(bad)])!r} does not fit float32 "
                         "(it would become inf); rescale the data")
    if np.isinf(wide).any():  # Infinity, or 1e400 (already inf when parsed)
        raise InputError(f"{where}: an infinite value is not a reading (NaN marks a missing one); fix the data")
    return values.reshape(-1, width) if width else values


class NumberColumn:
    """Turns one column's cells (text of numbers, JSON lists, or None) into a ``seq`` array of one
    kind, keeping one channel count across the whole input."""

    def __init__(self, column: str, kind: str, sep: str | None):
        self.column = column
        self.kind = kind
        self.sep = sep
        self.width: int | None = None  # 0: one value a step; C: channels

    def _width(self, width: int, where: str) -> None:
        if self.width is None:
            self.width = width
        elif width != self.width:
            def say(w):
                return f"{w} channels a step" if w else "one value a step"
            raise InputError(f"{where}: column {self.column!r} has {say(width)}, but earlier rows have "
                             f"{say(self.width)}; give every row the same shape")

    def array(self, cells: list, at) -> pa.Array:
        """``cells``: per row a str, a list, or None (an empty sequence); ``at(i)`` names row i."""
        rows: list = [None] * len(cells)
        strings, string_rows = [], []
        for i, v in enumerate(cells):
            if v is None:
                continue
            if isinstance(v, str):
                s = v.strip()
                if s.startswith("["):
                    v = _json_list(s)
                    if v is None:
                        raise InputError(f"{at(i)}: column {self.column!r}: {_shown(s)} is not a JSON list of "
                                         "numbers; fix the cell")
                elif s:
                    strings.append(s)
                    string_rows.append(i)
                    continue
                else:
                    continue
            if not isinstance(v, list):
                raise InputError(f"{at(i)}: column {self.column!r}: {_shown(v)} is not numbers (a list, or text of "
                                 "numbers); fix the value")
            if not v:
                continue
            width = list_width(v)
            if width is None:
                raise InputError(f"{at(i)}: column {self.column!r}: {_shown(v)} is neither a list of numbers nor a "
                                 "list of equal-length lists of numbers (channels); fix the value")
            self._width(width, at(i))
            if len(v) * max(width, 1) > MAX_SEQ_VALUES:
                raise too_long(len(v) * max(width, 1), at(i))
            rows[i] = _list_values(v, self.kind, width, at(i), self.column)
        if strings:
            self._width(0, at(string_rows[0]))
            arr = pa.array(strings, pa.string())
            if self.sep is None:
                parts = pc.utf8_split_whitespace(arr)
            else:
                parts = pc.split_pattern(arr, self.sep)
            offsets = np.asarray(parts.offsets)
            offsets = offsets - offsets[0]
            flat = parts.flatten()
            if self.sep is None:  # leading/trailing whitespace gives empty pieces: not values
                keep = pc.not_equal(flat, "").to_numpy(zero_copy_only=False)
                kept = np.concatenate([[0], np.cumsum(keep)])
                offsets = kept[offsets]
                flat = flat.filter(pa.array(keep))
            lengths = np.diff(offsets)
            if len(lengths) and lengths.max() > MAX_SEQ_VALUES:
                j = int(np.argmax(lengths))
                raise too_long(int(lengths[j]), at(string_rows[j]))

            def where(k: int) -> str:
                j = int(np.searchsorted(offsets[1:], k, side="right"))
                return f"{at(string_rows[j])}: column {self.column!r}"
            values = tokens_to_values(flat, self.kind, where)
            for j, i in enumerate(string_rows):
                rows[i] = values[offsets[j]:offsets[j + 1]]
        width = self.width or 0
        dtype = np.float32 if self.kind == "float32" else np.int64
        empty = np.zeros((0, width) if width else 0, dtype)
        rows = [empty if r is None else r for r in rows]
        lengths = [len(r) for r in rows]
        flat_values = np.concatenate(rows) if rows else empty
        if width:
            values = pa.FixedSizeListArray.from_arrays(pa.array(flat_values.reshape(-1)), width)
        else:
            values = pa.array(flat_values)
        return list_array(values, lengths)

    def describe(self) -> str:
        what = KINDS[self.kind]
        return what + (f" ({self.width} channels a step)" if self.width else "")


# ------------------------------------------------------------------------------------- wide CSV

NUMBERED = re.compile(r"^(.*?)([0-9]+)$")
LABEL_NAMES = ("label", "class", "target")


def numbered_columns(header: list[str]) -> tuple[list[int], str] | None:
    """The indices of numbered columns (a shared prefix and 0..N-1 or 1..N in order: t0..t59,
    0..59, att1..att60) and how they read ("t0..t59"); None when the header has no such run."""
    found = [(i, m.group(1), int(m.group(2))) for i, name in enumerate(header)
             if (m := NUMBERED.match(name.strip())) and len(m.group(2)) < 10]
    if len(found) < 2:
        return None
    prefixes = {p for _, p, _ in found}
    if len(prefixes) != 1:
        return None
    numbers = [n for _, _, n in found]
    if numbers[0] not in (0, 1) or numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        return None
    return [i for i, _, _ in found], f"{header[found[0][0]].strip()}..{header[found[-1][0]].strip()}"
