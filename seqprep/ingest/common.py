"""What every input reader shares: options, the checks that keep data as it was, bounded reads.

Safety rules every reader keeps (and the tests in tests/ingest/test_safety_ingest.py hold):

- nothing is guessed: a value that does not fit its column (an id or label beyond int64, an
  integer a float32 channel cannot hold exactly, a float beyond float32) is refused with its
  file, row and value, never wrapped, rounded or clipped;
- only regular files are opened: a FIFO or a device is refused from its ``stat``, unopened;
- memory is bounded, whatever a small file claims: see :data:`MAX_SEQ_VALUES`,
  :data:`MAX_LINE_BYTES`, :data:`BUFFER_LIMIT` and :data:`EXPANSION_LIMIT`.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import stat
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import storage
from ..dataset import BATCH_ROWS, BATCH_VALUES, EXPANSION_LIMIT, MAX_SEQ_VALUES  # noqa: F401 - the bound's parts
from ..errors import InputError, UsageError, positive

TOKENIZERS = ("whitespace", "char")  # and "regex:PATTERN"

# The memory bound. A batch of rows is the unit ingest holds (BATCH_VALUES values, 2**27, is the
# budget every command reads with); ingest also holds one input line or row being parsed. So:
#   - one sequence holds at most MAX_SEQ_VALUES values (seqprep.dataset: 2**24, as for every reader);
#   - one line of a text format (a JSON record, a CSV row or field, a .ts case, a FASTA line) and one
#     .txt document hold at most MAX_LINE_BYTES bytes (64 MiB);
#   - readers flush a batch once it holds BUFFER_LIMIT bytes of text or values (64 Mi), so a batch
#     is at most BUFFER_LIMIT plus one row;
#   - a Parquet column chunk that would expand more than EXPANSION_LIMIT-fold (values or bytes per
#     stored byte) past BATCH_VALUES is refused from its metadata before it is read: a
#     "decompression bomb" allocates nothing (seqprep.dataset.check_row_groups, for every reader).
# Peak memory of ingest is then a small multiple (measured: under 4x) of BATCH_VALUES * 8 bytes
# (1 GiB) on any input, besides the interpreter and pyarrow themselves.
MAX_LINE_BYTES = 1 << 26
BUFFER_LIMIT = 1 << 26
MAX_CHANNELS = 1 << 16  # values per step of a multichannel series (.ts @dimensions, NPY's C)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class IngestOptions:
    """How to read the source; which options apply depends on its format."""

    format: str = "auto"
    text_column: str | None = None  # None: "text" where there is one, else "seq" (JSON lines, CSV)
    label_column: str | None = None  # None: "label" where there is one
    seq_column: str | None = None  # None: "seq" where there is one, else "text" (Parquet, Arrow)
    id_column: str | None = None  # None: "id" where there is one (unless row_ids)
    tokenizer: str = "whitespace"
    lowercase: bool = False
    labels: str | None = None  # FASTA: CSV of record id, label; a flat folder of .txt: file name, label
    label_regex: str | None = None  # FASTA: label from the header
    shard_rows: int = 10_000
    batch_rows: int = BATCH_ROWS
    row_ids: bool = False  # number rows 0..N-1 even where there is an "id" column
    as_text: bool = False  # JSON lines, CSV: read the column as text tokens, never as numbers
    as_ids: bool = False  # JSON lines, CSV: numbers are integer token ids (int64), not float32 readings
    sep: str | None = None  # JSON lines, CSV: what separates the numbers in a cell (None: whitespace)
    wide: bool = False  # CSV: one series a row, in numbered columns (t0..tN)
    split: str | None = None  # a folder of SPLIT/LABEL/*.txt: the split to read

    def check(self) -> None:
        positive(("--shard-rows", self.shard_rows))
        if self.shard_rows > 2**31 - 1:
            raise UsageError(f"--shard-rows {self.shard_rows} must be at most {2**31 - 1:,}")
        if self.tokenizer not in TOKENIZERS and not self.tokenizer.startswith("regex:"):
            raise UsageError(f"--tokenizer {self.tokenizer!r} must be whitespace, char or regex:PATTERN")
        if self.tokenizer.startswith("regex:"):
            pattern = compile_regex("--tokenizer", self.tokenizer[len("regex:"):], shown=self.tokenizer)
            if pattern.groups > 1:
                raise UsageError(f"--tokenizer {self.tokenizer!r}: the pattern has {pattern.groups} groups; "
                                 "use at most one (non-capturing groups are (?:...))")
            if pattern.fullmatch("") is not None:
                raise UsageError(f"--tokenizer {self.tokenizer!r}: the pattern matches the empty string, so every "
                                 "position would be a token; use + rather than *")
        if self.label_regex is not None:
            compile_regex("--label-regex", self.label_regex)
        if self.labels is not None and self.label_regex is not None:
            raise UsageError("give --labels or --label-regex, not both")
        if self.as_text and self.as_ids:
            raise UsageError("give --as-text or --as-ids, not both: text is read as tokens, --as-ids reads numbers")
        if self.as_text and self.wide:
            raise UsageError("give --as-text or --wide, not both: a wide CSV holds numbers")
        if self.sep == "":
            raise UsageError("--sep '' must be a character or string (whitespace is the default)")
        if self.row_ids and self.id_column is not None:
            raise UsageError("give --id-column or --row-ids, not both")
        if self.text_column is not None and self.seq_column is not None and self.text_column != self.seq_column:
            raise UsageError(f"--text-column {self.text_column} and --seq-column {self.seq_column} name two columns; "
                             "both name the sequence column: give one")
        if self.split is not None and (not self.split or "/" in self.split or self.split in (".", "..")):
            raise UsageError(f"--split {self.split!r} must be the name of a folder")


def compile_regex(flag: str, pattern: str, shown: str | None = None) -> re.Pattern:
    try:
        return re.compile(pattern)
    except (re.error, RecursionError, OverflowError, ValueError) as e:
        raise UsageError(f"{flag} {shown if shown is not None else pattern!r}: not a valid regular expression "
                         f"({e}); fix the pattern") from None


# ------------------------------------------------------------------------------------- files


def describe_mode(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def path_kind(path: Path, what: str = "") -> str:
    """``"file"`` or ``"dir"``, from ``stat`` alone: anything else (FIFO, device, socket) is
    refused without being opened, since reading one may block forever or never end."""
    storage.local_only(str(path), "a file to read" + what)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file or directory{what}") from None
    except OSError as e:
        raise InputError(f"{path}: cannot be read ({e.strerror}){what}") from None
    if stat.S_ISREG(st.st_mode):
        return "file"
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    raise InputError(f"{path}: {describe_mode(st.st_mode)}, not a regular file{what}; "
                     "copy the data to a file and give that")


def regular_file(path: Path, what: str = "") -> Path:
    """``path`` if it is a regular file (or a link to one); one line otherwise, never opened."""
    if path_kind(path, what) == "dir":
        raise InputError(f"{path}: a folder, but a file is expected here{what}; give the file inside it")
    return Path(path)


@contextmanager
def read_errors(path):
    """Errors of reading a file (a cut gzip stream, a disk error) as one line naming the file."""
    try:
        yield
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise InputError(f"{path}: not a whole gzip file ({e}); it was cut short or is not gzip") from None
    except OSError as e:
        raise InputError(f"{path}: cannot be read ({e.strerror or e})") from None


class _Prefixed(io.RawIOBase):
    """The bytes already read to sniff a stream, then the rest of it."""

    def __init__(self, head: bytes, rest):
        self.head = head
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        read = getattr(self.rest, "read1", self.rest.read)
        data = read(len(b))
        b[:len(data)] = data
        return len(data)


SNIFF_BYTES = 1 << 16
GZIP_MAGIC = b"\x1f\x8b"
ARROW_MAGIC = b"\xff\xff\xff\xff"


def _head(stream) -> bytes:
    """The first bytes of a stream: at least 4, and up to its first non-space byte (at most 64 KiB)."""
    head = b""
    read = getattr(stream, "read1", stream.read)
    while len(head) < SNIFF_BYTES:
        chunk = read(SNIFF_BYTES - len(head))
        if not chunk:
            break
        head += chunk
        if len(head) >= 4 and head.lstrip(b" \t\r\n\xef\xbb\xbf"):
            break
    return head


def sniff(head: bytes) -> str | None:
    """The format a stream's first bytes show: an Arrow IPC stream (0xFFFFFFFF), or JSON lines
    (``{`` first, after spaces and a BOM); None when they show neither."""
    if head.startswith(ARROW_MAGIC):
        return "arrow"
    text = head[3:] if head.startswith(BOM) else head
    if text.lstrip(b" \t\r\n").startswith(b"{"):
        return "jsonl"
    return None


_stdin = None  # stdin after sniffing (and gunzipping), while ingest reads it


@contextmanager
def sniffed_stdin(raw=None):
    """stdin (or ``raw``) as ingest reads it: gzip (magic 1f 8b) is decompressed as it streams,
    and the first bytes are kept for the reader. Yields (stream, the format the bytes show or None,
    whether it was gzip, whether it is empty). Nothing is read past what sniffing needs."""
    global _stdin
    raw = sys.stdin.buffer if raw is None else raw
    with read_errors("stdin"):
        head = _head(raw)
        stream = io.BufferedReader(_Prefixed(head, raw), SNIFF_BYTES)
        gz = head.startswith(GZIP_MAGIC)
        if gz:
            inner = gzip.GzipFile(fileobj=stream, mode="rb")
            head = _head(inner)
            stream = io.BufferedReader(_Prefixed(head, inner), SNIFF_BYTES)
    _stdin = stream
    try:
        yield stream, sniff(head), gz, not head
    finally:
        _stdin = None


def stdin_binary():
    """The stdin stream readers read: the sniffed one while ingest runs, else the raw one."""
    return _stdin if _stdin is not None else sys.stdin.buffer


def open_binary(path: Path):
    """A binary reader, through gzip for ``.gz`` files; ``-`` is stdin. Only regular files open."""
    if str(path) == "-":
        return stdin_binary()
    regular_file(path)
    with read_errors(path):
        if path.suffix.lower() == ".gz":
            return gzip.open(path, "rb")
        return open(path, "rb")


BOM = b"\xef\xbb\xbf"


def raw_lines(path: Path, limit: int = MAX_LINE_BYTES) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes with the line end) for each line; a leading UTF-8 BOM is dropped, and a
    line longer than ``limit`` is refused before more of it is read."""
    with open_binary(path) as f, read_errors(path):
        number = 0
        while True:
            raw = f.readline(limit + 1)
            if not raw:
                return
            number += 1
            if len(raw) > limit and not raw.endswith(b"\n"):
                raise InputError(f"{path}:{number}: line longer than {limit:,} bytes, the most seqprep reads as "
                                 "one line (MAX_LINE_BYTES); is this the right file? split such records")
            if number == 1 and raw.startswith(BOM):
                raw = raw[len(BOM):]
            yield number, raw


def decode(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{where}: not valid UTF-8 ({e.reason} at byte {e.start}); re-save the file as UTF-8") from None


def text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) for each line of a UTF-8 file; invalid UTF-8 names the line."""
    for number, raw in raw_lines(path):
        yield number, decode(raw, f"{path}:{number}")


def csv_hint(e: Exception) -> str:
    """The fix for a CSV parser's complaint."""
    if "field limit" in str(e):
        return f"a field may hold at most {MAX_LINE_BYTES:,} characters (MAX_LINE_BYTES)"
    return "check the quoting: is a quote left open, or the file cut short?"


# ------------------------------------------------------------------------------------- values


def fit_int64(value: int, where: str, what: str) -> int:
    """A Python int, if int64 holds it."""
    if not INT64_MIN <= value <= INT64_MAX:
        raise InputError(f"{where}: {what} {value} does not fit int64 (from -2**63 to 2**63-1); "
                         "seqprep never wraps numbers: fix the value")
    return value


INT_TEXT = re.compile(r"[+-]?[0-9]+")


def parse_int64(value, where: str, what: str, column: str) -> int:
    """An id (or integer label) from JSON or CSV: an int, or text of ASCII digits; nothing else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return fit_int64(value, where, what)
    if isinstance(value, str) and INT_TEXT.fullmatch(value.strip()) and len(value) < 40:
        return fit_int64(int(value), where, what)
    shown = repr(value) if not isinstance(value, str) or len(value) < 60 else repr(value[:57]) + "..."
    raise InputError(f"{where}: {what} {shown} in {column!r} is not an integer; ids must be int64")


def rows_of(where: str, start: int = 0):
    """``at(i)`` for messages: batch row ``i`` is row ``start + i + 1`` (1-based) of ``where``."""
    return lambda i: f"{where}: row {start + i + 1:,}"


def lines_of(where: str, lines: list):
    """``at(i)`` for text formats: batch row ``i`` came from line ``lines[i]``."""
    return lambda i: f"{where}:{lines[i]}"


def first_row(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def int64_values(arr: pa.Array, what: str, at) -> pa.Array:
    """An integer Arrow array as int64, refusing (with the row) a uint64 value beyond int64."""
    if arr.type == pa.int64():
        return arr
    if arr.type == pa.uint64() and len(arr):
        big = pc.fill_null(pc.greater(arr, pa.scalar(INT64_MAX, pa.uint64())), False)
        big = np.asarray(big.to_numpy(zero_copy_only=False), dtype=bool)
        if big.any():
            i = first_row(big)
            raise InputError(f"{at(i)}: {what} {arr[i].as_py()} does not fit int64 (at most 2**63-1); "
                             "seqprep never wraps numbers: fix the value")
    return arr.cast(pa.int64())


def int64_numpy(x: np.ndarray, what: str, at) -> np.ndarray:
    """An integer numpy array as int64, refusing (with the row) a value beyond int64."""
    if x.dtype.kind == "u" and x.dtype.itemsize >= 8 and x.size:
        big = x > np.uint64(INT64_MAX)
        if big.any():
            i = first_row(big.reshape(len(x), -1).any(axis=1)) if x.ndim > 1 else first_row(big)
            raise InputError(f"{at(i)}: {what} {int(x.reshape(len(x), -1)[i].max())} does not fit "
                             "int64 (at most 2**63-1); seqprep never wraps numbers: fix the value")
    return np.asarray(x, dtype=np.int64)


FLOAT32_EXACT = 2**24  # every integer up to this is a float32 exactly


def float32_numpy(x: np.ndarray, at) -> np.ndarray:
    """Numbers as float32, refusing (with the row) a finite value float32 cannot hold (it would be
    inf) and an integer it would round."""
    with np.errstate(over="ignore"):  # overflow is found and named just below
        out = np.asarray(x, dtype=np.float32)
    if x.dtype.kind == "f" and np.isinf(x).any():  # inf (or 1e400, already inf when parsed): no reading
        flat = np.isinf(x).reshape(len(x), -1) if x.ndim > 1 else np.isinf(x).reshape(-1, 1)
        i = first_row(flat.any(axis=1))
        raise InputError(f"{at(i)}: an infinite value is not a reading (NaN marks a missing one); fix the data")
    if x.dtype.kind == "f" and x.dtype.itemsize > 4:
        bad = np.isinf(out) & np.isfinite(x)
        if bad.any():
            flat = bad.reshape(len(x), -1) if x.ndim > 1 else bad.reshape(-1, 1)
            i = first_row(flat.any(axis=1))
            value = x.reshape(len(x), -1)[i][flat[i]][0] if x.ndim > 1 else x[i]
            raise InputError(f"{at(i)}: value {float(value)!r} does not fit float32 (it would become "
                             "inf); rescale the data")
    elif x.dtype.kind in "iu" and (x.dtype.itemsize > 2 or x.dtype.kind == "u" and x.dtype.itemsize > 1):
        bad = (x > FLOAT32_EXACT) | (x < -FLOAT32_EXACT) if x.dtype.kind == "i" else (x > FLOAT32_EXACT)
        if bad.any():
            flat = bad.reshape(len(x), -1) if x.ndim > 1 else bad.reshape(-1, 1)
            i = first_row(flat.any(axis=1))
            value = x.reshape(len(x), -1)[i][flat[i]][0] if x.ndim > 1 else x[i]
            raise InputError(f"{at(i)}: integer {int(value)} cannot be stored exactly as a float32 "
                             f"channel value (|v| > 2**24); scale it, or save it as a plain (N, T) integer array")
    return out


def check_lengths(seq: pa.Array, at) -> None:
    """No null sequence and none longer than MAX_SEQ_VALUES values (counted flat, channels too)."""
    if seq.null_count:
        i = first_row(np.asarray(seq.is_null().to_numpy(zero_copy_only=False), dtype=bool))
        raise InputError(f"{at(i)}: the sequence is null; give every row a sequence (an empty one is [])")
    if not len(seq):
        return
    lengths = pc.list_value_length(seq).to_numpy(zero_copy_only=False)
    width = seq.type.value_type.list_size if pa.types.is_fixed_size_list(seq.type.value_type) else 1
    if lengths.max() * width > MAX_SEQ_VALUES:
        i = int(np.argmax(lengths))
        raise InputError(f"{at(i)}: {int(lengths[i]) * width:,} values in one sequence, more than "
                         f"seqprep holds in one ({MAX_SEQ_VALUES:,}, MAX_SEQ_VALUES); split it into shorter ones")


def too_long(n: int, where: str) -> InputError:
    return InputError(f"{where}: {n:,} values in one sequence, more than seqprep holds in one "
                      f"({MAX_SEQ_VALUES:,}, MAX_SEQ_VALUES); split it into shorter ones")


# ------------------------------------------------------------------------------------- labels


def kind_name(kind: str, plural: bool = False) -> str:
    return {"int64": "integers" if plural else "an integer", "string": "strings" if plural else "a string"}[kind]


class LabelTyper:
    """Keeps one label type (int64 or string) across a whole source, naming the line that breaks it.
    ``kind`` may be known in advance (from a first look through the file)."""

    def __init__(self, where: str, kind: str | None = None):
        self.where = where
        self.kind = kind

    @staticmethod
    def kind_of(value) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return None
        return "int64" if isinstance(value, int) else "string"

    def check(self, value, line) -> object:
        if value is None:
            return None
        kind = self.kind_of(value)
        if kind is None:
            raise InputError(f"{self.where}:{line}: label {value!r} must be a string or an integer")
        if kind == "int64":
            fit_int64(value, f"{self.where}:{line}", "label")
        if self.kind is None:
            self.kind = kind
        elif kind != self.kind:
            raise InputError(
                f"{self.where}:{line}: label {value!r} is {kind_name(kind)} but earlier labels are "
                f"{kind_name(self.kind, plural=True)}; use one type (seqprep does not guess which)"
            )
        return value

    def array(self, values: list) -> pa.Array:
        return pa.array(values, type=pa.int64() if self.kind == "int64" else pa.string())


def string_array(values: list, what: str, at) -> pa.Array:
    """Strings as Arrow; a lone surrogate (JSON's "\\ud800", which UTF-8 cannot hold) names its row."""
    try:
        return pa.array(values, pa.string())
    except (UnicodeEncodeError, pa.ArrowException):
        for i, value in enumerate(values):
            if isinstance(value, str):
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError as e:
                    raise InputError(f"{at(i)}: the {what} holds {value[e.start]!r}, a lone surrogate that is "
                                     "not text (UTF-8 cannot hold it); fix the \\u escape") from None
        raise


# ------------------------------------------------------------------------------------- batches


def list_array(values, lengths) -> pa.Array:
    """A ``list<T>`` array from flat Arrow values and per-row lengths."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if offsets[-1] > 2**31 - 1:
        return pa.LargeListArray.from_arrays(pa.array(offsets), values)
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values)


def make_batch(seq: pa.Array, label: pa.Array | None = None, **extra: pa.Array) -> pa.RecordBatch:
    """A batch of ``seq``, ``label`` (when there are labels) and extra columns; ``id`` comes later."""
    arrays, names = [seq], ["seq"]
    if label is not None:
        arrays.append(label)
        names.append("label")
    for name, arr in extra.items():
        arrays.append(arr)
        names.append(name)
    return pa.RecordBatch.from_arrays(arrays, names=names)
