"""Reading datasets: a directory of shards + ``_seqprep.json``, one Parquet/Arrow file, or ``-``.

A source yields its rows as Arrow record batches, shard by shard, in order; memory stays
bounded by ``batch_rows``. Writing lives in :mod:`seqprep.output`.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import storage
from .errors import InputError, SeqprepError
from .padding import PadSpec
from .storage import Uri

# Written last: the dataset is complete iff it exists. Its leading "_" makes other engines
# (pyarrow and Arrow datasets, Spark, Hive, DuckDB's and polars' globs of *.parquet) skip it
# when they read the directory. Datasets written before it was renamed have "seqprep.json".
MANIFEST = "_seqprep.json"
MANIFESTS = (MANIFEST, "seqprep.json")
FORMAT_VERSION = 1
BATCH_ROWS = 4096
META_LINEAGE = b"seqprep.lineage"  # in a stream's schema: the steps that made it


def shard_name(i: int) -> str:
    return f"part-{i:05d}.parquet"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def is_count(v) -> bool:
    """A non-negative int, not a bool, of a size an int64 holds."""
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63


@dataclass
class Source:
    """An opened dataset: where it is, its shards, manifest and schema."""

    path: str  # as the user gave it; "-" for stdin
    schema: pa.Schema
    shards: list = field(default_factory=list)  # Paths, or Uris in object storage
    manifest: dict | None = None
    input_sha256: str | None = None  # sha256 of the manifest (or of a stream's lineage)
    lineage: list = field(default_factory=list)
    _stream: pa.ipc.RecordBatchStreamReader | None = None
    _tail: "Tail | None" = None  # what the stream reader read, to check it ended properly
    _file_kind: str | None = None  # "parquet" | "arrow" for a single file
    _npy: object = None  # an NPY export read as a dataset (seqprep.exports.NpyExport)

    @property
    def rows(self) -> int | None:
        return self.manifest["rows"] if self.manifest else None

    @property
    def padding(self) -> PadSpec | None:
        return PadSpec.of(self.schema, self.path)

    @property
    def is_stream(self) -> bool:
        return self._stream is not None

    @property
    def in_process(self) -> bool:
        """Read here, in one piece, not shard by shard in workers: a stream or an NPY export."""
        return self._stream is not None or self._npy is not None

    def shard_batches(self, batch_rows: int = BATCH_ROWS) -> Iterator[tuple[str, Iterator[pa.RecordBatch]]]:
        """For each shard, its name and an iterator of its batches (a stream is one shard)."""
        if self._stream is not None:
            yield "stdin", guard("stdin", _whole_stream(self._stream, self._tail))
            return
        if self._npy is not None:
            yield self._npy.name, self._npy.batches(batch_rows)
            return
        files = self.shard_files(batch_rows)
        for i in range(len(files.paths)):
            yield files.names[i], files.batches(i)

    def shard_files(self, batch_rows: int = BATCH_ROWS) -> "ShardFiles":
        """The shards as a worker process or a Dask task reads them (not for a stream)."""
        rows = [e["rows"] for e in self.manifest["shards"]] if self.manifest else [None] * len(self.shards)
        return ShardFiles(paths=[s if isinstance(s, Uri) else str(Path(s).resolve()) for s in self.shards],
                          names=[str(s) for s in self.shards],
                          kind=self._file_kind or "parquet", batch_rows=batch_rows, rows=rows)


@dataclass
class ShardFiles:
    """A dataset's shard files, picklable: what any process reads shard ``i`` from."""

    paths: list  # absolute (a worker's working directory may differ), or Uris
    names: list[str]  # as the user gave them, for messages
    kind: str  # "parquet" | "arrow"
    batch_rows: int
    rows: list  # each shard's rows as its manifest says (None: a file given alone)

    def batches(self, i: int) -> Iterator[pa.RecordBatch]:
        """Shard ``i``'s batches; its rows are checked against the manifest as it ends, so a
        shard replaced or cut short fails the run before anything is committed."""
        batches = guard(self.names[i], file_batches(shard_file(self.paths[i], self.names[i]), self.kind,
                                                   self.batch_rows))
        return batches if self.rows[i] is None else _counted(self.names[i], batches, self.rows[i])


def _counted(name: str, batches: Iterator[pa.RecordBatch], expected: int) -> Iterator[pa.RecordBatch]:
    n = 0
    for batch in batches:
        n += batch.num_rows
        if n > expected:
            break
        yield batch
    if n != expected:
        raise InputError(f"{name}: {f'more than {expected}' if n > expected else n} rows, but {MANIFEST} says {expected}; "
                         "the shard changed after it was written: regenerate the dataset")


def shard_file(path, name: str):
    """A shard to read: a regular local file (:func:`regular_file`) or an object that exists."""
    if isinstance(path, Uri):
        if storage.size(path) is None:
            raise InputError(f"{name}: cannot be read (no such object); regenerate the dataset")
        return path
    return regular_file(path, name)


def regular_file(path, name: str) -> Path:
    """``path``, if it is a regular file: a FIFO or a device would block or never end. A URI
    (only datasets are read from object storage) is refused, not taken as a local name."""
    storage.local_only(name, "this file")
    try:
        st = os.stat(path)
    except OSError as e:
        raise InputError(f"{name}: cannot be read ({e.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{name}: not a regular file (a directory, FIFO or device); give a file")
    return Path(path)


# The memory bound. A batch holds at most BATCH_ROWS rows and about BATCH_VALUES seq values
# (fewer rows where rows are long, down to one; Parquet shards are read in batches of about
# READ_VALUES, a 128th of that, for a smaller peak), and one sequence at most MAX_SEQ_VALUES values
# (2**24, 16 Mi: 64 MiB of float32, far beyond what an LSTM is given; 8 fit one batch budget).
# A command's peak memory is a small multiple of one batch (README, "Memory bounds"). A Parquet
# row group whose metadata shows a longer sequence, or a column that would expand more than
# EXPANSION_LIMIT-fold past BATCH_VALUES values or bytes (a "decompression bomb"), is refused
# before it is decoded (:func:`check_row_groups`); a longer sequence that only shows once decoded
# is refused then (:func:`check_seq_lengths`).
BATCH_VALUES = 1 << 27
MAX_SEQ_VALUES = BATCH_VALUES >> 3
EXPANSION_LIMIT = 1024


def file_batches(path: Path, kind: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
    if kind == "parquet":
        batches = parquet_batches(path, batch_rows)
    else:
        batches = _ipc_batches(path, batch_rows)
    for batch in batches:
        check_seq_lengths(path, batch)
        yield batch


def _opened(path):
    """What Arrow reads a file from: a local path, or an object's random-access file."""
    return storage.open_input(path) if isinstance(path, Uri) else path


def parquet_file(path, **options) -> pq.ParquetFile:
    """A Parquet file on local disk or in object storage."""
    return pq.ParquetFile(_opened(path), **options)


def _ipc_file(path):
    return storage.open_input(path) if isinstance(path, Uri) else pa.memory_map(str(path))


def _ipc_batches(path: Path, batch_rows: int) -> Iterator[pa.RecordBatch]:
    with _ipc_file(path) as f:
        for batch in _open_ipc(f):
            yield from batch.to_batches(max_chunksize=batch_rows) if isinstance(batch, pa.Table) else [batch]


def check_seq_lengths(where, batch: pa.RecordBatch) -> None:
    """Refuse a sequence longer than MAX_SEQ_VALUES values (see the memory bound above)."""
    if "seq" not in batch.schema.names or batch.num_rows == 0:
        return
    seq = batch.column("seq")
    if pa.types.is_fixed_size_list(seq.type):
        longest = seq.type.list_size
    elif pa.types.is_list(seq.type) or pa.types.is_large_list(seq.type):
        longest = int(pc.max(pc.list_value_length(seq)).as_py() or 0)
    else:
        return
    if longest > MAX_SEQ_VALUES:
        raise InputError(f"{where}: a sequence of {longest:,} steps, more than seqprep takes in one sequence "
                         f"({MAX_SEQ_VALUES:,}); cut the rows into windows or shorter records")


def parquet_batches(path: Path, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Each row group in batches of at most ``batch_rows`` rows and about READ_VALUES values
    of ``seq`` (fewer rows where rows are long, down to one; a batch never spans two row
    groups), its pages streamed from the file as they are decoded (see _parquet_batches). An
    object in a store up to REMOTE_WHOLE_BYTES is fetched whole, in one request (as Arrow's
    scanner did: a request costs more than the memory), and read from memory."""
    source = _opened(path)
    if isinstance(path, Uri) and source.size() <= REMOTE_WHOLE_BYTES:
        source = pa.BufferReader(source.read())
    pf = pq.ParquetFile(source)
    md = pf.metadata
    check_row_groups(path, md)
    seq = [i for i in range(md.num_columns) if md.schema.column(i).path.split(".")[0] == "seq"]
    text = _text_leaf(pf, seq)
    if text is None:
        yield from _parquet_batches(source, md, seq, batch_rows, [])
        return
    # String tokens are read dictionary-encoded and sized before they are decoded: a few
    # stored bytes can name one huge string many times (see _decoded_text).
    seq_type = pf.schema_arrow.field("seq").type
    for batch in _parquet_batches(source, md, seq, batch_rows, [text]):
        yield _decoded_text(path, batch, seq_type)


MAX_TOKEN_BYTES = 1 << 20  # a string token longer than this is no token
MAX_BATCH_TEXT_BYTES = 1 << 30  # the string tokens of one batch, decoded


def _text_leaf(pf, seq: list[int]) -> str | None:
    """The Parquet path of ``seq``'s string values (``seq.list.element``), if its steps are strings."""
    if "seq" not in pf.schema_arrow.names or len(seq) != 1:
        return None
    t = pf.schema_arrow.field("seq").type
    while pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        t = t.value_type
    return pf.metadata.schema.column(seq[0]).path if pa.types.is_string(t) or pa.types.is_large_string(t) else None


def _decoded_text(path, batch: pa.RecordBatch, seq_type: pa.DataType) -> pa.RecordBatch:
    """The batch with its dictionary-encoded tokens decoded, once their decoded size is known
    to be within MAX_TOKEN_BYTES a token and MAX_BATCH_TEXT_BYTES a batch."""
    i = batch.schema.get_field_index("seq")
    col = batch.column(i)
    values = col.values
    while not isinstance(values, pa.DictionaryArray):  # padded tokens: lists of lists
        values = values.values
    sizes = pc.binary_length(values.dictionary).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    if len(sizes) and sizes.max() > MAX_TOKEN_BYTES:
        raise InputError(f"{path}: a string token of {int(sizes.max()):,} bytes, more than a token holds "
                         f"({MAX_TOKEN_BYTES:,}); tokenize the text first (seqprep ingest)")
    total = int(sizes[values.indices.fill_null(0).to_numpy(zero_copy_only=False)].sum()) if len(sizes) else 0
    if total > MAX_BATCH_TEXT_BYTES:
        raise InputError(f"{path}: {len(batch):,} rows whose tokens decode to {total:,} bytes, more than seqprep "
                         f"holds in one batch ({MAX_BATCH_TEXT_BYTES:,}); cut the rows shorter")
    return batch.set_column(i, "seq", col.cast(seq_type))


# What a batch read from Parquet holds: at most BATCH_ROWS rows, and rows enough for about this
# many values of seq (from the row group's average row; 2 MiB of 32-bit values). Memory follows
# the batch, not the row group or the file: `truncate --length 500` on the bench data peaked at
# ~400 MiB with 4,096-row batches read through Arrow's dataset scanner (which pre-buffers a
# whole file and decodes ahead), under 200 MiB this way (README, "Memory").
READ_VALUES = 1 << 19
STREAM_BUFFER = 1 << 20  # bytes read from a local file at a time as its pages are decoded
REMOTE_WHOLE_BYTES = 64 << 20  # an object up to this size is fetched whole, in one request


def _parquet_batches(source, md, seq: list[int], batch_rows: int, dictionary: list) -> Iterator[pa.RecordBatch]:
    # Not pre-buffered: Arrow then reads a row group's column chunks whole before decoding
    # (7.4 GiB peak for a 5.5 GiB shard), where a buffered stream holds a buffer a column.
    # The footer read once (``md``), by parquet_batches.
    pf = pq.ParquetFile(source, metadata=md, read_dictionary=dictionary or None, pre_buffer=False,
                        buffer_size=STREAM_BUFFER)
    # A string token decoded holds its offset and its characters, about twice a number's bytes:
    # half the values. `encode` of the bench's string tokens peaked at 220-223 MiB, 187-192 MiB
    # so, and took 7.6-9.1 s against 7.2-7.8 s (its vocabulary lookup is paid per batch).
    budget = READ_VALUES // 2 if dictionary else READ_VALUES
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        values = max((rg.column(i).num_values for i in seq), default=0)
        size = max(1, min(batch_rows, budget * rg.num_rows // values)) if values else batch_rows
        yield from pf.iter_batches(batch_size=size, row_groups=[g])
    if md.num_rows == 0:  # a file of no rows still has its columns
        yield pa.RecordBatch.from_pylist([], schema=pf.schema_arrow)


def check_row_groups(path, md) -> None:
    """Refuse, from its metadata and before any data is read, a Parquet file with a row group
    that could not be read within the memory bound: a column holding more values than its rows
    can hold at MAX_SEQ_VALUES each, or a column chunk that expands more than EXPANSION_LIMIT-fold
    beyond BATCH_VALUES values or bytes (a few hundred bytes claiming 10**8 values)."""
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        for c in range(rg.num_columns):
            col = rg.column(c)
            stored = max(col.total_compressed_size, 1)
            name = col.path_in_schema
            if col.num_values > max(rg.num_rows, 1) * MAX_SEQ_VALUES:
                raise InputError(f"{path}: row group {g} column {name!r} holds {col.num_values:,} values in "
                                 f"{rg.num_rows:,} rows, so a row holds more than seqprep takes in one sequence "
                                 f"({MAX_SEQ_VALUES:,}); cut the rows into windows or shorter records")
            for amount, what in ((col.num_values, "values"), (col.total_uncompressed_size, "bytes")):
                if amount > BATCH_VALUES and amount > EXPANSION_LIMIT * stored:
                    raise InputError(f"{path}: row group {g} column {name!r} expands {stored:,} stored bytes into "
                                     f"{amount:,} {what}, more than {EXPANSION_LIMIT}-fold; seqprep does not read "
                                     "such data (a decompression bomb?): rewrite it")


ARROW_FILE_MAGIC = b"ARROW1"


def _open_ipc(f):
    try:
        reader = pa.ipc.open_file(f)
        return (reader.get_batch(i) for i in range(reader.num_record_batches))
    except pa.ArrowInvalid:
        _not_a_cut_file(f)
        return _to_the_end(pa.ipc.open_stream(f), f)


def _to_the_end(reader, f) -> Iterator[pa.RecordBatch]:
    """A stream file's batches; bytes after its end-of-stream marker (two streams joined by
    `cat`, or anything appended) are refused, not silently left unread."""
    yield from reader
    if f.tell() != f.size():
        raise pa.ArrowInvalid(f"{f.size() - f.tell():,} bytes after the end-of-stream marker (two streams "
                              "joined?); give one stream per file")


def _not_a_cut_file(f) -> None:
    """An Arrow *file* whose footer is missing, or a stream without its end-of-stream marker,
    was cut short (its writer died): read as a stream it would look complete, with the rows it
    had so far. Refuse it; rewind for a stream."""
    f.seek(0)
    if f.read(len(ARROW_FILE_MAGIC)) == ARROW_FILE_MAGIC:
        raise pa.ArrowInvalid("an Arrow file without its footer: it was cut short while being written")
    size = f.seek(0, 2)
    if size >= len(EOS):
        f.seek(size - len(EOS))
        if f.read(len(EOS)) != EOS:
            raise pa.ArrowInvalid("an Arrow stream without its end-of-stream marker: it was cut short")
    f.seek(0)


EOS = b"\xff\xff\xff\xff\x00\x00\x00\x00"  # an Arrow IPC stream's last 8 bytes: a message of length 0


class Tail:
    """A binary stream that keeps the last bytes read from it, for Arrow's stream reader."""

    closed = False

    def __init__(self, raw):
        self.raw = raw
        self.last = b""

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.last = data[-len(EOS):] if len(data) >= len(EOS) else (self.last + data)[-len(EOS):]
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        pass


def _whole_stream(reader, tail: Tail) -> Iterator[pa.RecordBatch]:
    """The stream's batches; a stream that stops without its end-of-stream marker (the writer
    was killed, as `a | b` does to `a`) is cut short, not complete."""
    yield from reader
    if tail.last != EOS:
        raise pa.ArrowInvalid("the stream ended without its end-of-stream marker: the command writing it "
                              "stopped early")
    if tail.raw.read(1):
        raise pa.ArrowInvalid("data after the end-of-stream marker (two streams joined?); pipe in one stream")


def guard(name: str, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Turn Arrow's read errors (a corrupt or truncated shard) into one line naming the shard;
    refuse null ids, which no step could carry."""
    try:
        for batch in batches:
            if "id" in batch.schema.names and batch.column("id").null_count:
                raise InputError(f"{name}: {batch.column('id').null_count} rows have no id (null); ids identify "
                                 "every row: make the dataset with `seqprep ingest`")
            yield batch
    except SeqprepError:
        raise
    except (pa.ArrowException, OSError, ValueError) as e:
        raise InputError(f"{name}: cannot be read ({_first_line(e)}); is it corrupt or truncated?") from None


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def read_schema(path: Path, kind: str) -> pa.Schema:
    try:
        if kind == "parquet":
            return pq.read_schema(_opened(path))
        with _ipc_file(path) as f:
            try:
                return pa.ipc.open_file(f).schema
            except pa.ArrowInvalid:
                _not_a_cut_file(f)
                return pa.ipc.open_stream(f).schema
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"{path}: not a readable {kind} file ({_first_line(e)})") from None


def file_kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".arrow", ".feather", ".ipc", ".arrows"):
        return "arrow"
    return None


def open_source(path: str, *, need_seq: bool = True) -> Source:
    """Open a dataset directory, a single Parquet/Arrow file, or ``-`` (an Arrow IPC stream on stdin)."""
    loc = storage.where(path) if path != "-" else path
    if path == "-":
        src = _open_stdin()
    elif isinstance(loc, Uri):
        src = _open_remote(loc, path)
    else:
        p = Path(loc)
        if not p.exists():
            raise InputError(f"{path}: no such file or directory")
        src = _open_dir(p) if p.is_dir() else _open_file(regular_file(p, path))
    if need_seq:
        for col in ("id", "seq"):
            if col not in src.schema.names:
                raise InputError(
                    f"{path}: no {col!r} column (columns: {', '.join(src.schema.names)}); "
                    "make a dataset with `seqprep ingest` first"
                )
        check_columns(path, src.schema)
    return src


def check_columns(where: str, schema: pa.Schema) -> None:
    """The contract's column types, where a reader relies on them: ``id`` is a signed integer
    (an unsigned 64-bit id may not fit int64), ``seq`` a list, ``label`` int64 or string."""
    t = schema.field("id").type
    if not (pa.types.is_signed_integer(t) or t in (pa.uint8(), pa.uint16(), pa.uint32())):
        raise InputError(f"{where}: column 'id' is {t}, but ids are int64; "
                         "make a dataset with `seqprep ingest` (it numbers the rows) or cast the column")
    t = schema.field("seq").type
    if not (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)):
        raise InputError(f"{where}: column 'seq' is {t}, not a list of steps; make a dataset with `seqprep ingest`")
    if "label" in schema.names:
        t = schema.field("label").type
        if not (pa.types.is_integer(t) or pa.types.is_string(t) or pa.types.is_large_string(t)
                or pa.types.is_null(t)) or t == pa.uint64():
            raise InputError(f"{where}: column 'label' is {t}, but labels are int64 or string; cast the column")


def _open_stdin() -> Source:
    tail = Tail(sys.stdin.buffer)
    try:
        reader = pa.ipc.open_stream(tail)
    except (pa.ArrowException, OSError) as e:
        raise InputError(
            f"stdin: not an Arrow IPC stream ({_first_line(e)}); pipe in the output of a seqprep command given '-'"
        ) from None
    meta = reader.schema.metadata or {}
    lineage_bytes = meta.get(META_LINEAGE, b"[]")
    try:
        lineage = json.loads(lineage_bytes)
    except (ValueError, RecursionError):
        lineage = None
    if not isinstance(lineage, list):
        raise InputError(f"stdin: its lineage metadata ({META_LINEAGE.decode()}) is damaged; regenerate the stream")
    return Source(
        path="-",
        schema=reader.schema,
        lineage=lineage,
        input_sha256=hashlib.sha256(lineage_bytes).hexdigest(),
        _stream=reader,
        _tail=tail,
    )


def manifest_path(p: Path) -> Path | None:
    """The manifest of dataset directory ``p``: ``_seqprep.json``, or the older ``seqprep.json``."""
    for name in MANIFESTS:
        if os.path.lexists(p / name):
            return p / name
    return None


def _open_dir(p: Path) -> Source:
    mpath = manifest_path(p)
    if mpath is None:
        from .exports import is_export

        if is_export(p):
            from .exports import open_export

            return open_export(p)
        raise InputError(
            f"{p}: not a seqprep dataset, or an incomplete one (no {MANIFEST}); make it with `seqprep ingest`"
        )
    raw = read_manifest_bytes(mpath)
    manifest = check_manifest(mpath, raw)
    shards = [shard_path(p, mpath, s["path"], s.get("bytes")) for s in manifest["shards"]]
    schema = read_schema(shards[0], "parquet") if shards else pa.schema([])
    return Source(
        path=str(p),
        schema=schema,
        shards=shards,
        manifest=manifest,
        input_sha256=hashlib.sha256(raw).hexdigest(),
        lineage=list(manifest.get("lineage", [])),
    )


MANIFEST_LIMIT = 64 << 20  # bytes; a real manifest is a few kB per thousand shards


def read_manifest_bytes(mpath: Path) -> bytes:
    regular_file(mpath, str(mpath))
    if mpath.stat().st_size > MANIFEST_LIMIT:
        raise InputError(f"{mpath}: {mpath.stat().st_size:,} bytes, more than a manifest holds "
                         f"({MANIFEST_LIMIT:,}); regenerate the dataset")
    return mpath.read_bytes()


def check_manifest(mpath: Path, raw: bytes) -> dict:
    """The manifest's fields, type- and range-checked: a manifest is untrusted input."""
    def bad(what: str) -> InputError:
        return InputError(f"{mpath}: not a valid manifest ({what}); regenerate the dataset")

    try:
        m = json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise bad(_first_line(e)) from None
    if not isinstance(m, dict):
        raise bad("not a JSON object")
    if m.get("format", "seqprep-dataset") != "seqprep-dataset":
        raise bad(f"format {m.get('format')!r}, not 'seqprep-dataset'")
    version = m.get("version")
    if not is_count(version) or version < 1:
        raise bad(f"version {version!r} is not a positive integer")
    if version > FORMAT_VERSION:
        raise InputError(f"{mpath}: format version {version} is newer than this seqprep reads ({FORMAT_VERSION}); "
                         "upgrade seqprep")
    if not is_count(m.get("rows")):
        raise bad(f"rows {m.get('rows')!r} is not a count")
    if not isinstance(m.get("shards"), list):
        raise bad("no list of shards")
    seen = set()
    for i, e in enumerate(m["shards"]):
        if not (isinstance(e, dict) and isinstance(e.get("path"), str) and is_count(e.get("rows"))
                and isinstance(e.get("sha256"), str)):
            raise bad(f"shard {i} is not {{path, rows, sha256}}")
        name = e["path"]
        if name in ("", ".", "..") or name.startswith(".") or "/" in name or "\\" in name or "\0" in name:
            raise bad(f"shard path {name!r} is not a plain file name inside the dataset")
        if name in seen:
            raise bad(f"shard {name!r} is listed twice")
        if "bytes" in e and not is_count(e["bytes"]):
            raise bad(f"shard {name!r} bytes {e['bytes']!r} is not a count")
        seen.add(name)
    if sum(e["rows"] for e in m["shards"]) != m["rows"]:
        raise bad(f"its shards hold {sum(e['rows'] for e in m['shards'])} rows, but it says {m['rows']}")
    if not isinstance(m.get("lineage", []), list):
        raise bad("lineage is not a list")
    return m


def shard_path(p: Path, mpath: Path, name: str, size: int | None) -> Path:
    """A listed shard: a regular file in the dataset directory (a link may point only inside it)
    of the size the manifest lists (older manifests list none)."""
    s = p / name
    if not os.path.lexists(s):
        raise InputError(f"{s}: shard listed in {mpath.name} is missing; regenerate the dataset")
    if s.is_symlink() and not Path(os.path.realpath(s)).is_relative_to(os.path.realpath(p)):
        raise InputError(f"{s}: a link to a file outside the dataset; seqprep reads only files inside it")
    regular_file(s, str(s))
    if size is not None and s.stat().st_size != size:
        raise InputError(f"{s}: {s.stat().st_size:,} bytes, but {mpath.name} says {size:,}; the shard changed "
                         "after it was written: regenerate the dataset")
    return s


def _open_remote(uri: Uri, given: str) -> Source:
    """A dataset (a prefix with its manifest) or one Parquet/Arrow object in object storage. A
    prefix without a manifest is never read: its shards may be a write that did not finish."""
    what = storage.kind(uri)
    if what == "none":
        raise InputError(f"{uri}: no such object or prefix")
    if what == "file":
        kind = file_kind(Path(uri.name))
        if kind is None:
            raise InputError(f"{uri}: not a dataset (expected a prefix holding {MANIFEST}, or a .parquet or "
                             ".arrow object)")
        return Source(path=given, schema=read_schema(uri, kind), shards=[uri], _file_kind=kind)
    listed = storage.listing(uri)  # one listing, not a request per shard
    mname = next((name for name in MANIFESTS if name in listed), None)
    if mname is None:
        from .objectstore import interrupted_note

        note = interrupted_note(uri)
        if note:
            raise InputError(note)
        if "meta.json" in listed:
            raise InputError(f"{uri}: an NPY export; seqprep reads NPY exports from local disk (copy it here)")
        raise InputError(f"{uri}: not a seqprep dataset, or an incomplete one (no {MANIFEST}): a write that "
                         "did not finish leaves its shards without one; make it with a seqprep command")
    mpath = uri / mname
    raw = storage.read_bytes(mpath, MANIFEST_LIMIT)
    manifest = check_manifest(mpath, raw)
    shards = []
    for entry in manifest["shards"]:
        name, size = entry["path"], entry.get("bytes")
        if name not in listed:
            raise InputError(f"{uri / name}: shard listed in {mname} is missing; regenerate the dataset")
        if size is not None and listed[name] != size:
            raise InputError(f"{uri / name}: {listed[name]:,} bytes, but {mname} says {size:,}; the shard changed "
                             "after it was written: regenerate the dataset")
        shards.append(uri / name)
    return Source(path=given, schema=read_schema(shards[0], "parquet") if shards else pa.schema([]), shards=shards,
                  manifest=manifest, input_sha256=hashlib.sha256(raw).hexdigest(),
                  lineage=list(manifest.get("lineage", [])))


def _open_file(p: Path) -> Source:
    kind = file_kind(p)
    if kind is None:
        raise InputError(
            f"{p}: not a dataset (expected a directory, a .parquet or .arrow file, or '-'); "
            "turn other formats into one with `seqprep ingest`"
        )
    schema = read_schema(p, kind)
    return Source(path=str(p), schema=schema, shards=[p], _file_kind=kind)


def verify(path: str) -> dict:
    """Check a dataset against its manifest: every shard's row count and sha256.

    Raises InputError naming the first shard that differs; returns {"shards", "rows"}.
    """
    source = open_source(path, need_seq=False)
    if source._npy is not None:
        from .exports import verify_export

        return verify_export(Path(source.path), source._npy)
    if source.manifest is None:
        raise InputError(f"{path}: verify needs a dataset directory with {MANIFEST}, or an NPY export")
    rows = 0
    for entry, shard in zip(source.manifest["shards"], source.shards):
        shard_file(shard, str(shard))
        try:
            n = pq.ParquetFile(_opened(shard)).metadata.num_rows
        except (pa.ArrowException, OSError) as e:
            raise InputError(f"{shard}: cannot be read ({_first_line(e)}); regenerate the dataset") from None
        if n != entry["rows"]:
            raise InputError(f"{shard}: {n} rows, but {MANIFEST} says {entry['rows']}; regenerate the dataset")
        digest = storage.sha256(shard) if isinstance(shard, Uri) else sha256_file(shard)
        if digest != entry["sha256"]:
            raise InputError(f"{shard}: sha256 differs from {MANIFEST} (the shard changed after it was written); "
                             "regenerate the dataset")
        rows += n
    if rows != source.manifest["rows"]:
        raise InputError(f"{path}: shards hold {rows} rows, but {MANIFEST} says {source.manifest['rows']}")
    return {"shards": len(source.shards), "rows": rows, "against": MANIFEST}
