"""Where shards run when not in this process: a pool of worker processes, or a Dask cluster.

A pool runs ``fn(job, i)`` for every shard index ``i`` and hands the results back in shard
order, so what is written from them does not depend on which worker finished first. ``fn``
is a module-level function; ``job`` (a step is a plain dataclass of its options) travels by pickle.

Worker processes are started with *spawn*, never fork: the parent already runs Arrow's thread
pools, which a forked child would inherit in an unknown state.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable, Iterator

from . import memory
from .errors import SeqprepError, UsageError


def check_workers(workers: int, scheduler: str | None) -> None:
    if workers < 1:
        raise UsageError(f"--workers {workers} must be at least 1")
    if scheduler is not None and workers != 1:
        raise UsageError("give --workers (processes on this machine) or --scheduler (a Dask cluster), not both")
    check_scheduler(scheduler)
    if workers > 1:
        spare_cores()  # a malformed SEQPREP_CORES is refused before any work


_ADDRESS = re.compile(r"(?:(?P<scheme>tcp|tls|ucx|ws|wss|inproc)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)"
                      r"(?::(?P<port>[0-9]{1,5}))?(?P<path>/[^\s]*)?")


def check_scheduler(address: str | None) -> None:
    """A Dask scheduler address (tcp://host:8786, host:8786, tls://..., inproc://...), checked
    for its form before anything tries to connect to it."""
    if address is None:
        return
    m = _ADDRESS.fullmatch(address)
    if m is None or (m["port"] is None and m["scheme"] != "inproc") \
            or (m["port"] is not None and not 0 < int(m["port"]) < 65536) \
            or (m["path"] and m["path"] != "/" and m["scheme"] != "inproc"):
        raise UsageError(f"--scheduler {address!r} is not a Dask scheduler address; give tcp://HOST:PORT, "
                         "e.g. tcp://10.0.0.5:8786")


def open_pool(workers: int = 1, scheduler: str | None = None, *, shards: int):
    """A pool for ``shards`` shards, or None where one process does as well (one worker, one
    shard, no spare cores for more). The caller has checked the options (:func:`check_workers`)
    before any work. Fewer workers than asked are started where the cores are not there for
    them; a :class:`WorkersNote` warning says so."""
    if scheduler is not None:
        return DaskPool(scheduler)
    n, note = worker_count(workers, shards)
    if note:
        import warnings

        warnings.warn(note, WorkersNote, stacklevel=2)
    return None if n == 1 else ProcessPool(n)


class WorkersNote(UserWarning):
    """Fewer worker processes ran than --workers asked (the output is the same bytes)."""


# One worker process keeps about this many cores busy: Arrow decodes the next batch on its
# threads while the worker computes. On 2 cores, 2 workers ran 0.8-0.95x the speed of one on
# the benchmark's data (bench/bench.py), so a worker is started only where 1.5 cores are spare.
CORES_PER_WORKER = 1.5


def worker_count(asked: int, shards: int) -> tuple[int, str | None]:
    """How many worker processes to start for ``asked`` workers and ``shards`` shards, and a
    note where that is fewer than asked for want of cores (not of shards)."""
    n = max(1, min(asked, shards))
    spare = spare_cores()
    fits = max(1, int(spare / CORES_PER_WORKER))
    if n <= fits:
        return n, None
    return fits, (f"--workers {asked}: running {fits}, as {spare} spare core{'s' * (spare != 1)} keep{'s' * (spare == 1)} "
                  f"{'only ' if fits > 1 else ''}{fits} worker{'s' * (fits != 1)} busy (a worker keeps about "
                  f"{CORES_PER_WORKER:g} cores busy); the output is the same. SEQPREP_CORES=N says how many cores "
                  "to use")


def spare_cores() -> int:
    """The cores this process may use (its CPU affinity and cgroup quota; SEQPREP_CORES=N, a
    count the user gives, wins) less the machine's load over the last minute, at least 1."""
    given = os.environ.get("SEQPREP_CORES", "").strip()
    if given:
        if not given.isdigit() or int(given) < 1:
            raise UsageError(f"SEQPREP_CORES={given!r} must be a whole number of cores, at least 1")
        return int(given)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    quota = _cgroup_cores()
    if quota is not None:
        cores = min(cores, quota)
    try:
        busy = int(os.getloadavg()[0])  # whole cores busy; a core at 0.9 is still spare
    except (OSError, AttributeError):
        busy = 0
    return max(1, cores - busy)


def _cgroup_cores(path: str = "/sys/fs/cgroup/cpu.max") -> int | None:
    """The cores a cgroup v2 CPU quota allows ("200000 100000": 2), rounded up; None: no quota."""
    try:
        with open(path) as f:
            quota, period = f.read().split()[:2]
        return None if quota == "max" else max(1, -(-int(quota) // int(period)))
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# Worker processes on this machine

_job = None  # the job a worker process runs, unpickled once when the process starts


def _start_worker(blob: bytes, threads: int, parent: int) -> None:
    global _job
    import pickle
    import pyarrow as pa

    _die_with_parent(parent)
    # Ctrl-C reaches the whole process group: the parent handles it and stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    # N workers share the cores: each uses its share for Arrow's own threads.
    pa.set_cpu_count(threads)
    pa.set_io_thread_count(threads)
    memory.tune()
    _job = pickle.loads(blob)  # pickled by the parent that started this process (ProcessPool.map)


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this worker when ``parent``, the process that started it, dies by
    any signal (Linux's PR_SET_PDEATHSIG); elsewhere, workers end when their task queue closes."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the call, while this process started
        os._exit(1)


def _run(fn: Callable, i: int):
    return fn(_job, i)


class ProcessPool:
    def __init__(self, workers: int):
        self.workers = workers
        self._executor = None

    def map(self, fn: Callable, job, n: int) -> Iterator:
        # Imported here: most runs use no pool, and these imports cost ~17 ms at every start.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        import pickle

        threads = max(1, (os.cpu_count() or 1) // self.workers)
        self._executor = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker, initargs=(pickle.dumps(job), threads, os.getpid()))
        futures = [self._executor.submit(_run, fn, i) for i in range(n)]
        try:
            for future in futures:
                yield future.result()
        except BrokenProcessPool:
            raise SeqprepError("a worker process died (killed, or out of memory?); "
                               "run again, with fewer --workers if memory is short") from None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._executor is not None:
            if exc[0] is not None:
                # The run failed or was interrupted: stop the shards still running, now.
                for process in list((self._executor._processes or {}).values()):
                    process.kill()
            # Wait for the workers to end before the caller removes what they write into.
            self._executor.shutdown(wait=True, cancel_futures=True)
        return False


# ---------------------------------------------------------------------------------------------
# A Dask cluster


def _run_blob(fn: Callable, blob: bytes, i: int):
    import pickle

    # Unpickled per task: tasks on one Dask worker may run at once, and each needs its own job.
    # The blob is the one this run's client pickled (DaskPool.map), never a file or user data.
    return fn(pickle.loads(blob), i)


class DaskPool:
    """Shards as tasks on a Dask cluster. Its workers need seqprep installed and must see the
    input and output paths (a shared file system)."""

    def __init__(self, address: str):
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--scheduler needs Dask: pip install 'seqprep[dask]'") from None
        try:
            self.client = Client(address, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError, ValueError, TypeError) as e:
            raise SeqprepError(f"cannot reach the Dask scheduler at {address} ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
        self._futures: list = []

    def map(self, fn: Callable, job, n: int) -> Iterator:
        import pickle

        blob = self.client.scatter(pickle.dumps(job), broadcast=True, hash=False)
        self._futures = [self.client.submit(_run_blob, fn, blob, i, pure=False) for i in range(n)]
        for future in self._futures:
            yield future.result()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None and self._futures:
            from distributed import wait

            # Let running shards end before the caller removes what they write into.
            self.client.cancel(self._futures)
            try:
                wait(self._futures, timeout=120)
            except Exception:  # noqa: BLE001 - the run already failed; keep its error
                pass
        self.client.close()
        return False
