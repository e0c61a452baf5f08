"""How a Parquet shard is written: the writer settings every shard shares, and one output
shard written batch by batch (a worker's part, or a shard of DatasetSink)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from . import storage
from .dataset import sha256_file
from .storage import Uri

COMPRESSION = "zstd"  # smaller than snappy here, and faster to read back


def parquet_writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    """Every shard's writer. Token, id and label columns are dictionary-encoded; readings,
    nearly all distinct, are not (trying costs time and saves nothing). Plain encodings and
    zstd only, which every Parquet reader of note reads (BYTE_STREAM_SPLIT would pack float
    readings a fifth smaller, but several readers cannot read it yet)."""
    coded = [p for f in schema for p, t in _leaves(f.name, f.type) if not pa.types.is_floating(t)]
    return pq.ParquetWriter(path, schema, compression=COMPRESSION, use_dictionary=coded, write_statistics=["id"])


def _leaves(path: str, t: pa.DataType):
    """(Parquet column path, type) of each leaf column under an Arrow field."""
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        yield from _leaves(path + ".list.element", t.value_type)
    elif pa.types.is_struct(t):
        for f in t:
            yield from _leaves(f"{path}.{f.name}", f.type)
    else:
        yield path, t


class ParquetPart:
    """One output shard: batches written as row groups (an empty batch only when it is the first)."""

    def __init__(self, path: Path | Uri, schema: pa.Schema):
        self.path = path
        self.rows = 0
        # In object storage the bytes are counted and hashed on their way out, not read back.
        self._out = storage.open_output(path) if isinstance(path, Uri) else None
        self._writer = parquet_writer(path if self._out is None else self._out, schema)

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows or self.rows == 0:
            try:
                self._writer.write_batch(batch)
            except OSError as e:
                if self._out is None:
                    raise
                raise storage.fails(self.path, e, "written") from None  # the store failed mid-upload
            self.rows += batch.num_rows

    def close(self) -> dict:
        if self._out is not None:
            try:  # closing the stream completes the upload: the store's errors come here
                self._writer.close()
                self._out.close()
            except OSError as e:
                raise storage.fails(self.path, e, "written") from None
            return {"path": self.path.name, "rows": self.rows, "bytes": self._out.bytes,
                    "sha256": self._out.hash.hexdigest()}
        self._writer.close()
        return {"path": self.path.name, "rows": self.rows, "bytes": self.path.stat().st_size,
                "sha256": sha256_file(self.path)}

    def abort(self) -> None:
        try:
            self._writer.close()
            if self._out is not None:
                self._out.close()
        except Exception:  # noqa: BLE001 - the run already failed; keep its error
            pass
