"""Where output goes, and how it replaces what was there: the commit protocol.

An output is built in a temporary directory beside OUT (``.OUT.seqprep-tmp-PID-XXXXXXXX``)
and put in place at the end, so an interrupted or failed run leaves the old OUT, or none:

- OUT absent: one ``rename(tmp, OUT)``.
- OUT present (``--overwrite``): one ``renameat2(tmp, OUT, RENAME_EXCHANGE)``, which swaps the
  two at once; the old copy, now under the temporary name, is then removed. Where the system
  cannot swap (not Linux, or a file system without it), OUT is first renamed to a backup
  name (``.OUT.seqprep-tmp-old-…``) and the new copy renamed into place: a run killed between
  the two renames leaves no OUT but its backup, which the next run puts back before anything
  else. Either way, after a kill at any instant OUT is the old or the new complete output.

``--overwrite`` replaces only what seqprep made (:func:`made_by_seqprep`) or an empty
directory, and never an input, a folder holding one, a path inside one, the working
directory or one of its parents, or the home directory.

Temporaries of killed runs are removed by the next run that writes beside them. A live run
holds an exclusive ``flock`` on its temporary directory; one nobody holds belongs to a dead
run. A lock, not the PID: a PID from another PID namespace (a container) cannot be checked.

In object storage nothing renames: the commit there is the manifest, written last
(:mod:`seqprep.objectstore`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import glob
import json
import os
import re
import shutil
import stat
import sys
import uuid
from pathlib import Path

from . import storage
from .errors import OutputError, UsageError

TMP_MARK = ".seqprep-tmp-"
OLD = "old-"  # TMP_MARK + OLD: the backup of a replaced OUT, kept only between two renames

# What each kind of seqprep output holds, beside what its manifest lists.
MANIFESTS = ("_seqprep.json", "seqprep.json")
SHARD = re.compile(r"part-[0-9]{5,}\.parquet")  # how seqprep names a dataset's shards (dataset.shard_name)
NPY_FILES = {"X.npy", "y.npy", "lengths.npy", "ids.npy", "meta.json"}
RUN_FILES = {"model.pt", "metrics.jsonl", "curves.png"}
PREDICTIONS_HEADER = "id,predicted"
MANIFEST_LIMIT = 64 << 20  # bytes: a manifest or meta.json larger than this is not one of ours


DATA_KINDS = ("dataset", "npy", "empty")  # what a data command may replace
RUN_KINDS = ("run", "empty")  # what train may replace


def made_by_seqprep(path: Path) -> str | None:
    """What seqprep output ``path`` is ("dataset", "npy", "run", "stats", "predictions",
    "empty"), or None when it holds anything seqprep did not write there: every entry must be
    a regular file of the kind's own names, of the size its manifest lists (or, where an older
    manifest lists none, of its sha256)."""
    if path.is_symlink():
        return None
    if path.is_dir():
        entries = {p.name: p for p in path.iterdir()}
        if not entries:
            return "empty"
        if not all(_plain_file(p) for p in entries.values()):
            return None
        from .dataset import sha256_file

        kind = _dir_kind(set(entries), lambda n: _json(path / n), lambda n: (path / n).stat().st_size,
                         lambda n: sha256_file(path / n))
        if kind is None and {"model.pt", "metrics.jsonl"} <= set(entries) <= RUN_FILES and _starts_with(
                path / "model.pt", ZIP_MAGIC):
            return "run"
        return kind
    if _plain_file(path):
        if path.suffix == ".json":
            m = _json(path)
            if isinstance(m, dict) and m.get("format") == "seqprep-stats":
                return "stats"
        if path.suffix == ".csv":
            with open(path, "rb") as f:
                header = f.readline(1 << 16).decode("utf-8", "replace").rstrip("\r\n").split(",")
            if header[:2] == ["id", "predicted"] and all(c.startswith("p_") for c in header[2:]):
                return "predictions"
    return None


ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive


def _plain_file(p: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(p).st_mode)
    except OSError:
        return False


def _starts_with(p: Path, magic: bytes) -> bool:
    with open(p, "rb") as f:
        return f.read(len(magic)) == magic


def _dir_kind(names: set, json_of, size_of, sha_of) -> str | None:
    """"dataset" or "npy" when the files ``names`` are exactly one of those and what its manifest
    (or meta.json) lists; ``json_of``, ``size_of`` and ``sha_of`` read a file of the directory."""
    for manifest in MANIFESTS:
        if manifest in names:
            m = json_of(manifest)
            if not (isinstance(m, dict) and m.get("format") == "seqprep-dataset" and isinstance(m.get("shards"), list)
                    and all(isinstance(e, dict) for e in m["shards"])):
                return None
            listed = {e.get("path"): e for e in m["shards"]}
            if not names <= set(listed) | {manifest} or not all(SHARD.fullmatch(n) for n in names - {manifest}):
                return None  # seqprep names its shards part-NNNNN.parquet: a manifest listing other files is not ours
            ok = all(_as_listed(name, listed[name], size_of, sha_of) for name in names - {manifest})
            return "dataset" if ok else None
    if "meta.json" in names:
        m = json_of("meta.json")
        if not (isinstance(m, dict) and m.get("format") == "seqprep-npy" and names <= NPY_FILES):
            return None
        files = m.get("files")
        if not isinstance(files, dict) or not names - {"meta.json"} <= set(files):
            return None  # every array is listed in meta.json, or the folder is not (only) ours
        return "npy" if all(_as_listed(n, files[n], size_of, sha_of) for n in names - {"meta.json"}) else None
    return None


def _as_listed(name: str, entry, size_of, sha_of) -> bool:
    """File ``name`` is the one its manifest lists: its size, or its sha256 where no size is listed."""
    if not isinstance(entry, dict):
        return False
    if "bytes" in entry:
        return size_of(name) == entry["bytes"]
    return isinstance(entry.get("sha256"), str) and sha_of(name) == entry["sha256"]


def _json(path: Path):
    try:
        if not _plain_file(path) or path.stat().st_size > MANIFEST_LIMIT:
            return None
        return json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None


def check_target(out: str, *, inputs: tuple = (), overwrite: bool = False, replaces: tuple = DATA_KINDS) -> None:
    """Refuse an OUT that would clobber an input (``inputs``: every path the command reads, the
    options' files included) or anything but the kinds of output this command writes
    (``replaces``), before any work starts."""
    if out == "-":
        if sys.stdout.isatty():
            raise UsageError("OUT '-' writes a binary Arrow stream, and stdout is a terminal; pipe it into a "
                             "command (`| seqprep inspect -`, or `| cat` to force it) or give OUT as a path")
        return
    if not set(replaces) <= set(DATA_KINDS):  # a run, stats file or predictions: local only
        storage.local_only(out, "this output")
    uri = storage.parse(out)
    if uri is not None:
        from .objectstore import check_remote_target

        check_remote_target(uri, inputs, overwrite, replaces)
        return
    out = storage.local(out)
    inputs = tuple(None if i is None or storage.parse(i) else storage.local(i) for i in inputs)
    target = Path(os.path.abspath(out))
    real = Path(os.path.realpath(out))
    exists = os.path.lexists(target)
    if exists and overwrite:
        _never_replaced(out, real)
    for i in inputs:
        if i == "-" or i is None:
            continue
        src = Path(os.path.realpath(i))
        if src == real:
            raise OutputError(f"{out}: OUT is the same as the input; write to another path")
        if src.is_relative_to(real):
            raise OutputError(f"{out}: OUT holds the input {i}; write to another path")
        if src.is_dir() and real.is_relative_to(src):
            raise OutputError(f"{out}: OUT is inside the input {i}; write to another path")
    if exists:
        if not overwrite:
            raise OutputError(f"{out}: already exists; pass --overwrite to replace it")
        _check_replaceable(out, target, replaces)
    parent = target.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{out}: cannot create it, {parent} is a file, not a directory")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"{out}: cannot write in {parent} (permission denied)")


def _names(replaces: tuple) -> str:
    names = [KIND_NAMES[k] for k in replaces]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _never_replaced(out: str, real: Path) -> None:
    cwd, home = Path.cwd().resolve(), Path.home().resolve()
    if real == Path(real.anchor) or real == home or cwd.is_relative_to(real):
        raise OutputError(f"{out}: --overwrite never replaces the root, home or working directory or a folder "
                          "holding it; give OUT as a new path")


def _check_replaceable(out: str, target: Path, replaces: tuple) -> None:
    if target.is_symlink():
        raise OutputError(f"{out}: is a symbolic link; --overwrite replaces only what seqprep made, "
                          "give OUT as a new path")
    kind = made_by_seqprep(target)
    if kind not in replaces:
        what = _names(replaces)
        found = KIND_NAMES[kind] if kind else ("a file seqprep did not write" if not target.is_dir()
                                               else "a folder holding files seqprep did not write")
        raise OutputError(f"{out}: --overwrite replaces only {what}, and this is {found}; remove it yourself or "
                          "write elsewhere")


KIND_NAMES = {"dataset": "a seqprep dataset", "npy": "an NPY export", "run": "a run directory",
              "stats": "a stats file", "predictions": "a predictions CSV", "empty": "an empty directory",
              "interrupted": "an interrupted seqprep commit"}


# ---------------------------------------------------------------------------------------------
# The commit


# The outputs this process has committed, for an interrupt's message: a signal that lands
# after a commit must not say that nothing was.
COMMITTED: list[str] = []

class AtomicDir:
    """A directory built under a temporary name beside ``out`` and put into place by ``commit``."""

    def __init__(self, out: str, *, overwrite: bool = False, replaces: tuple = DATA_KINDS):
        self.out = Path(storage.local_only(out, "this output"))
        self.overwrite = overwrite
        self.replaces = replaces
        self._lock = None
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            recover(self.out)
            self.tmp = self.out.parent / f".{self.out.name}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"
            self.tmp.mkdir()
            self._lock = _hold(self.tmp)
        except OSError as e:
            raise OutputError(f"{out}: cannot create it ({e.strerror or e})") from None

    def commit(self) -> None:
        if os.path.lexists(self.out):
            if not self.overwrite:
                raise OutputError(f"{self.out}: appeared while writing; pass --overwrite to replace it")
            if made_by_seqprep(self.out) not in self.replaces:
                raise OutputError(f"{self.out}: changed while writing and now holds files seqprep did not make; "
                                  "nothing was replaced")
            if _exchange(self.tmp, self.out):
                _remove(self.tmp)  # the old copy, now under the temporary name
            else:
                old = self.out.parent / f".{self.out.name}{TMP_MARK}{OLD}{uuid.uuid4().hex[:8]}"
                self.out.rename(old)
                self.tmp.rename(self.out)  # a kill before this line: the next run puts `old` back
                _remove(old)
        else:
            self.tmp.rename(self.out)
        COMMITTED.append(str(self.out))
        self._release()

    def put(self, name: str, data: bytes) -> None:
        """A small file (a manifest) into the temporary directory."""
        (self.tmp / name).write_bytes(data)

    def present(self) -> str | None:
        """What is at OUT now: None (nothing), or its kind as :func:`made_by_seqprep` tells it ("other")."""
        return (made_by_seqprep(self.out) or "other") if os.path.lexists(self.out) else None

    def take_back(self) -> None:
        """Remove the output this committed (when a second output of the same run cannot be)."""
        shutil.rmtree(self.out, ignore_errors=True)

    def abort(self) -> None:
        _remove(self.tmp)
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def _hold(path: Path) -> int:
    """An exclusive lock on the directory, held while this process writes into it."""
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def _held(path: Path) -> bool:
    """Whether a live run holds temporary ``path``. Anything but a directory or regular file
    (a FIFO would block the open) counts as held: never opened, never removed."""
    try:
        if not (stat.S_ISDIR(os.lstat(path).st_mode) or stat.S_ISREG(os.lstat(path).st_mode)):
            return True
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths at once (Linux renameat2); False where the system cannot."""
    libc = _libc()
    if libc is None or not hasattr(libc, "renameat2"):
        return False
    rc = libc.renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: not on this file system or kernel
        return False
    raise OSError(errno, os.strerror(errno), str(b))


_LIBC: list = []


def _libc():
    if not _LIBC:
        try:
            _LIBC.append(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True))
        except OSError:
            _LIBC.append(None)
    return _LIBC[0]


def recover(out: Path) -> None:
    """Put back the backup of an OUT whose replacement was killed between its two renames,
    then remove the temporaries of dead runs beside ``out``."""
    prefix = glob.escape(f".{out.name}{TMP_MARK}")  # OUT's name is matched as it is, not as a pattern
    backups = [p for p in out.parent.glob(f"{prefix}{OLD}*") if not _held(p) and p.is_dir()]
    if backups and not os.path.lexists(out):
        newest = max(backups, key=lambda p: p.stat().st_mtime)
        newest.rename(out)
        backups.remove(newest)
    for p in out.parent.glob(f"{prefix}*"):
        if p.name.split(TMP_MARK, 1)[1].startswith(OLD) and p not in backups:
            continue
        if not _held(p):
            _remove(p)


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    elif os.path.lexists(p):
        p.unlink()
