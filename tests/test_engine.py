import threading

import pytest

from seqprep.engine import prefetch


def test_prefetch_keeps_order():
    assert list(prefetch(iter(range(100)), depth=2)) == list(range(100))
    assert list(prefetch(iter([]))) == []


def test_prefetch_raises_the_producers_error_in_the_consumer():
    def items():
        yield 1
        raise ValueError("bad shard")

    got = []
    with pytest.raises(ValueError, match="bad shard"):
        for x in prefetch(items()):
            got.append(x)
    assert got == [1]


def test_consumer_stopping_early_does_not_hang_the_producer():
    produced = []

    def items():
        for i in range(1000):
            produced.append(i)
            yield i

    it = prefetch(items(), depth=2)
    assert next(it) == 0
    it.close()  # the consumer leaves with the queue full
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
