"""summarize, sample and split as library functions and commands."""

import json

import numpy as np
import pyarrow as pa
import pytest

from seqprep.errors import InputError, UsageError
from seqprep.fit import fit
from seqprep.ingest import IngestOptions, ingest
from seqprep.steps import Padding, sample, split, summarize

from .conftest import listing, make_dataset, manifest, read_table


@pytest.fixture
def docs(tmp_path):
    rows = [["the", "cat", "the", "mat", "zebra"], ["the", "dog"], []]
    src = make_dataset(tmp_path / "docs", rows, labels=["a", "b", "a"])
    fit(str(src), str(tmp_path / "stats.json"))
    return src, tmp_path / "stats.json"


def test_summarize_drop_top_min_count_and_stopwords(docs, tmp_path):
    src, stats = docs
    summarize(str(src), str(tmp_path / "a"), stats=str(stats), drop_top=1)
    assert read_table(tmp_path / "a").column("seq").to_pylist() == [["cat", "mat", "zebra"], ["dog"], []]
    summarize(str(src), str(tmp_path / "b"), stats=str(stats), min_count=2)
    assert read_table(tmp_path / "b").column("seq").to_pylist() == [["the", "the"], ["the"], []]
    (tmp_path / "stop.txt").write_text("# a comment\ncat\n\ndog\n")
    m = summarize(str(src), str(tmp_path / "c"), stopwords=str(tmp_path / "stop.txt"))
    assert read_table(tmp_path / "c").column("seq").to_pylist() == [["the", "the", "mat", "zebra"], ["the"], []]
    assert m["lineage"][-1]["command"] == "summarize" and m["lineage"][-1]["params"]["stopwords"].endswith("stop.txt")


def test_summarize_test_split_uses_training_stats(docs, tmp_path):
    _, stats = docs
    test = make_dataset(tmp_path / "test", [["the", "unseen", "cat"]])
    before = stats.read_bytes()
    summarize(str(test), str(tmp_path / "t"), stats=str(stats), min_count=1)
    assert read_table(tmp_path / "t").column("seq").to_pylist() == [["the", "cat"]]  # unseen in training: dropped
    assert stats.read_bytes() == before


def test_summarize_paa_on_readings(tmp_path):
    src = make_dataset(tmp_path / "r", [[[float(i), -float(i)] for i in range(6)], []], seq_type=pa.list_(pa.float32(), 2))
    summarize(str(src), str(tmp_path / "p"), paa=3)
    assert read_table(tmp_path / "p").column("seq").to_pylist() == [[[0.5, -0.5], [2.5, -2.5], [4.5, -4.5]], []]
    summarize(str(src), str(tmp_path / "f"), factor=4, agg="max")
    assert read_table(tmp_path / "f").column("seq").to_pylist()[0] == [[3.0, 0.0], [5.0, -4.0]]


@pytest.mark.parametrize("kwargs, error, message", [
    ({}, UsageError, "give token options"),
    ({"drop_top": 3}, UsageError, "drop_top and min_count need stats FILE"),
    ({"paa": 4}, UsageError, "paa and factor work on numeric readings, but seq holds string tokens"),
    ({"stats": "nope.json", "drop_top": 0}, UsageError, "drop_top=0 must be positive"),
    ({"stats": "nope.json", "drop_top": 2}, InputError, "nope.json: no such stats file"),
    ({"stopwords": "missing.txt"}, InputError, "missing.txt: no such stopwords file"),
])
def test_summarize_errors(docs, tmp_path, kwargs, error, message):
    src, _ = docs
    with pytest.raises(error, match=message):
        summarize(str(src), str(tmp_path / "out"), **kwargs)
    assert not (tmp_path / "out").exists()


def test_stats_of_the_wrong_kind(tmp_path):
    nums = make_dataset(tmp_path / "n", [[1.0, 2.0]], seq_type=pa.float32())
    fit(str(nums), str(tmp_path / "n.json"))
    toks = make_dataset(tmp_path / "t", [["a"]])
    with pytest.raises(InputError, match="fitted on numeric data, not tokens"):
        summarize(str(toks), str(tmp_path / "out"), stats=str(tmp_path / "n.json"), drop_top=1)
    ids = make_dataset(tmp_path / "i", [[1, 2]], seq_type=pa.int32())
    fit(str(ids), str(tmp_path / "i.json"))
    with pytest.raises(InputError, match="fitted on int32 tokens, but seq holds string"):
        summarize(str(toks), str(tmp_path / "out"), stats=str(tmp_path / "i.json"), drop_top=1)


@pytest.fixture
def longs(tmp_path):
    rows = [list(range(i * 100, i * 100 + n)) for i, n in enumerate([30, 5, 0, 12])]
    return make_dataset(tmp_path / "longs", rows, labels=[0, 1, 0, 1], seq_type=pa.int32())


def test_sample_steps_padded(longs, tmp_path):
    m = sample(str(longs), str(tmp_path / "s"), length=8, seed=3)
    t = read_table(tmp_path / "s")
    rows = t.column("seq").to_pylist()
    assert t.column("length").to_pylist() == [8, 5, 0, 8]
    assert rows[1] == [0, 0, 0, 100, 101, 102, 103, 104]
    assert rows[0] == sorted(rows[0]) and len(set(rows[0])) == 8 and all(0 <= v < 30 for v in rows[0])
    assert m["lineage"][-1]["seed"] == 3


def test_sample_crops_with_parts(longs, tmp_path):
    sample(str(longs), str(tmp_path / "c"), length=10, seed=1, mode="crop", copies=3, padding=Padding(pad=False))
    t = read_table(tmp_path / "c")
    assert t.column_names == ["id", "seq", "label", "part"]
    assert t.column("id").to_pylist() == [0, 0, 0, 1, 2, 3, 3, 3]
    assert t.column("part").to_pylist() == [0, 1, 2, 0, 0, 0, 1, 2]
    assert t.column("label").to_pylist() == [0, 0, 0, 1, 0, 1, 1, 1]
    for w in t.column("seq").to_pylist()[:3]:
        assert len(w) == 10 and w == list(range(w[0], w[0] + 10))


def test_sample_is_the_same_whatever_the_shard_size(tmp_path):
    rng = np.random.default_rng(5)
    lines = "".join(json.dumps({"text": " ".join(map(str, rng.integers(0, 99, rng.integers(0, 40))))}) + "\n"
                    for _ in range(23))
    (tmp_path / "d.jsonl").write_text(lines)
    outs = []
    for shard_rows in (1, 7, 1000):
        ingest(str(tmp_path / "d.jsonl"), str(tmp_path / f"in{shard_rows}"), options=IngestOptions(shard_rows=shard_rows))
        for mode in ("steps", "crop"):
            out = tmp_path / f"out{shard_rows}{mode}"
            sample(str(tmp_path / f"in{shard_rows}"), str(out), length=6, seed=9, mode=mode,
                   copies=1 if mode == "steps" else 2)
            outs.append((mode, read_table(out).select(["id", "seq", "length"]).to_pylist()))
    for mode in ("steps", "crop"):
        results = [rows for m, rows in outs if m == mode]
        assert results[0] == results[1] == results[2]


def test_sample_errors(longs, tmp_path):
    with pytest.raises(UsageError, match="copies and no_overlap apply to mode crop"):
        sample(str(longs), str(tmp_path / "x"), length=3, seed=1, copies=2)
    with pytest.raises(UsageError, match="mode='all' must be one of steps, crop"):
        sample(str(longs), str(tmp_path / "x"), length=3, seed=1, mode="all")
    with pytest.raises(UsageError, match="length=0 must be positive"):
        sample(str(longs), str(tmp_path / "x"), length=0, seed=1)
    assert not (tmp_path / "x").exists()


def test_split_windows(longs, tmp_path):
    split(str(longs), str(tmp_path / "w"), length=10, last="pad", padding=Padding(side="end", value="-1"))
    t = read_table(tmp_path / "w")
    assert t.column("id").to_pylist() == [0, 0, 0, 1, 2, 3, 3]
    assert t.column("part").to_pylist() == [0, 1, 2, 0, 0, 0, 1]
    assert t.column("seq").to_pylist()[3] == [100, 101, 102, 103, 104] + [-1] * 5
    assert t.column("length").to_pylist() == [10, 10, 10, 5, 0, 10, 2]
    split(str(longs), str(tmp_path / "d"), length=10, last="drop")
    assert read_table(tmp_path / "d").column("id").to_pylist() == [0, 0, 0, 3]
    split(str(longs), str(tmp_path / "k"), length=10, stride=5, last="keep", padding=Padding(pad=False))
    assert [len(w) for w in read_table(tmp_path / "k").column("seq").to_pylist()] == [10] * 5 + [5, 0, 10, 7]


def test_split_as_features_and_npy(longs, tmp_path):
    m = split(str(longs), str(tmp_path / "f"), length=10, features=True, format="npy")
    X = np.load(tmp_path / "f" / "X.npy", mmap_mode="r")
    assert X.shape == (4, 10, 3)  # parts = ceil(30 / 10) from the manifest's longest sequence
    assert X[0, :, 1].tolist() == list(range(10, 20)) and X[3, :, 1].tolist() == [310, 311] + [0] * 8
    assert m["lineage"][-1]["params"]["parts"] == 3
    split(str(longs), str(tmp_path / "g"), length=10, features=True, parts=2)
    assert read_table(tmp_path / "g").schema.field("seq").type == pa.list_(pa.list_(pa.int32(), 2), 10)


def test_split_errors(longs, tmp_path):
    with pytest.raises(UsageError, match="last pad pads the final window; with no_pad use last keep"):
        split(str(longs), str(tmp_path / "x"), length=3, padding=Padding(pad=False))
    with pytest.raises(UsageError, match="stride=0 must be positive"):
        split(str(longs), str(tmp_path / "x"), length=3, stride=0)
    with pytest.raises(UsageError, match="parts applies with as_features"):
        split(str(longs), str(tmp_path / "x"), length=3, parts=2)
    assert listing(tmp_path / "longs") == ["_seqprep.json", "part-00000.parquet"]
    assert not (tmp_path / "x").exists()


def test_commands_through_the_cli(cli, longs, tmp_path):
    result = cli("fit", longs, tmp_path / "s.json")
    assert result.exit_code == 0 and result.stderr.startswith("fit: 4 rows, ")
    result = cli("split", longs, tmp_path / "w", "--length", "10", "--stride", "0")
    assert result.exit_code == 2 and result.stderr.strip() == "Error: --stride 0 must be positive"
    result = cli("sample", longs, "-", "--length", "4", "--seed", "2", "--mode", "crop", "--copies", "2")
    assert result.exit_code == 0
    result = cli("split", "-", tmp_path / "w", "--length", "2", input=result.stdout_bytes)
    assert result.exit_code == 0, result.stderr
    lineage = manifest(tmp_path / "w")["lineage"]
    assert [s["command"] for s in lineage] == ["test", "sample", "split"]
    result = cli("summarize", longs, tmp_path / "x", "--paa", "2")
    assert result.exit_code == 2 and "work on numeric readings, but seq holds int32 tokens" in result.stderr


@pytest.mark.parametrize("rows", [
    [[1, 2, 3, 2, 2], [5, 1]],  # small ids: the lookup table
    [[-1, 2, 3, 2, 2], [5, -1]],  # negative ids: Arrow's hash lookup
    [[2**40, 2, 3, 2, 2], [5, 2**40]],  # ids past the table's limit: the hash lookup too
])
def test_id_filters_agree_on_every_path(tmp_path, rows):
    src = make_dataset(tmp_path / "d", rows, seq_type=pa.int64())
    fit(str(src), str(tmp_path / "s.json"))
    summarize(str(src), str(tmp_path / "top"), stats=str(tmp_path / "s.json"), drop_top=1)  # drops 2
    summarize(str(src), str(tmp_path / "min"), stats=str(tmp_path / "s.json"), min_count=2)
    (tmp_path / "stop.txt").write_text(f"{rows[1][0]}\n")
    summarize(str(src), str(tmp_path / "stop"), stopwords=str(tmp_path / "stop.txt"))
    top = [[v for v in r if v != 2] for r in rows]
    counts = {v: sum(r.count(v) for r in rows) for r in rows for v in r}
    assert read_table(tmp_path / "top").column("seq").to_pylist() == top
    assert read_table(tmp_path / "min").column("seq").to_pylist() == [[v for v in r if counts[v] >= 2] for r in rows]
    assert read_table(tmp_path / "stop").column("seq").to_pylist() == [[v for v in r if v != rows[1][0]] for r in rows]


@pytest.mark.parametrize("args, code, message", [
    (["summarize", "--paa", "0"], 2, "Error: --paa 0 must be positive"),
    (["summarize", "--factor", "-2"], 2, "Error: --factor -2 must be positive"),
    (["summarize", "--drop-top", "5"], 2, "Error: --drop-top and --min-count need --stats FILE"),
    (["summarize", "--stopwords", "nope.txt"], 1, "Error: nope.txt: no such stopwords file"),
    (["sample", "--length", "0", "--seed", "1"], 2, "Error: --length 0 must be positive"),
    (["sample", "--length", "5", "--seed", "1", "--copies", "0", "--mode", "crop"], 2, "Error: --copies 0 must be positive"),
    (["sample", "--length", "5", "--seed", "1", "--copies", "2"], 2, "Error: --copies and --no-overlap apply to --mode crop"),
    (["split", "--length", "5", "--stride", "0"], 2, "Error: --stride 0 must be positive"),
    (["split", "--length", "5", "--parts", "2"], 2, "Error: --parts applies with --as-features"),
    (["split", "--length", "5", "--no-pad"], 2, "Error: --last pad pads the final window; with --no-pad use --last keep or --last drop"),
    (["split", "--length", "5", "--as-features", "--stride", "2"], 2, "Error: --stride does not apply with --as-features"),
    (["fit", "--max-size", "0"], 2, "Error: --max-size 0 must be positive"),
    (["encode", "--hash", "0"], 2, "Error: --hash 0 must be positive"),
    (["encode", "--kmer", "2", "--hash", "5"], 2, "Error: --kmer needs one-character string tokens (bases), not numbers"),
])
def test_bad_values_through_the_cli(cli, longs, tmp_path, args, code, message):
    out = tmp_path / ("o.json" if args[0] == "fit" else "out")
    result = cli(args[0], longs, out, *args[1:])
    assert result.exit_code == code, result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.strip().startswith(message), result.stderr
    assert not out.exists()


def test_kmers_with_hashing(tmp_path):
    from seqprep.kernels.encode import stable_hash
    from seqprep.steps import encode

    src = make_dataset(tmp_path / "dna", [list("ACGT")])
    encode(str(src), str(tmp_path / "h"), hash=50, kmer=3)
    assert read_table(tmp_path / "h").column("seq").to_pylist() == [[stable_hash("ACG", 50), stable_hash("CGT", 50)]]


def test_empty_dataset_through_every_command(tmp_path):
    empty = make_dataset(tmp_path / "e", [], seq_type=pa.int32())
    stacked = split(str(empty), str(tmp_path / "f"), length=3, features=True)
    assert stacked["rows"] == 0 and stacked["lineage"][-1]["params"]["parts"] == 1
    assert sample(str(empty), str(tmp_path / "s"), length=3, seed=1, mode="crop", copies=2)["rows"] == 0
    assert split(str(empty), str(tmp_path / "w"), length=3)["rows"] == 0
    floats = make_dataset(tmp_path / "ef", [], seq_type=pa.float32())
    assert summarize(str(floats), str(tmp_path / "p"), paa=2)["rows"] == 0
