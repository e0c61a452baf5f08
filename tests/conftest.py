"""Shared fixtures: small datasets on disk, a CLI runner, and readers for what commands wrote."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

# The worker tests start pools on any machine: seqprep would otherwise run fewer workers where
# the cores are not spare (tests/test_workers.py tests that choice with this unset).
os.environ["SEQPREP_CORES"] = "8"

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


def snapshot(root: Path) -> dict:
    """Every entry under ``root``: mode, size, mtime, and the sha256 of files under 1 MiB (larger
    test files are sparse), to prove a refused command left its inputs as they were."""
    import hashlib
    import os

    out = {}
    for p in sorted(Path(root).rglob("*")):
        st = os.lstat(p)
        small = p.is_file() and not p.is_fifo() and st.st_size < 1 << 20
        out[p] = (st.st_mode, st.st_size, st.st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest() if small else None)
    return out


def assert_refused(cli, world: Path, tmp_path: Path, args: list, code: int, message: str, *, input=None) -> None:
    """The bad-input matrices' one check: exit ``code``, one line on stderr naming ``message``, no
    traceback, no OUT, no temporaries, and every input byte as it was."""
    before = snapshot(world)
    result = cli(*args, input=input)
    err = result.stderr.strip()
    assert result.exit_code == code, err
    assert len(err.splitlines()) == 1 and err.startswith("Error: ") and "Traceback" not in err, err
    assert message in err, err
    assert not (tmp_path / "out").exists()
    assert snapshot(world) == before  # inputs untouched
    assert not [p for p in tmp_path.rglob("*") if "seqprep-tmp" in p.name]
