"""Training on data read batch by batch from a file (larger than memory: an NPY export's
X.npy, or a Parquet split copied to a temporary file) gives exactly what training on it held
in memory gives."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from seqprep.errors import InputError  # noqa: E402
from seqprep.train import data as train_data  # noqa: E402
from seqprep.train.data import RowReader, load  # noqa: E402
from seqprep.train.run import evaluate, train  # noqa: E402


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    from seqprep.steps import encode
    from seqprep.steps.common import Padding
    from seqprep.synth import synth

    d = tmp_path_factory.mktemp("stream")
    synth(str(d / "readings"), task="readings-end", n=60, length=30, seed=3)
    encode(str(d / "readings"), str(d / "readings-npy"), normalize_with="per-row", length=24, format="npy",
           padding=Padding(side="start"))
    synth(str(d / "tokens"), task="tokens-end", n=60, length=30, seed=4)
    encode(str(d / "tokens"), str(d / "tokens-npy"), hash=50, length=24, format="npy")
    encode(str(d / "readings"), str(d / "readings-parquet"), normalize_with="per-row", length=24,
           padding=Padding(side="start"))
    encode(str(d / "tokens"), str(d / "tokens-parquet"), hash=50, length=24)
    return d


def assert_same_runs(src: str, run_a, result_a: dict, run_b, result_b: dict) -> None:
    """Two runs trained the same: the same history (but the seconds), weights and evaluation."""
    def strip(history):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in history]

    assert strip(result_b["history"]) == strip(result_a["history"])
    a = torch.load(run_a / "model.pt", weights_only=True)["state_dict"]
    b = torch.load(run_b / "model.pt", weights_only=True)["state_dict"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert evaluate(str(run_b), src) == evaluate(str(run_a), src)


@pytest.mark.parametrize("kind, options", [("readings-npy", {}),
                                           ("tokens-npy", {"val_fraction": 0.25, "pool": "mean"}),
                                           ("readings-npy", {"tbptt": 7, "tbptt_loss": "every"}),
                                           ("readings-parquet", {"val_fraction": 0.25}),
                                           ("tokens-parquet", {"conv": 4})])
def test_streamed_training_is_the_in_memory_training(exports, tmp_path, monkeypatch, kind, options):
    src = str(exports / kind)
    held = train(src, str(tmp_path / "held"), epochs=3, hidden=8, embed=4, seed=2, **options)
    monkeypatch.setattr(train_data, "IN_MEMORY_LIMIT", 0)  # every export is now read batch by batch
    assert isinstance(load(src).x, RowReader)
    streamed = train(src, str(tmp_path / "streamed"), epochs=3, hidden=8, embed=4, seed=2, **options)
    assert_same_runs(src, tmp_path / "held", held, tmp_path / "streamed", streamed)


def test_row_reader_reads_the_rows_asked_for(exports):
    held = load(str(exports / "readings-npy"), stream=False)
    reader = load(str(exports / "readings-npy"), stream=True).x
    assert reader.shape == held.x.shape and reader.ndim == 3 and reader.size == held.x.size
    rows = np.array([5, 0, 59, 5])
    assert np.array_equal(reader.rows(rows), held.x[rows])
    sub = reader.subset(np.array([3, 1]))
    assert np.array_equal(sub.rows(np.array([1, 0])), held.x[[1, 3]]) and sub.shape[0] == 2
    tokens = load(str(exports / "tokens-npy"), stream=True).x
    assert tokens.rows(np.array([2])).dtype == np.int64 and tokens.max() == int(load(str(exports / "tokens-npy")).x.max())


def copy_export(src, dst):
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())


def test_streamed_checks_refuse_what_the_held_checks_refuse(exports, tmp_path):
    bad = tmp_path / "nan"
    copy_export(exports / "readings-npy", bad)
    x = np.load(bad / "X.npy")
    x[7, 3, 0] = np.nan
    x[9, 1, 0] = np.inf
    np.save(bad / "X.npy", x)
    meta = json.loads((bad / "meta.json").read_text())
    meta.pop("files", None)  # no sha256 to disagree with (verify is not what is tested here)
    (bad / "meta.json").write_text(json.dumps(meta))
    for stream in (False, True):
        with pytest.raises(InputError, match="1 readings are NaN"):
            load(str(bad), stream=stream)


def test_a_file_cut_short_after_the_checks_is_refused(exports, tmp_path):
    cut = tmp_path / "cut"
    copy_export(exports / "readings-npy", cut)
    reader = load(str(cut), stream=True).x
    with open(cut / "X.npy", "r+b") as f:
        f.truncate(reader.offset + 10 * reader.row_bytes)
    with pytest.raises(InputError, match="cut short at row 40"):
        reader.rows(np.array([1, 40]))


def test_parquet_rows_spill_to_a_temporary_file_past_the_limit(exports, monkeypatch):
    held = load(str(exports / "tokens-parquet"), stream=False)
    spilled = load(str(exports / "tokens-parquet"), stream=True)
    assert isinstance(spilled.x, RowReader) and spilled.x.shape == held.x.shape
    assert np.array_equal(spilled.x.rows(np.arange(60)), held.x) and spilled.x.max() == int(held.x.max())
    assert np.array_equal(spilled.y, held.y) and np.array_equal(spilled.ids, held.ids)
    assert spilled.vocab_size == held.vocab_size and spilled.pad_side == held.pad_side == "start"
    # Held while under the limit, then the batches so far and the rest go to the file.
    rows = train_data.Rows("where", stream=None)
    monkeypatch.setattr(train_data, "IN_MEMORY_LIMIT", 150)
    parts = [np.arange(12).reshape(2, 6), np.arange(12, 30).reshape(3, 6), np.arange(30, 36).reshape(1, 6)]
    rows.add(parts[0])
    assert rows.spill is None
    for part in parts[1:]:
        rows.add(part)
    reader = rows.finish()
    assert isinstance(reader, RowReader) and reader.shape == (6, 6) and reader.max() == 35
    assert np.array_equal(reader.rows(np.array([5, 0, 3])), np.arange(36).reshape(6, 6)[[5, 0, 3]])


def test_a_full_temporary_disk_is_one_line(exports, monkeypatch):
    class Full:
        def write(self, data):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(train_data.tempfile, "TemporaryFile", lambda **kw: Full())
    with pytest.raises(InputError, match="temporary file in .*No space left on device.*set TMPDIR"):
        load(str(exports / "readings-parquet"), stream=True)


def test_parquet_checks_count_over_every_batch(exports, tmp_path):
    rows = train_data.Rows("data", stream=True)
    rows.add(np.array([[np.nan, 1.0]], dtype=np.float32))
    rows.add(np.array([[np.nan, np.inf]], dtype=np.float32))
    with pytest.raises(InputError, match="data: 2 readings are NaN"):
        rows.finish()
    rows = train_data.Rows("data", stream=False)
    rows.add(np.array([[3, 0]]))
    rows.add(np.array([[-2, 5]]))
    with pytest.raises(InputError, match="token id -2 is negative"):
        rows.finish()
    with pytest.raises(InputError, match="integer data must be"):
        rows.add(np.zeros((1, 2, 2), dtype=np.int64))


def add_shard(dst, shard):
    """Add ``shard`` (a Parquet file) to dst as its second shard, the manifest updated to match
    it (as a crafted dataset would be): only the shard's own types give it away."""
    import hashlib

    data = shard.read_bytes()
    manifest = json.loads((dst / "_seqprep.json").read_text())
    (dst / "part-00001.parquet").write_bytes(data)
    rows = manifest["shards"][0]["rows"]
    manifest["shards"].append({"path": "part-00001.parquet", "rows": rows, "bytes": len(data),
                               "sha256": hashlib.sha256(data).hexdigest()})
    manifest["rows"] += rows
    (dst / "_seqprep.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("stream", [False, True])
def test_a_shard_of_other_types_than_the_schema_is_refused(exports, tmp_path, stream):
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    bad = tmp_path / "bad"
    shutil.copytree(exports / "tokens-parquet", bad)
    table = pq.read_table(exports / "tokens-parquet" / "part-00000.parquet")
    seq = table.column("seq").combine_chunks()
    floats = pa.FixedSizeListArray.from_arrays(pa.array(seq.flatten().to_numpy().astype(np.float32)), 24)
    pq.write_table(table.set_column(table.schema.get_field_index("seq"), "seq", floats), tmp_path / "f.parquet")
    add_shard(bad, tmp_path / "f.parquet")
    with pytest.raises(InputError, match=r"part-00001.parquet: column 'seq' is fixed_size_list<element: float>\[24\], but "
                                         r"the dataset's schema says fixed_size_list<element: int\w*>\[24\]"):
        load(str(bad), stream=stream)


def test_fortran_ordered_x_is_refused(exports, tmp_path):
    bad = tmp_path / "fortran"
    copy_export(exports / "readings-npy", bad)
    np.save(bad / "X.npy", np.asfortranarray(np.load(bad / "X.npy")))
    meta = json.loads((bad / "meta.json").read_text())
    meta.pop("files", None)
    (bad / "meta.json").write_text(json.dumps(meta))
    for stream in (False, True):
        with pytest.raises(InputError, match="stored in Fortran"):
            load(str(bad), stream=stream)


def test_ids_past_int64_and_a_bad_tmpdir_are_refused(monkeypatch, tmp_path):
    rows = train_data.Rows("data", stream=False)
    with pytest.raises(InputError, match="data: token id 18446744073709551615 does not fit int64"):
        rows.add(np.array([[1, 2**64 - 1]], dtype=np.uint64))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "missing"))
    rows = train_data.Rows("data", stream=True, expected=3 * 2**30)
    with pytest.raises(InputError, match=r"TMPDIR=.*missing is not a writable directory; .* room for 3.00 GiB"):
        rows.add(np.zeros((2, 3), dtype=np.int64))


def test_a_full_disk_at_the_last_flush_is_one_line(monkeypatch):
    class FullAtFlush:
        def write(self, data):
            return None

        def flush(self):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(train_data.tempfile, "TemporaryFile", lambda **kw: FullAtFlush())
    rows = train_data.Rows("data", stream=True)
    rows.add(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(InputError, match="No space left on device.*room for 0.00 GiB"):
        rows.finish()


@pytest.mark.parametrize("kind, options", [("readings", {"val_fraction": 0.25}), ("tokens-ids", {"pool": "max"}),
                                           ("tokens-ids", {"tbptt": 5, "val_fraction": 0.25})])
def test_variable_length_steps_mapped_from_a_file_train_as_held(exports, tmp_path, monkeypatch, kind, options):
    """Variable-length (unpadded) data past the limit: its steps are copied to an unlinked
    temporary file and mapped; training, validation carving and evaluation give exactly what
    the steps held in memory give."""
    from seqprep.steps import encode

    src = str(tmp_path / kind)
    if kind == "readings":
        encode(str(exports / "readings"), src, normalize_with="per-row")
    else:
        encode(str(exports / "tokens"), src, hash=50)
    held_data = load(src)
    assert held_data.offsets is not None and not isinstance(held_data.x, np.memmap)
    held = train(src, str(tmp_path / "held"), epochs=3, hidden=8, embed=4, seed=2, **options)
    monkeypatch.setattr(train_data, "IN_MEMORY_LIMIT", 0)
    mapped = load(src)
    assert isinstance(mapped.x, np.memmap) and not mapped.x.flags.writeable
    np.testing.assert_array_equal(np.asarray(mapped.x), held_data.x)
    assert mapped.vocab_size == held_data.vocab_size and mapped.classes == held_data.classes
    np.testing.assert_array_equal(mapped.offsets, held_data.offsets)
    streamed = train(src, str(tmp_path / "streamed"), epochs=3, hidden=8, embed=4, seed=2, **options)
    assert_same_runs(src, tmp_path / "held", held, tmp_path / "streamed", streamed)


def test_variable_length_checks_hold_when_mapped(exports, tmp_path, monkeypatch):
    """NaN readings and negative ids in variable-length data are refused whether held or mapped."""
    import pyarrow as pa

    from seqprep.output import DatasetSink

    monkeypatch.setattr(train_data, "IN_MEMORY_LIMIT", 0)
    for name, seq, message in (("nan", [[1.0, float("nan")], [2.0]], "NaN"),
                               ("neg", [[1, -3], [2]], "token id -3 is negative")):
        d = tmp_path / name
        with DatasetSink(str(d), lineage=[]) as sink:
            sink.write(pa.RecordBatch.from_pydict({"id": [0, 1], "seq": seq, "label": ["a", "b"]}))
            sink.finish()
        with pytest.raises(InputError, match=message):
            load(str(d))


def test_variable_length_batches_and_spill_are_sized_from_the_manifest(exports, tmp_path, monkeypatch):
    """Batches of variable-length rows hold about READ_BYTES (sized by the longest row), and
    where the manifest's step total passes the limit the steps go to the file from the first
    batch: nothing is held first."""
    from seqprep.steps import encode

    src = str(tmp_path / "r")
    encode(str(exports / "readings"), src, normalize_with="per-row")  # 60 rows, 3 channels
    seen = {}

    class Spy(train_data.Shards):
        def __init__(self, path, batch_rows=4096, *, source=None):
            seen["batch_rows"] = batch_rows
            super().__init__(path, batch_rows, source=source)

    opened = []
    original = train_data.Steps._open_spill

    def spill(self):
        opened.append(len(self.held))
        original(self)

    monkeypatch.setattr(train_data, "Shards", Spy)
    monkeypatch.setattr(train_data.Steps, "_open_spill", spill)
    lengths = json.loads((tmp_path / "r" / "_seqprep.json").read_text())["lengths"]
    monkeypatch.setattr(train_data, "READ_BYTES", lengths["max"] * 3 * 4 * 7)  # seven of the longest rows
    monkeypatch.setattr(train_data, "IN_MEMORY_LIMIT", lengths["total"] * 3 * 4 - 1)  # all of it, less one byte
    x = load(src).x
    assert seen["batch_rows"] == 7 and isinstance(x, np.memmap) and opened == [0]


def test_a_damaged_lengths_entry_is_one_line_and_mapped_ids_are_not_read_twice(exports, tmp_path, monkeypatch):
    from seqprep.steps import encode

    src = tmp_path / "t"
    encode(str(exports / "tokens"), str(src), hash=50)
    monkeypatch.setattr(train_data, "IN_MEMORY_LIMIT", 0)
    x = load(str(src)).x
    assert isinstance(x, np.memmap) and train_data.largest(x) == int(np.asarray(x).max()) == x.top
    manifest = json.loads((src / "_seqprep.json").read_text())
    manifest["lengths"] = "abc"
    (src / "_seqprep.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="manifest's lengths entry is damaged"):
        load(str(src))
