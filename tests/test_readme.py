"""Every example in the README runs: its sh blocks, then its Python block, in a scratch copy."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_readme_examples_run(tmp_path):
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # Wrappers, not symlinks: a symlinked venv python started from elsewhere loses the venv.
    for name, command in (("seqprep", f'"{sys.executable}" -m seqprep'), ("python", f'"{sys.executable}"')):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
        shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}
    script = "set -euo pipefail\n" + "\n".join(blocks("sh"))
    assert script.count("seqprep ") >= 10
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "(60, 600, 3)" in result.stdout
    for code in blocks("python"):
        result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "reviews-400" / "_seqprep.json").exists()
    assert (tmp_path / "data" / "reviews-lengths.png").exists()
