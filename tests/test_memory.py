import os

from seqprep import memory


def test_keep_freed_memory_sets_glibc_options_unless_the_environment_does(monkeypatch):
    calls = []

    class Libc:
        def mallopt(self, param, value):
            calls.append((param, value))

    monkeypatch.setattr(memory.ctypes, "CDLL", lambda name: Libc())
    monkeypatch.setattr(memory.sys, "platform", "linux")
    for key in [k for k in os.environ if k.startswith("MALLOC_")]:
        monkeypatch.delenv(key)
    memory.keep_freed_memory()
    assert calls == [(memory.M_MMAP_THRESHOLD, 32 << 20), (memory.M_TRIM_THRESHOLD, 128 << 20),
                     (memory.M_TOP_PAD, 16 << 20)]
    calls.clear()
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    memory.keep_freed_memory()
    assert calls == []


def _pool_in_a_fresh_process(env: dict, code: str = "") -> str:
    import subprocess
    import sys

    probe = ("import os; from seqprep import memory; " + code + "memory.before_arrow(); import pyarrow as pa; "
             "print(pa.default_memory_pool().backend_name, os.environ.get('JE_ARROW_MALLOC_CONF'))")
    clean = {k: v for k, v in os.environ.items() if k not in ("ARROW_DEFAULT_MEMORY_POOL", "JE_ARROW_MALLOC_CONF")}
    done = subprocess.run([sys.executable, "-c", probe], env={**clean, **env}, capture_output=True, text=True,
                          check=True)
    assert done.stderr == ""
    return done.stdout.strip()


def test_before_arrow_makes_every_arrow_pool_one_jemalloc_arena_unless_the_user_chose():
    import sys

    if not sys.platform.startswith("linux"):
        assert _pool_in_a_fresh_process({}).endswith("None")
        return
    assert _pool_in_a_fresh_process({}) == "jemalloc narenas:1"
    assert _pool_in_a_fresh_process({"ARROW_DEFAULT_MEMORY_POOL": "system"}) == "system None"
    assert _pool_in_a_fresh_process({"JE_ARROW_MALLOC_CONF": "narenas:2"}) == "jemalloc narenas:2"
    # Too late once pyarrow is loaded: the default pool is chosen then, so nothing is set.
    assert _pool_in_a_fresh_process({}, "import pyarrow; ") == "mimalloc None"
