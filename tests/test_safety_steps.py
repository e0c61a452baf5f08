"""Data safety in fit, the data commands, inspect and synth: through the CLI, every crafted
option or input either gives one line naming what is wrong (exit 1 for data, 2 for options),
no traceback, no output and untouched inputs; or the right result, checked value by value."""

import hashlib
import json
import math
import shlex

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from seqprep.fit import fit

from .conftest import assert_refused, listing, make_dataset, manifest, read_table


def strict_json(text: str):
    """JSON as the standard has it: NaN and Infinity are not numbers."""
    def refuse(name):
        raise ValueError(f"{name} in JSON")
    return json.loads(text, parse_constant=refuse)


def rehash(path):
    """After editing a shard: its sha256 and size in the manifest again (the row count is unchanged)."""
    m = json.loads((path / "_seqprep.json").read_text())
    for s in m["shards"]:
        raw = (path / s["path"]).read_bytes()
        s["sha256"] = hashlib.sha256(raw).hexdigest()
        if "bytes" in s:
            s["bytes"] = len(raw)
    (path / "_seqprep.json").write_text(json.dumps(m))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = tmp_path_factory.mktemp("safety") / "in"
    make_dataset(w / "ids", [[1, 2, 3], [4]], labels=["a", "b"], seq_type=pa.int32())
    make_dataset(w / "strs", [["x", "y"], ["z"]], labels=["a", "b"])
    make_dataset(w / "intlabels", [["x", "y"], ["z"]], labels=[1, 2])
    make_dataset(w / "dna", [list("ACGTAC"), list("GG")], labels=["a", "b"])
    make_dataset(w / "nums", [[0.5, 1.5], [2.0]], labels=["a", "b"], seq_type=pa.float32())
    make_dataset(w / "infs", [[0.5, math.inf], [2.0]], labels=["a", "b"], seq_type=pa.float32())
    make_dataset(w / "inf2ch", [[[0.0, 1.0]], [[1.0, 2.0], [3.0, -math.inf]]], labels=["a", "b"],
                 seq_type=pa.list_(pa.float32(), 2))
    # One shard's labels int64, the other's string.
    make_dataset(w / "mixed", [[1], [2]], labels=[1, 2], seq_type=pa.int32(), shard_rows=1)
    shard = w / "mixed" / "part-00001.parquet"
    t = pq.read_table(shard)
    pq.write_table(t.set_column(t.schema.get_field_index("label"), "label", pa.array(["x"])), shard)
    rehash(w / "mixed")
    fit(str(w / "nums"), str(w / "nums.json"))
    fit(str(w / "ids"), str(w / "ids.json"))
    fit(str(w / "strs"), str(w / "strs.json"))
    fit(str(w / "dna"), str(w / "kmer.json"), kmer=2)
    good = json.loads((w / "nums.json").read_text())
    damaged = {
        "nanmean": ("channel_stats", [{**good["channel_stats"][0], "mean": "NaN"}]),
        "infstd": ("channel_stats", [{**good["channel_stats"][0], "std": "Infinity"}]),
        "zerostd": ("channel_stats", [{**good["channel_stats"][0], "std": 0.0}]),
        "negstd": ("channel_stats", [{**good["channel_stats"][0], "std": -1.0}]),
        "strmean": ("channel_stats", [{**good["channel_stats"][0], "mean": "1.0"}]),
        "boolstd": ("channel_stats", [{**good["channel_stats"][0], "std": True}]),
        "twochan": ("channel_stats", good["channel_stats"] * 2),
        "version": ("version", "1"),
        "kind": ("kind", "everything"),
        "classes": ("classes", ["a", 1]),
    }
    for name, (key, value) in damaged.items():
        text = json.dumps({**good, key: value})
        # json.dumps would write NaN/Infinity unquoted only from floats: put the bare constants in.
        text = text.replace('"NaN"', "NaN").replace('"Infinity"', "Infinity")
        (w / f"{name}.json").write_text(text)
    strs = json.loads((w / "strs.json").read_text())
    (w / "badtokens.json").write_text(json.dumps({**strs, "tokens": [1, 2, 3]}))
    (w / "badcounts.json").write_text(json.dumps({**strs, "counts": [-1] * len(strs["tokens"])}))
    (w / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (w / "binary.txt").write_bytes(b"\x00\xff\xfe not text\x80\n")
    (w / "words.txt").write_text("the\nand\n")
    (w / "afile").write_text("not a stats file\n")
    (w / "adir").mkdir()
    (w / "adir" / "keep.txt").write_text("mine")
    return w


CASES = [
    # inf readings: refused, named by file, id, step and channel
    ("fit IN/infs OUT", 1, "infs/part-00000.parquet: row with id 0, step 1 holds inf, not a finite reading"),
    ("fit IN/inf2ch OUT", 1, "row with id 1, step 1, channel 1 holds -inf"),
    ("encode IN/infs OUT --normalize IN/nums.json", 1, "infs/part-00000.parquet: row with id 0, step 1 holds inf, not a finite reading; drop or fill it, or pass --inf nan"),
    ("encode IN/infs OUT --normalize IN/nums.json --inf maybe", 2, "--inf 'maybe' must be one of error, nan"),
    ("fit IN/infs OUT --inf maybe", 2, "--inf 'maybe' must be one of error, nan"),
    ("encode IN/strs OUT --hash 3 --inf nan", 2, "--inf applies to readings with --normalize"),
    # fit's target: one JSON file, replacing only a stats file
    ("fit IN/ids IN/adir --overwrite", 1, "adir: is a directory, but fit writes one JSON file"),
    ("fit IN/ids IN/afile --overwrite", 1, "afile: --overwrite replaces only a stats file, and this is a file seqprep did not write"),
    ("fit IN/ids IN/nums.json", 1, "nums.json: already exists; pass --overwrite"),
    ("fit IN/ids IN/ids --overwrite", 1, "ids: is a directory, but fit writes one JSON file"),
    ("fit IN/ids IN/newdir/", 1, "newdir/: names a directory, but fit writes one JSON file"),
    # directories and damaged files given as --stats, --normalize, --stopwords
    ("summarize IN/strs OUT --stats IN/adir --drop-top 1", 1, "adir: is a directory; --stats takes the JSON file"),
    ("encode IN/nums OUT --normalize IN/adir", 1, "adir: is a directory; --normalize takes the JSON file"),
    ("summarize IN/strs OUT --stopwords IN/adir", 1, "adir: is a directory; --stopwords takes a text file"),
    ("summarize IN/strs OUT --stopwords IN/binary.txt", 1, "binary.txt: not valid UTF-8 (byte 1)"),
    ("summarize IN/ids OUT --stopwords IN/words.txt", 1, "words.txt: 'the' is not an integer"),
    ("encode IN/nums OUT --normalize IN/nanmean.json", 1, "nanmean.json: not a JSON stats file (NaN is not a JSON"),
    ("encode IN/nums OUT --normalize IN/infstd.json", 1, "infstd.json: not a JSON stats file (Infinity is not"),
    ("encode IN/nums OUT --normalize IN/zerostd.json", 1, "channel 0: std is 0 but its readings are not all equal"),
    ("encode IN/nums OUT --normalize IN/negstd.json", 1, "channel 0: std -1.0 is not a finite number of at least 0"),
    ("encode IN/nums OUT --normalize IN/strmean.json", 1, "channel 0: mean '1.0' is not a finite number"),
    ("encode IN/nums OUT --normalize IN/boolstd.json", 1, "channel 0: std True is not a finite number"),
    ("encode IN/nums OUT --normalize IN/twochan.json", 1, "channel_stats does not hold one entry per channel"),
    ("encode IN/nums OUT --normalize IN/version.json", 1, "version '1' is not 1"),
    ("encode IN/nums OUT --normalize IN/kind.json", 1, "kind 'everything' is not 'tokens' or 'numbers'"),
    ("encode IN/nums OUT --normalize IN/classes.json", 1, "classes mix strings and integers"),
    ("encode IN/nums OUT --normalize IN/deep.json", 1, "deep.json: not a JSON stats file (nested too deeply)"),
    ("encode IN/strs OUT --stats IN/badtokens.json", 1, "token 0 ('1') is not a string"),
    ("encode IN/strs OUT --stats IN/badcounts.json", 1, "count 0 ('-1') is not a non-negative integer"),
    # stats fitted on another kind of data or with other options
    ("summarize IN/dna OUT --stats IN/kmer.json --drop-top 1", 1, "counted k-mers (fit --kmer 2), but summarize"),
    ("encode IN/dna OUT --stats IN/kmer.json", 1, "counted k-mers of 2, but --kmer is not given"),
    ("encode IN/ids OUT --stats IN/strs.json", 1, "fitted on string tokens, but the tokens to encode are int32"),
    ("encode IN/intlabels OUT --stats IN/strs.json", 1, "the labels are int64, but the stats file's classes are string"),
    ("summarize IN/strs OUT --stats IN/nums.json --drop-top 1", 1, "fitted on numeric data, not tokens"),
    # mixed label types across shards
    ("fit IN/mixed OUT", 1, "labels are int64 in"),
    ("inspect IN/mixed", 1, "mixed/part-00001.parquet; a dataset's labels must all be one type"),
    # options out of range, refused before anything is allocated
    ("synth OUT --task tokens-end --seed -1", 2, "--seed -1 must be a non-negative integer"),
    ("synth OUT --task tokens-end --n 5 --length 100000000000", 2, "--length 100,000,000,000 must be at most"),
    ("synth OUT --task tokens-end --n 1000000000000", 2, "--n 1,000,000,000,000 must be at most"),
    ("fit IN/ids OUT --scheduler 'not a url'", 2, "--scheduler 'not a url' is not a Dask scheduler address"),
    ("truncate IN/ids OUT --length 3 --scheduler tcp://host:99999", 2, "is not a Dask scheduler address"),
    ("encode IN/strs OUT --hash 3 --scheduler 'a b'", 2, "--scheduler 'a b' is not a Dask scheduler address"),
    ("inspect IN/ids --plot /nonexistent/x.png", 1, "/nonexistent/x.png: the folder /nonexistent does not exist"),
    ("inspect IN/ids --plot IN/adir", 1, "adir: is a directory; --plot takes the path of a PNG file"),
    ("inspect IN/ids --plot IN/x.weird", 2, "cannot tell an image format from '.weird'"),
    ("inspect IN/ids --bins 100000000000", 2, "--bins 100,000,000,000 must be at most 10,000"),
    ("truncate IN/ids OUT --length 3 --pad-value 99999999999999", 2,
     "--pad-value 99999999999999 does not fit the int32 steps (from -2,147,483,648 to 2,147,483,647)"),
    ("truncate IN/ids OUT --length 3 --pad-value -2147483649", 2, "does not fit the int32 steps"),
    ("truncate IN/nums OUT --length 3 --pad-value 1e400", 2, "--pad-value 1e400 is out of range for float values"),
    ("truncate IN/nums OUT --length 3 --pad-value 1e39", 2, "--pad-value 1e39 is out of range for float values"),
    ("truncate IN/ids OUT --length 100000000000", 2, "--length 100,000,000,000 must be at most 2,147,483,647"),
    ("truncate IN/ids OUT --length 2000000000", 2, "values per input row, more than the limit of 134,217,728"),
    ("truncate IN/ids OUT --length 3 --keep both --head 5", 2, "--head 5 must be at least 0 and below --length 3"),
    ("sample IN/ids OUT --length 100000000000 --seed 1", 2, "--length 100,000,000,000 must be at most"),
    ("sample IN/ids OUT --length 2 --seed 1 --mode crop --copies 0", 2, "--copies 0 must be positive"),
    ("sample IN/ids OUT --length 100000 --seed 1 --mode crop --copies 100000", 2, "--copies 100000 asks for"),
    ("sample IN/ids OUT --length 2 --seed 99999999999999999999999", 2, "must fit in 64 bits"),
    ("split IN/ids OUT --length 2 --as-features --parts 1000000000", 2, "--parts 1000000000 asks for 2,000,000,000"),
    ("split IN/ids OUT --length 100000000000", 2, "--length 100,000,000,000 must be at most"),
    ("split IN/ids OUT --length 2 --stride 0", 2, "--stride 0 must be positive"),
    ("summarize IN/nums OUT --paa 1000000000", 2, "--paa 1,000,000,000 must be at most 16,777,216"),
    ("summarize IN/nums OUT --factor 0", 2, "--factor 0 must be positive"),
    ("summarize IN/ids OUT --drop-top -1 --stats IN/ids.json", 2, "--drop-top -1 must be positive"),
    ("encode IN/dna OUT --kmer 0 --hash 5", 2, "--kmer 0 must be positive"),
    ("encode IN/dna OUT --kmer 100 --hash 5", 2, "--kmer 100 must be at most 64"),
    ("fit IN/dna OUT --kmer 100", 2, "--kmer 100 must be at most 64"),
    ("encode IN/dna OUT --onehot ''", 2, "--onehot is given an empty value"),
    ("encode IN/dna OUT --onehot AAC", 2, "--onehot 'AAC' must list distinct symbols"),
    ("encode IN/dna OUT --hash 0", 2, "--hash 0 must be positive"),
    ("encode IN/dna OUT --hash 99999999999", 2, "--hash 99999999999 must be at most 2,147,483,646"),
    ("encode IN/dna OUT --hash 5 --length 100000000000", 2, "--length 100,000,000,000 must be at most"),
    ("encode IN/nums OUT --normalize IN/nums.json --length 2000000000", 2, "more than the limit of 134,217,728"),
    ("encode IN/dna OUT --kmer 2 --kmer-stride 99999999999999999999999 --hash 2", 2, "--kmer-stride 99,999,999,999,"),
    ("summarize IN/nums OUT --factor 99999999999999999999999", 2, "--factor 99,999,999,999,999,999,999,999 must be"),
    ("split IN/ids OUT --length 2 --stride 99999999999999999999999", 2, "--stride 99,999,999,999,999,999,999,999 must"),
    ("split IN/ids OUT --length 1 --stride 1 --as-features", 2, "--stride does not apply with --as-features"),
]


def test_the_matrix_is_big_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("line, code, message", CASES, ids=[f"{i:02d}-{c[0].split()[0]}" for i, c in enumerate(CASES)])
def test_refused(cli, world, tmp_path, line, code, message):
    args = [str(tmp_path / "out") if a == "OUT" else a.replace("IN/", f"{world}/") for a in shlex.split(line)]
    assert_refused(cli, world, tmp_path, args, code, message)
    assert not [p for p in world.parent.rglob("*") if "seqprep-tmp" in p.name]


# --------------------------------------------------------------------------------------------- inf


def test_fit_inf_as_nan_skips_and_counts_them(cli, tmp_path):
    src = make_dataset(tmp_path / "d", [[1.0, math.inf, 3.0], [-math.inf, math.nan, 5.0]], labels=["a", "b"],
                       seq_type=pa.float32())
    result = cli("fit", src, tmp_path / "s.json", "--inf", "nan")
    assert result.exit_code == 0, result.stderr
    assert "skipped 2 inf values (--inf nan)" in result.stderr
    stats = strict_json((tmp_path / "s.json").read_text())
    assert stats["channel_stats"] == [{"count": 3, "mean": 3.0, "std": pytest.approx(np.std([1, 3, 5])),
                                       "min": 1.0, "max": 5.0}]
    assert stats["inf_ignored"] == 2 and stats["params"]["inf"] == "nan"


def test_fit_inf_as_nan_per_channel(tmp_path):
    rows = [[[1.0, math.inf], [3.0, 2.0]], [[math.inf, 4.0]]]
    src = make_dataset(tmp_path / "d", rows, seq_type=pa.list_(pa.float32(), 2))
    stats = fit(str(src), str(tmp_path / "s.json"), inf="nan")
    a, b = stats["channel_stats"]
    assert (a["count"], a["mean"], a["min"], a["max"]) == (2, 2.0, 1.0, 3.0)
    assert (b["count"], b["mean"], b["min"], b["max"]) == (2, 3.0, 2.0, 4.0)
    assert stats["inf_ignored"] == 2
    strict_json((tmp_path / "s.json").read_text())


def test_fit_refuses_readings_whose_sum_overflows_and_writes_nothing(cli, tmp_path):
    src = make_dataset(tmp_path / "d", [[1.5e308, 1.5e308]], seq_type=pa.float64())
    result = cli("fit", src, tmp_path / "s.json")
    assert result.exit_code == 1 and "too large for float64 arithmetic" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "s.json").exists() and listing(tmp_path).count("s.json") == 0
    assert not [p for p in tmp_path.iterdir() if "seqprep-tmp" in p.name]


def test_encode_inf_as_nan_exact_values_and_counts(cli, tmp_path):
    train = make_dataset(tmp_path / "train", [[1.0, 3.0]], labels=["a"], seq_type=pa.float32())
    fit(str(train), str(tmp_path / "s.json"))  # mean 2, std 1
    src = make_dataset(tmp_path / "d", [[math.inf, 3.0, math.nan], [-math.inf, 0.0]], labels=["a", "a"],
                       seq_type=pa.float32())
    result = cli("encode", src, tmp_path / "e", "--normalize", tmp_path / "s.json", "--inf", "nan",
                 "--nan-value", "-9")
    assert result.exit_code == 0, result.stderr
    assert "replaced 1 NaN values with -9.0" in result.stderr
    assert "replaced 2 inf values with -9.0 (--inf nan)" in result.stderr
    assert read_table(tmp_path / "e").column("seq").to_pylist() == [[-9.0, 1.0, -9.0], [-9.0, -2.0]]
    enc = manifest(tmp_path / "e")["encoding"]
    assert enc["nan_replaced"] == 1 and enc["inf_replaced"] == 2 and enc["inf"] == "nan"


def test_encode_inf_counts_add_up_across_workers(tmp_path):
    from seqprep.steps import encode

    train = make_dataset(tmp_path / "train", [[1.0, 3.0]], seq_type=pa.float32())
    fit(str(train), str(tmp_path / "s.json"))
    rows = [[math.inf] * (i % 3) + [1.0] for i in range(30)]
    src = make_dataset(tmp_path / "d", rows, seq_type=pa.float32(), shard_rows=7)
    m = encode(str(src), str(tmp_path / "e"), normalize_with=str(tmp_path / "s.json"), inf="nan", workers=2)
    assert m["encoding"]["inf_replaced"] == sum(i % 3 for i in range(30))


def test_encode_refuses_inf_in_a_later_shard_and_commits_nothing(cli, tmp_path):
    train = make_dataset(tmp_path / "train", [[1.0, 3.0]], seq_type=pa.float32())
    fit(str(train), str(tmp_path / "s.json"))
    src = make_dataset(tmp_path / "d", [[1.0], [2.0], [3.0, math.inf]], seq_type=pa.float32(), shard_rows=1)
    result = cli("encode", src, tmp_path / "e", "--normalize", tmp_path / "s.json")
    assert result.exit_code == 1
    assert "part-00002.parquet: row with id 2, step 1 holds inf" in result.stderr
    assert not (tmp_path / "e").exists()


def test_fit_json_is_always_strict(cli, tmp_path):
    src = make_dataset(tmp_path / "d", [[math.nan, math.nan], []], seq_type=pa.float32())
    result = cli("fit", src, tmp_path / "s.json")
    assert result.exit_code == 0, result.stderr
    stats = strict_json((tmp_path / "s.json").read_text())
    assert stats["channel_stats"] == [{"count": 0, "mean": None, "std": None, "min": None, "max": None}]


def test_constant_channel_round_trips(tmp_path):
    """A std of 0 is what fit writes for a constant channel: load accepts it (min == max)."""
    from seqprep.steps import encode

    src = make_dataset(tmp_path / "d", [[2.0, 2.0], [2.0]], seq_type=pa.float32())
    stats = fit(str(src), str(tmp_path / "s.json"))
    assert stats["channel_stats"][0]["std"] == 0.0
    encode(str(src), str(tmp_path / "e"), normalize_with=str(tmp_path / "s.json"))
    assert read_table(tmp_path / "e").column("seq").to_pylist() == [[0.0, 0.0], [0.0]]


# --------------------------------------------------------------------------------------------- fit's file


def test_fit_overwrites_its_own_stats_file_atomically(cli, tmp_path):
    src = make_dataset(tmp_path / "d", [["a", "b"]], labels=["x"])
    assert cli("fit", src, tmp_path / "s.json").exit_code == 0
    first = (tmp_path / "s.json").read_text()
    other = make_dataset(tmp_path / "d2", [["c"]], labels=["y"])
    result = cli("fit", other, tmp_path / "s.json", "--overwrite")
    assert result.exit_code == 0, result.stderr
    assert strict_json((tmp_path / "s.json").read_text())["tokens"] == ["c"] != strict_json(first)["tokens"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "d2", "s.json"]


def test_fit_to_stdout(cli, tmp_path):
    src = make_dataset(tmp_path / "d", [["a", "b", "a"]], labels=["x"])
    result = cli("fit", src, "-")
    assert result.exit_code == 0, result.stderr
    assert strict_json(result.stdout)["tokens"] == ["a", "b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_fit_refuses_a_foreign_json_with_overwrite(cli, tmp_path):
    src = make_dataset(tmp_path / "d", [["a"]])
    (tmp_path / "conf.json").write_text('{"format": "seqprep-dataset"}')
    result = cli("fit", src, tmp_path / "conf.json", "--overwrite")
    assert result.exit_code == 1 and "replaces only a stats file, and this is a file seqprep did not write" in result.stderr
    assert (tmp_path / "conf.json").read_text() == '{"format": "seqprep-dataset"}'


# --------------------------------------------------------------------------------------------- sizes from data


def test_split_as_features_sizes_rows_from_the_data_not_the_manifest(cli, tmp_path):
    src = make_dataset(tmp_path / "d", [[1, 2, 3, 4, 5], [6]], seq_type=pa.int32())
    m = json.loads((src / "_seqprep.json").read_text())
    m["lengths"]["max"] = 2_000_000  # a lie that would size every row at 2e6 steps
    (src / "_seqprep.json").write_text(json.dumps(m))
    result = cli("split", src, tmp_path / "o", "--length", "2", "--as-features")
    assert result.exit_code == 0, result.stderr
    t = read_table(tmp_path / "o")
    assert t.schema.field("seq").type == pa.list_(pa.list_(pa.int32(), 3), 2)  # ceil(5 / 2) = 3 parts
    assert t.column("seq").to_pylist() == [[[1, 3, 5], [2, 4, 0]], [[6, 0, 0], [0, 0, 0]]]


def test_long_padded_rows_run_in_smaller_batches_with_the_same_result(tmp_path):
    from seqprep.steps import truncate
    from seqprep.steps.common import ROW_VALUES, rows_per_batch

    assert rows_per_batch(4096, ROW_VALUES // 2) == 2 and rows_per_batch(4096, ROW_VALUES * 4) == 1
    assert rows_per_batch(4096, 500) == 4096
    src = make_dataset(tmp_path / "d", [[1, 2], [3]], seq_type=pa.int32())
    truncate(str(src), str(tmp_path / "o"), length=4)
    assert read_table(tmp_path / "o").column("seq").to_pylist() == [[0, 0, 1, 2], [0, 0, 0, 3]]


def test_pad_values_at_the_edges_of_the_type(tmp_path):
    from seqprep.steps import Padding, truncate

    src = make_dataset(tmp_path / "d", [[1]], seq_type=pa.int32())
    truncate(str(src), str(tmp_path / "a"), length=2, padding=Padding(value="2147483647"))
    truncate(str(src), str(tmp_path / "b"), length=2, padding=Padding(value="-2147483648"))
    assert read_table(tmp_path / "a").column("seq").to_pylist() == [[2147483647, 1]]
    assert read_table(tmp_path / "b").column("seq").to_pylist() == [[-2147483648, 1]]
    nums = make_dataset(tmp_path / "n", [[1.0]], seq_type=pa.float32())
    truncate(str(nums), str(tmp_path / "c"), length=2, padding=Padding(value="-inf"))
    assert read_table(tmp_path / "c").column("seq").to_pylist() == [[-math.inf, 1.0]]


def test_uint64_ids_past_int64_are_refused_in_ids_npy():
    from seqprep.errors import InputError
    from seqprep.npy import int64_ids

    assert int64_ids(pa.array([0, 2**63 - 1], pa.uint64())).tolist() == [0, 2**63 - 1]
    with pytest.raises(InputError, match=r"row 1: id 9223372036854775813 does not fit int64"):
        int64_ids(pa.array([0, 2**63 + 5], pa.uint64()))


# --------------------------------------------------------------------------------------------- odd datasets


EDGE_RUNS = [
    "truncate {src} {out} --length 3",
    "truncate {src} {out} --length 3 --format npy",
    "sample {src} {out} --length 2 --seed 1 --mode crop --copies 3 --no-overlap",
    "split {src} {out} --length 2 --as-features",
    "split {src} {out} --length 2 --last keep --no-pad",
    "summarize {src} {out} --paa 3",
    "encode {src} {out} --normalize {stats} --length 3 --format npy",
    "fit {src} {out}.json",
    "inspect {src}",
]


@pytest.mark.parametrize("kind", ["empty", "zero-length", "null-rows"])
@pytest.mark.parametrize("line", EDGE_RUNS, ids=[r.split()[0] + str(i) for i, r in enumerate(EDGE_RUNS)])
def test_odd_datasets_run_cleanly(cli, tmp_path, kind, line):
    rows = {"empty": [], "zero-length": [[], []], "null-rows": [[1.0], None]}[kind]
    labels = {"empty": None, "zero-length": ["a", "b"], "null-rows": ["a", "b"]}[kind]
    src = make_dataset(tmp_path / "d", rows, labels=labels, seq_type=pa.float32())
    train = make_dataset(tmp_path / "t", [[1.0, 2.0], [3.0]], labels=["a", "b"], seq_type=pa.float32())
    fit(str(train), str(tmp_path / "s.json"))
    args = shlex.split(line.format(src=src, out=tmp_path / "o", stats=tmp_path / "s.json"))
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_counts_past_the_vocabulary_are_all_of_it(tmp_path):
    from seqprep.steps import encode, summarize

    src = make_dataset(tmp_path / "d", [["a", "b", "a"], ["c"]], labels=["x", "y"])
    stats = fit(str(src), str(tmp_path / "s.json"), max_size=10**30)
    assert stats["tokens"] == ["a", "b", "c"]
    summarize(str(src), str(tmp_path / "o"), stats=str(tmp_path / "s.json"), drop_top=10**30)
    assert read_table(tmp_path / "o").column("seq").to_pylist() == [[], []]
    encode(str(src), str(tmp_path / "e"), stats=str(tmp_path / "s.json"), max_size=10**30)
    assert read_table(tmp_path / "e").column("seq").to_pylist() == [[2, 3, 2], [4]]


def test_nan_value_and_all_nan_statistics(cli, tmp_path):
    """What replaces NaN must be a reading; statistics with no reading in a channel cannot
    normalize it (they were the raw values, exit 0)."""
    from .conftest import make_dataset

    ok = make_dataset(tmp_path / "ok", [[1.0, 2.0, 3.0]], seq_type=pa.float32())
    nan = make_dataset(tmp_path / "nan", [[float("nan"), float("nan")]], seq_type=pa.float32())
    for value in ("inf", "1e39", "nan"):
        result = cli("encode", ok, tmp_path / "z", "--normalize", "per-row", "--nan-value", value)
        assert result.exit_code == 2 and "must be a finite float32 number" in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert cli("fit", nan, tmp_path / "nan.json").exit_code == 0
    result = cli("encode", ok, tmp_path / "z", "--normalize", tmp_path / "nan.json")
    assert result.exit_code == 1 and "channel 0 had no finite reading when the statistics were fitted" in result.stderr
    assert not (tmp_path / "z").exists()
