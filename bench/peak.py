"""Run ``python -m seqprep ARGS`` and write its own peak RSS (VmHWM, kB) to a file at exit.

    python bench/peak.py OUT_FILE ARGS...

``wait4``'s ru_maxrss is no good here: after vfork + exec, Linux counts the parent's
high-water RSS into the child's, so a benchmark holding data would inflate every child.
VmHWM belongs to the child's own address space only.
"""

import atexit
import runpy
import sys

out = sys.argv[1]


def record() -> None:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                with open(out, "w") as o:
                    o.write(line.split()[1])


atexit.register(record)
sys.argv = ["seqprep", *sys.argv[2:]]
runpy.run_module("seqprep", run_name="__main__", alter_sys=True)
