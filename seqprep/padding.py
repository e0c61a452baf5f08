"""How a dataset's rows are padded: one type, read from and written to one place.

Padded rows are ``fixed_size_list<T, length>`` with a ``length`` column of real steps; the
padding sits at the row's ``side`` and holds ``value``. Every shard's and stream's schema
carries it as JSON under ``seqprep.padding`` (so a shard read on its own still says how it is
padded), the manifest and an NPY export's ``meta.json`` as ``{"length", "side", "value"}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal, get_args

import pyarrow as pa

from .errors import InputError

Side = Literal["start", "end"]
SIDES: tuple[str, ...] = get_args(Side)
META_PADDING = b"seqprep.padding"  # in every shard's and stream's schema


def _is_count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63


@dataclass(frozen=True)
class PadSpec:
    """Rows of ``length`` steps, the padding at the ``side`` ("start" or "end"), filled with
    ``value`` (a number, a string token, or None for null string tokens)."""

    length: int
    side: Side = "start"
    value: int | float | str | None = 0

    def to_dict(self) -> dict:
        """As the manifest and ``meta.json`` hold it."""
        return {"length": self.length, "side": self.side, "value": self.value}

    @classmethod
    def from_dict(cls, entry, where: str) -> "PadSpec | None":
        """From a manifest's, ``meta.json``'s or the schema metadata's entry (untrusted):
        None stays None, anything but the exact shape is refused, naming ``where``."""
        if entry is None:
            return None
        if not (isinstance(entry, dict) and set(entry) == {"length", "side", "value"}
                and _is_count(entry["length"]) and entry["side"] in SIDES
                and (entry["value"] is None or isinstance(entry["value"], (str, int, float)))
                and not isinstance(entry["value"], bool)):
            raise InputError(f"{where}: its padding metadata ({META_PADDING.decode()}) is damaged; regenerate it")
        return cls(entry["length"], entry["side"], entry["value"])

    def metadata(self) -> dict[bytes, bytes]:
        """The schema metadata entry that carries it."""
        return {META_PADDING: json.dumps(self.to_dict(), sort_keys=True).encode()}

    @classmethod
    def of(cls, schema: pa.Schema, where: str = "the input") -> "PadSpec | None":
        """How ``seq`` is padded, from ``schema``'s metadata; None if it is not padded."""
        meta = schema.metadata or {}
        if META_PADDING not in meta:
            return None
        try:
            entry = json.loads(meta[META_PADDING])
        except (ValueError, RecursionError):
            entry = False  # refused below
        return cls.from_dict(entry, where) if entry is not None else cls.from_dict(False, where)


def with_padding(schema: pa.Schema, padding: PadSpec | None) -> pa.Schema:
    """``schema`` whose metadata says how it is padded (or, with None, that it is not)."""
    meta = dict(schema.metadata or {})
    meta.pop(META_PADDING, None)
    meta.pop(b"ARROW:schema", None)  # pyarrow's copy of the schema as Parquet stored it
    if padding is not None:
        meta.update(padding.metadata())
    return schema.with_metadata(meta or None)
