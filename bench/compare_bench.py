"""compare as a user runs it: time and peak memory on synthetic data, tables on real data.

    python bench/compare_bench.py synth [--dir bench_out/compare]
    python bench/compare_bench.py real OUTDIR [--sets ACSF1 code] [--budget STEPS] [--length L]

``synth``: 500 training sequences of 1,500 steps (and 200 test sequences), tokens and 3-channel
readings (`seqprep synth`, the class signal at the end), then `seqprep compare TRAIN TEST` with
its default options, in a fresh process; prints the wall time and the process's peak RSS (the
issue's target: under 5 minutes on the 2-core machine).

``real``: the sets `python bench/real_data.py build OUTDIR` made; each is ingested as a user
would (readings z-scored per row by compare itself), then `seqprep compare` with every
technique at its defaults (or `--budget` steps read per run), and the baselines; the table, the verdict line and
the JSON (OUTDIR/<set>/compare.json) are what the README reports.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_memory import peak_rss  # noqa: E402

SEQPREP = str(Path(sys.executable).with_name("seqprep"))


def run(*argv: str) -> tuple[float, int]:
    """Run seqprep in a fresh process; its wall time and peak RSS (VmHWM, polled)."""
    print("$ seqprep " + " ".join(argv), flush=True)
    started = time.perf_counter()
    peak = peak_rss([SEQPREP, *argv])
    return time.perf_counter() - started, peak


def cmd_synth(args) -> None:
    d = Path(args.dir)
    for task in ("tokens-end", "readings-end"):
        train, test = d / f"{task}-train", d / f"{task}-test"
        subprocess.run([SEQPREP, "synth", str(train), "--task", task, "--n", "500", "--length", "1500", "--seed",
                        "1", "--overwrite"], check=True)
        subprocess.run([SEQPREP, "synth", str(test), "--task", task, "--n", "200", "--length", "1500", "--seed",
                        "2", "--overwrite"], check=True)
        seconds, peak = run("compare", str(train), str(test), "--json", str(d / f"{task}-compare.json"))
        print(f"compare {task}, 500 x 1,500 steps, default options: {seconds:.0f} s, peak RSS "
              f"{peak / 2**20:.0f} MiB (target: under 300 s)", flush=True)


def cmd_real(args) -> None:
    out = Path(args.outdir)
    for name in args.sets:
        src = out / name
        text = (src / "train.jsonl").exists()
        ext = "jsonl" if text else "ts"
        work = src / "seqprep"
        for split in ("train", "test"):
            subprocess.run([SEQPREP, "ingest", str(src / f"{split}.{ext}"), str(work / split), "--overwrite"],
                           check=True)
        budget = ["--budget", args.budget] if args.budget else []
        seconds, peak = run("compare", str(work / "train"), str(work / "test"), "--length", str(args.length),
                            *budget, "--json", str(src / "compare.json"))
        held = padded_bytes(work / "train")
        print(f"compare {name}: {seconds:.0f} s, peak RSS {peak / 2**20:.0f} MiB; TRAIN as one padded float32 array "
              f"(the largest split a technique holds: as-is, conv) {held / 2**20:.1f} MiB", flush=True)


def padded_bytes(dataset: Path) -> int:
    """TRAIN's rows x its longest row x channels x 4 bytes: the model input of as-is."""
    import json

    manifest = json.loads((dataset / "_seqprep.json").read_text())
    channels = (manifest.get("steps") or {}).get("channels") or 1
    return manifest["rows"] * int(manifest["lengths"]["max"] or 1) * channels * 4


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("synth")
    s.add_argument("--dir", default="bench_out/compare")
    s.set_defaults(func=cmd_synth)
    r = sub.add_parser("real")
    r.add_argument("outdir")
    r.add_argument("--sets", nargs="+", default=["ACSF1", "OSULeaf", "PLAID", "code"])
    r.add_argument("--budget", default=None, help="default: compare's own")
    r.add_argument("--length", type=int, default=256)
    r.set_defaults(func=cmd_real)
    args = p.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
