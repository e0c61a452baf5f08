"""Shared fixtures: small datasets on disk, a CLI runner, and readers for what commands wrote."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from seqprep.cli import app
from seqprep.output import DatasetSink


class Cli:
    def __init__(self):
        self.runner = CliRunner(env={"COLUMNS": "100", "TERM": "dumb"})

    def __call__(self, *args, input: bytes | None = None):
        return self.runner.invoke(app, [str(a) for a in args], input=input, prog_name="seqprep")


@pytest.fixture
def cli() -> Cli:
    return Cli()


def make_dataset(path: Path, seqs: list, *, labels: list | None = None, seq_type: pa.DataType | None = None,
                 shard_rows: int | None = None, extra: dict | None = None) -> Path:
    """Write a dataset through seqprep's own sink: ids 0..N-1, ``seq`` from Python lists."""
    columns = {"id": pa.array(np.arange(len(seqs), dtype=np.int64)),
               "seq": pa.array(seqs, type=pa.list_(seq_type) if seq_type is not None else None)}
    if labels is not None:
        columns["label"] = pa.array(labels)
    columns.update(extra or {})
    batch = pa.RecordBatch.from_pydict(columns)
    with DatasetSink(str(path), lineage=[{"command": "test"}], shard_rows=shard_rows) as sink:
        sink.write(batch)
        sink.finish()
    return path


def read_table(path: Path) -> pa.Table:
    """All rows of a dataset directory, in shard order."""
    manifest = json.loads((Path(path) / "_seqprep.json").read_text())
    tables = [pq.read_table(Path(path) / s["path"]) for s in manifest["shards"]]
    return pa.concat_tables(tables) if tables else None


def manifest(path: Path) -> dict:
    return json.loads((Path(path) / "_seqprep.json").read_text())


def listing(path: Path) -> list[str]:
    """Every entry under ``path`` (hidden ones too), to prove nothing was left behind."""
    return sorted(p.relative_to(path).as_posix() for p in Path(path).rglob("*"))
