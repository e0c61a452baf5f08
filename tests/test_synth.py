import numpy as np
import pytest

from seqprep.errors import UsageError
from seqprep.synth import TASKS, synth

from .conftest import read_table


@pytest.mark.parametrize("task", TASKS)
def test_every_task_makes_labelled_sequences(tmp_path, task):
    m = synth(str(tmp_path / "d"), task=task, n=20, length=100, seed=1)
    t = read_table(tmp_path / "d")
    assert m["rows"] == 20 and set(t.column("label").to_pylist()) == {"c0", "c1"}
    assert all(75 <= n <= 125 for n in (len(s) for s in t.column("seq").to_pylist()))


@pytest.mark.parametrize("place, where", [("start", lambda i, n: i < 0.05 * n + 1), ("end", lambda i, n: i >= 0.95 * n - 1),
                                          ("middle", lambda i, n: 0.4 * n <= i <= 0.6 * n)])
def test_token_signal_is_where_the_task_says(tmp_path, place, where):
    synth(str(tmp_path / "d"), task=f"tokens-{place}", n=30, length=200, seed=2)
    t = read_table(tmp_path / "d")
    for seq, label in zip(t.column("seq").to_pylist(), t.column("label").to_pylist()):
        marks = [i for i, w in enumerate(seq) if w.startswith("class")]
        assert marks and all(where(i, len(seq)) for i in marks)
        assert {seq[i] for i in marks} == {"class" + label[1:]}


def test_dna_motifs_and_readings_bursts(tmp_path):
    synth(str(tmp_path / "dna"), task="dna-end", n=20, length=300, seed=3)
    for seq, label in zip(*(read_table(tmp_path / "dna").column(c).to_pylist() for c in ("seq", "label"))):
        motif = {"c0": "TATAAT", "c1": "GGCGCC"}[label]
        assert motif in "".join(seq[-len(seq) // 10:])
    synth(str(tmp_path / "r"), task="readings-start", n=40, length=400, seed=3)
    t = read_table(tmp_path / "r")
    head = [np.abs(np.array(s)[:15, 0]).mean() for s in t.column("seq").to_pylist()]
    tail = [np.abs(np.array(s)[-100:, 0]).mean() for s in t.column("seq").to_pylist()]
    assert np.mean(head) > np.mean(tail) + 0.3  # the burst is in the first 5%


def test_same_seed_same_data(tmp_path):
    synth(str(tmp_path / "a"), task="tokens-spread", n=10, length=50, seed=4)
    synth(str(tmp_path / "b"), task="tokens-spread", n=10, length=50, seed=4)
    synth(str(tmp_path / "c"), task="tokens-spread", n=10, length=50, seed=5)
    assert (tmp_path / "a" / "part-00000.parquet").read_bytes() == (tmp_path / "b" / "part-00000.parquet").read_bytes()
    assert read_table(tmp_path / "a").to_pylist() != read_table(tmp_path / "c").to_pylist()


def test_bad_options(tmp_path, cli):
    with pytest.raises(UsageError, match="task='words-end' must be one of tokens-start"):
        synth(str(tmp_path / "x"), task="words-end")
    result = cli("synth", tmp_path / "x", "--task", "dna-start", "--length", "5")
    assert result.exit_code == 2 and result.stderr.strip() == "Error: --length 5 must be at least 20"
    result = cli("synth", tmp_path / "y", "--task", "dna-start", "--n", "3", "--length", "40")
    assert result.exit_code == 0 and result.stderr.strip() == f"synth: wrote 3 rows in 1 shard to {tmp_path / 'y'}"
