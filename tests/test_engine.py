import threading

import pytest

from seqprep.engine import Ahead


def test_ahead_keeps_order():
    assert list(Ahead(iter(range(100)), depth=2)) == list(range(100))
    assert list(Ahead(iter([]))) == []


def test_ahead_raises_the_producers_error_in_the_consumer():
    def items():
        yield 1
        raise ValueError("bad shard")

    got = []
    with pytest.raises(ValueError, match="bad shard"):
        for x in Ahead(items()):
            got.append(x)
    assert got == [1]


def test_consumer_stopping_early_does_not_hang_the_producer():
    produced = []

    def items():
        for i in range(1000):
            produced.append(i)
            yield i

    ahead = Ahead(items(), depth=2)
    assert next(iter(ahead)) == 0
    ahead.close()  # the consumer leaves with the queue full
    assert not any(t.name == "seqprep-prefetch" for t in threading.enumerate())
    assert len(produced) < 10


def test_writer_runs_calls_in_order_and_raises_errors():
    from seqprep.engine import Writer

    seen = []
    with Writer() as w:
        for i in range(50):
            w.submit(seen.append, i)
        w.drain()
    assert seen == list(range(50))

    def boom(x):
        raise OSError(f"disk full at {x}")

    w = Writer(depth=1)
    w.submit(boom, 1)
    with pytest.raises(OSError, match="disk full at 1"):
        for i in range(100):
            w.submit(seen.append, i)
        w.drain()
    w.close()


class _Shards:
    """A stand-in Source: shards of small record batches, noting when each shard's reading starts."""

    def __init__(self, sizes: list[list[int]]):
        import pyarrow as pa

        self.shards = [[pa.record_batch({"x": list(range(n))}) for n in shard] for shard in sizes]
        self.started = [threading.Event() for _ in sizes]

    def shard_batches(self, batch_rows):
        for i, batches in enumerate(self.shards):
            def read(i=i, batches=batches):
                self.started[i].set()
                yield from batches
            yield f"part-{i}", read()


def test_read_ahead_gives_each_shard_its_batches_empty_shards_included():
    from seqprep.engine import _read_ahead

    src = _Shards([[2, 3], [], [1], [], []])
    got = [(name, [b.num_rows for b in batches]) for name, batches in _read_ahead(src, 4096)]
    assert got == [("part-0", [2, 3]), ("part-1", []), ("part-2", [1]), ("part-3", []), ("part-4", [])]


def test_read_ahead_reads_the_next_shard_while_this_one_is_in_use():
    from seqprep.engine import _read_ahead

    src = _Shards([[2, 3], [4]])
    shards = _read_ahead(src, 4096)
    name, batches = next(shards)
    assert [next(batches).num_rows, next(batches).num_rows] == [2, 3]
    # Shard 0's last batch is in hand and nothing more was asked for: the reader has gone on.
    assert src.started[1].wait(timeout=10)
    assert list(batches) == []
    assert [(n, [b.num_rows for b in bs]) for n, bs in shards] == [("part-1", [4])]


def test_read_ahead_reads_two_shards_at_once_and_no_more():
    from seqprep.engine import SHARDS_AHEAD, _read_ahead

    assert SHARDS_AHEAD == 2
    src = _Shards([[2], [3], [4]])
    shards = _read_ahead(src, 4096)
    name, batches = next(shards)
    assert src.started[0].wait(timeout=10) and src.started[1].wait(timeout=10)
    assert not src.started[2].wait(timeout=0.3)  # started only once shard 0 is done with
    assert (name, [b.num_rows for b in batches]) == ("part-0", [2])
    assert [(n, [b.num_rows for b in bs]) for n, bs in shards] == [("part-1", [3]), ("part-2", [4])]


def test_read_ahead_raises_a_shards_error_when_the_consumer_reaches_it():
    import pyarrow as pa

    from seqprep.engine import _read_ahead

    class Failing(_Shards):
        def shard_batches(self, batch_rows):
            def bad():
                raise ValueError("shard 1 is bad")
                yield
            yield "part-0", iter([pa.record_batch({"x": [1, 2]})])
            yield "part-1", bad()

    shards = _read_ahead(Failing([]), 4096)
    name, batches = next(shards)
    assert (name, [b.num_rows for b in batches]) == ("part-0", [2])  # read to its end first
    name, batches = next(shards)
    with pytest.raises(ValueError, match="shard 1 is bad"):
        list(batches)


def test_read_ahead_stopped_early_stops_its_readers():
    from seqprep.engine import _read_ahead

    src = _Shards([[1] * 50, [1] * 50, [1] * 50])
    shards = _read_ahead(src, 4096)
    name, batches = next(shards)
    next(batches)
    shards.close()
    assert not any(t.name == "seqprep-prefetch" for t in threading.enumerate())


def test_steps_travel_by_plain_pickle():
    """Workers and Dask get a step by pickle: each is a dataclass of its options, no closure."""
    import pickle

    import pyarrow as pa

    from seqprep.padding import PadSpec
    from seqprep.steps.sample import SampleRows
    from seqprep.steps.split import SplitRows
    from seqprep.steps.summarize import SummarizeRows, TokenMask
    from seqprep.steps.truncate import TruncateRows

    batch = pa.RecordBatch.from_pydict({"id": [1, 2], "seq": [[1, 2, 3, 4], [5]]})
    steps = [TruncateRows(3, "end", None, PadSpec(3, "start", 0), None),
             SampleRows(2, "crop", 7, 2, True, None, None),
             SplitRows(2, None, "keep", None, None, None, None),
             SummarizeRows(TokenMask(pa.array([2, 5]), None), None, None, "mean", None, None)]
    for step in steps:
        out, counts = pickle.loads(pickle.dumps(step))(batch)
        assert out.equals(step(batch)[0]) and counts == {}
    assert steps[0](batch)[0].column("seq").to_pylist() == [[2, 3, 4], [0, 0, 5]]
    assert steps[3](batch)[0].column("seq").to_pylist() == [[1, 3, 4], []]
