"""The commit protocol in object storage, where nothing renames (local disk: :mod:`seqprep.atomic`).

An output is written under the temporary prefix ``.OUT.seqprep-tmp-PID-XXXXXXXX/`` beside OUT,
then committed in this order:

1. the commit marker ``OUT/_seqprep.commit`` is written: which temporary prefix, which objects
   come in, which go (a reader still reads the old OUT);
2. the old output's manifest is deleted (from here no reader takes OUT: no manifest, no
   dataset), then its other objects;
3. the new objects are copied in (a copy inside the store), the ones the new manifest lists
   and nothing else;
4. the new manifest is copied in last: the commit. The marker and the temporary prefix are
   then removed, best effort (a leftover is harmless), and so is the temporary prefix of an
   earlier commit to OUT that did not finish.

Ctrl-C and SIGTERM wait until step 4 is done (holdout: until both outputs are). A failure of
the store in steps 2-4 (or a SIGKILL) leaves OUT without a manifest but with its marker:
readers refuse it, naming what happened; ``--overwrite`` replaces it (the marker, naming only
seqprep's own kinds of objects, shows they are seqprep's); and the new output stays whole
under its temporary prefix (nothing is taken out of it before the commit). Two runs committing
to one OUT at once are not told apart: the last one to finish wins, or OUT is left as an
interrupted commit. A run killed before step 1 leaves the old
OUT and its temporary prefix (no lock tells a live run's prefix from a dead one's in a store:
remove such prefixes, or let a lifecycle rule expire them).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path

from . import atomic, storage
from .atomic import (DATA_KINDS, KIND_NAMES, MANIFEST_LIMIT, MANIFESTS, NPY_FILES, SHARD, TMP_MARK, AtomicDir,
                     _dir_kind, _names)
from .errors import OutputError, SeqprepError
from .storage import Uri

COMMIT = "_seqprep.commit"  # the marker of a commit under way (step 1 to 4)
LAST = (*MANIFESTS, "meta.json")  # what an output's manifest may be called: moved in last


def remote_kind(uri: Uri) -> str | None:
    """:func:`seqprep.atomic.made_by_seqprep` in object storage: "dataset", "npy", "empty" (no
    objects under the prefix), "interrupted" (a commit that did not finish: its marker, and
    only objects it names), or None (an object, or a prefix holding anything else)."""
    if storage.kind(uri) == "file":
        return None
    listed = storage.listing(uri)
    if not listed:
        return "empty"
    if any("/" in name for name in listed):
        return None

    def json_of(name):
        return _json(uri / name) if listed[name] <= MANIFEST_LIMIT else None

    if COMMIT in listed:
        m = _marker(uri)
        if not (m and isinstance(m.get("objects"), list) and _our_temporary(uri, m.get("temporary"))):
            return None
        named = {n for n in m["objects"] if isinstance(n, str)}
        kinds = all(SHARD.fullmatch(n) or n in LAST or n in NPY_FILES for n in named)
        return "interrupted" if kinds and all(n in named or n == COMMIT for n in listed) else None
    return _dir_kind(set(listed), json_of, listed.get, lambda n: storage.sha256(uri / n))


def _our_temporary(out: Uri, temporary) -> Uri | None:
    """The temporary prefix a marker names, if it is one of OUT's (``.OUT.seqprep-tmp-...`` beside it)."""
    if not isinstance(temporary, str):
        return None
    try:
        tmp = storage.parse(temporary)
    except SeqprepError:  # a damaged marker names nothing
        return None
    if tmp is None or tmp.key[0] != out.key[0] or tmp.parent.base != out.parent.base:
        return None
    if not tmp.name.startswith(f".{out.name}{TMP_MARK}"):
        return None
    return out.parent / tmp.name


def _json(uri: Uri):
    """A small JSON object's value; None if it is no JSON."""
    try:
        return json.loads(storage.read_bytes(uri, MANIFEST_LIMIT))
    except (ValueError, RecursionError):
        return None


def _marker(out: Uri) -> dict | None:
    """OUT's commit marker, if it has one that reads as one."""
    try:
        m = _json(out / COMMIT)
    except SeqprepError:  # none there, or too large
        return None
    return m if isinstance(m, dict) and m.get("format") == "seqprep-commit" else None


def interrupted_note(uri: Uri) -> str | None:
    """What a reader says of a prefix whose commit marker stands without a manifest."""
    listed = storage.listing(uri)
    if COMMIT not in listed or any(n in listed for n in LAST):
        return None
    tmp = _our_temporary(uri, (_marker(uri) or {}).get("temporary"))
    where = f" (the new output was whole under {tmp})" if tmp is not None else ""
    return (f"{uri}: a seqprep commit to it did not finish{where}, so it is no dataset now; run the command again "
            "with --overwrite")


def check_remote_target(uri: Uri, inputs: tuple, overwrite: bool, replaces: tuple) -> None:
    if uri.is_root:
        raise OutputError(f"{uri}: is a whole bucket; give OUT as a prefix inside it ({uri}/name)")
    for i in inputs:
        src = storage.parse(i) if i not in (None, "-") else None
        if src is None:
            continue
        if src.same(uri):
            raise OutputError(f"{uri}: OUT is the same as the input; write to another path")
        if uri.contains(src):
            raise OutputError(f"{uri}: OUT holds the input {src}; write to another path")
        if src.contains(uri):
            raise OutputError(f"{uri}: OUT is inside the input {src}; write to another path")
    if storage.kind(uri) == "none":
        return
    if not overwrite:
        raise OutputError(f"{uri}: already exists; pass --overwrite to replace it")
    kind = remote_kind(uri)
    if kind not in _replaceable(replaces):
        found = KIND_NAMES[kind] if kind else "an object or prefix holding objects seqprep did not write"
        raise OutputError(f"{uri}: --overwrite replaces only {_names(replaces)}, and this is {found}; remove it "
                          "yourself or write elsewhere")


class RemoteDir:
    """An output in object storage, written under a temporary prefix beside it and committed
    manifest last (see the module's docstring)."""

    def __init__(self, out: str, *, overwrite: bool = False, replaces: tuple = DATA_KINDS):
        self.out = storage.parse(out)
        self.overwrite = overwrite
        self.replaces = replaces
        self.tmp = self.out.parent / f".{self.out.name}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._manifest: tuple[str, bytes] | None = None
        self._begun = False  # step 1 done: the temporary prefix holds the only whole copy

    def put(self, name: str, data: bytes) -> None:
        """The manifest (written last, so it is the one :meth:`commit` copies in last)."""
        storage.write_bytes(self.tmp / name, data)
        self._manifest = (name, data)

    def present(self) -> str | None:
        return (remote_kind(self.out) or "other") if storage.kind(self.out) != "none" else None

    def commit(self, names: list | None = None) -> None:
        """Copy in ``names`` (default: what the manifest lists), then the manifest."""
        if self._manifest is None:
            raise OutputError(f"{self.out}: nothing to commit (no manifest was written)")
        last = self._manifest[0]
        names = sorted(set(names if names is not None else _listed(self._manifest)) - {last})
        new = storage.listing(self.tmp)
        missing = [n for n in [*names, last] if n not in new]
        if missing:
            raise OutputError(f"{self.out}: {missing[0]} went missing from the temporary prefix {self.tmp} while "
                              "writing; nothing was replaced")
        present = self.present()
        if present is not None:
            if not self.overwrite:
                raise OutputError(f"{self.out}: appeared while writing; pass --overwrite to replace it")
            if present not in _replaceable(self.replaces):
                raise OutputError(f"{self.out}: changed while writing and now holds objects seqprep did not make; "
                                  "nothing was replaced")
        old = storage.listing(self.out) if present is not None else {}
        earlier = _earlier_temporary(self.out) if COMMIT in old else None
        with signals_wait() as caught:
            storage.write_bytes(self.out / COMMIT, json.dumps(
                {"format": "seqprep-commit", "temporary": str(self.tmp), "objects": sorted({*names, last, *old})}
            ).encode())
            self._begun = True
            try:
                for name in LAST:  # first, the old output stops being one
                    if name in old:
                        storage.delete(self.out / name)
                for name in sorted(old):
                    if name not in names and name not in LAST and name != COMMIT:
                        storage.delete(self.out / name)
                for name in names:
                    storage.copy(self.tmp / name, self.out / name)
                storage.copy(self.tmp / last, self.out / last)  # the commit
                atomic.COMMITTED.append(storage.shown(self.out))
            except Exception as e:  # noqa: BLE001 - said in one line, with what is where now
                raise OutputError(f"{self.out}: the commit stopped after the old output was removed "
                                  f"({str(e).rstrip('.')}); it is no dataset now, and the new output is whole under "
                                  f"{self.tmp}: run the command again with --overwrite") from None
            self._begun = False
            for cleanup in (lambda: storage.delete(self.out / COMMIT), lambda: storage.delete_prefix(self.tmp),
                            lambda: earlier is not None and storage.delete_prefix(earlier)):
                try:
                    cleanup()
                except Exception:  # noqa: BLE001 - committed already; a leftover marker or temporary is harmless
                    pass
        if caught and caught is not _WAITING[0]:  # the outermost wait raises (holdout: after both)
            raise interrupted_after(caught, str(self.out))

    def take_back(self) -> None:
        listed = storage.listing(self.out)
        for name in sorted(listed, key=lambda n: n not in LAST):  # manifest first
            storage.delete(self.out / name)
        storage.delete_prefix(self.out)  # and the folder marker the client may have made

    def abort(self) -> None:
        if not self._begun:  # once the commit has begun, the temporary prefix is the new output
            storage.delete_prefix(self.tmp)


def _replaceable(replaces: tuple) -> tuple:
    """What an output may replace in object storage: also a data output's commit that did not finish."""
    return (*replaces, "interrupted") if "dataset" in replaces else replaces


def _listed(manifest: tuple[str, bytes]) -> list[str]:
    """The objects a manifest (or meta.json) we wrote lists."""
    name, data = manifest
    m = json.loads(data)
    if name == "meta.json":
        return list(m.get("files") or {})
    return [s["path"] for s in m.get("shards", [])]


def _earlier_temporary(out: Uri) -> Uri | None:
    """The temporary prefix named by the marker of an earlier commit to OUT that did not finish."""
    return _our_temporary(out, (_marker(out) or {}).get("temporary"))


_WAITING: list = [None]  # the caught-signals list of the outermost wait under way


@contextmanager
def signals_wait():
    """Ctrl-C and SIGTERM wait until the block ends (the signals caught are in the list yielded);
    only in the main thread, where Python's handlers run. Nested, the inner block shares the
    outer's list, and the outer one decides what to do (:func:`interrupted_after`)."""
    if _WAITING[0] is not None:
        yield _WAITING[0]
        return
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in saved:
        signal.signal(sig, lambda signum, frame: caught.append(signum))
    _WAITING[0] = caught
    try:
        yield caught
    finally:
        _WAITING[0] = None
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def interrupted_after(caught: list, what: str) -> OutputError:
    """The error for a signal that waited for a commit: exit 128 + its number."""
    error = OutputError(f"interrupted by {signal.Signals(caught[0]).name} during the commit, which was finished "
                        f"first: {what} {'are' if ' and ' in what else 'is'} the new output")
    error.exit_code = 128 + caught[0]
    return error


class StagedDir:
    """An output for object storage built on local disk first (an NPY export: its X.npy is
    written in place, at offsets), then uploaded under a :class:`RemoteDir`'s temporary prefix
    and committed as it is. Needs local room for the whole output (TMPDIR)."""

    def __init__(self, out: str, *, overwrite: bool = False, replaces: tuple = DATA_KINDS):
        import tempfile

        self.remote = RemoteDir(out, overwrite=overwrite, replaces=replaces)
        self.out = self.remote.out
        try:
            self.tmp = Path(tempfile.mkdtemp(prefix="seqprep-staged-"))
        except OSError as e:
            raise OutputError(f"TMPDIR: cannot stage {self.out} there ({e.strerror or e})") from None

    def put(self, name: str, data: bytes) -> None:
        (self.tmp / name).write_bytes(data)

    def present(self) -> str | None:
        return self.remote.present()

    def commit(self) -> None:
        try:
            files = sorted(self.tmp.iterdir())
            last = next(p for p in files if p.name in LAST)
            for p in files:
                if p is not last:
                    storage.upload(p, self.remote.tmp / p.name)
            self.remote.put(last.name, last.read_bytes())
            self.remote.commit([p.name for p in files])
        except BaseException:
            self.remote.abort()
            raise
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def take_back(self) -> None:
        self.remote.take_back()

    def abort(self) -> None:
        self.remote.abort()
        shutil.rmtree(self.tmp, ignore_errors=True)


def open_dir(out: str, *, overwrite: bool = False, replaces: tuple = DATA_KINDS, staged: bool = False):
    """Where an output directory is built: a local :class:`~seqprep.atomic.AtomicDir`, or in
    object storage a :class:`RemoteDir` (``staged``: a :class:`StagedDir`, for outputs written
    out of order)."""
    if storage.parse(out) is None:
        return AtomicDir(out, overwrite=overwrite, replaces=replaces)
    return (StagedDir if staged else RemoteDir)(out, overwrite=overwrite, replaces=replaces)
