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
