"""How a seqprep process allocates memory, set once when it starts (the CLI, and each worker).

Each batch allocates and frees arrays of tens of megabytes: Arrow's buffers and numpy's
temporaries. Left to their defaults, the allocators hand such memory back to the system
and fault it in again for the next batch: about a tenth of the time of `sample` and
`summarize --paa` on the benchmark's data (``/usr/bin/time`` shows it as system time and
minor page faults).
"""

from __future__ import annotations

import ctypes
import os
import sys

# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3


def before_arrow() -> None:
    """Set before pyarrow is imported (the CLI's entry point; spawned workers inherit it): every
    Arrow pool, the Parquet reader's and writer's own included, is jemalloc with one arena.

    With its default of several arenas per core, jemalloc keeps freed pages in each arena that
    Arrow's threads used; mimalloc (Arrow's default on Linux) keeps its own per thread. One
    arena reuses one set of pages for the batch after. Measured on the bench data (`truncate
    --length 500`, peak RSS, with batches of READ_VALUES): the defaults 235-255 MiB, jemalloc's
    default arenas about 250, one arena 162-168, with no loss of time (README, "Memory"). A user's
    own ARROW_DEFAULT_MEMORY_POOL or JE_ARROW_MALLOC_CONF wins; elsewhere than Linux, a no-op
    (pyarrow's wheels there may lack jemalloc, and Arrow would warn of it)."""
    if not sys.platform.startswith("linux") or "pyarrow" in sys.modules:
        return
    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "jemalloc"
        os.environ.setdefault("JE_ARROW_MALLOC_CONF", "narenas:1")


def tune() -> None:
    use_jemalloc()
    keep_freed_memory()


def use_jemalloc() -> None:
    """Batches are read on one thread and freed on another; mimalloc (Arrow's default on
    Linux) can hold on to such memory for a while, jemalloc hands it back, keeping peak RSS
    bounded by the batch size. The environment's ARROW_DEFAULT_MEMORY_POOL still wins.

    This sets pyarrow's pool, which the reads, kernels and conversions seqprep calls take.
    Arrow's C++ parts that are given no pool (the Parquet writer's page buffers, ParquetFile's
    file reads) keep the default chosen when pyarrow loaded, which only that variable sets:
    after `summarize --paa` on the bench data, 36 MB had passed through mimalloc at most,
    81 MB through jemalloc. Setting the variable to jemalloc measured no better: peak RSS of
    `summarize --paa` and `sample` 419 and 397 MiB against 396 and 430, times within noise."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except (NotImplementedError, pa.ArrowNotImplementedError):
        pass  # a build without jemalloc: keep the default


def keep_freed_memory() -> None:
    """glibc (numpy's allocator) maps every array over 128 KiB afresh and unmaps it when freed.
    Arrays up to 32 MiB now come from the heap, and up to 128 MiB of freed heap is kept for
    the next batch. Glibc's own MALLOC_* environment settings still win; elsewhere a no-op."""
    if not sys.platform.startswith("linux") or any(k.startswith("MALLOC_") for k in os.environ):
        return
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # absent on musl
    if mallopt is None:
        return
    mallopt(M_MMAP_THRESHOLD, 32 << 20)  # glibc's largest
    mallopt(M_TRIM_THRESHOLD, 128 << 20)
    mallopt(M_TOP_PAD, 16 << 20)
