"""Object storage: datasets and NPY exports at URIs (``s3://bucket/prefix``, ``gs://``,
``abfs://``, ``az://``, ``file://``), read and written through ``pyarrow.fs``.

A :class:`Uri` is plain strings (picklable: a worker process or a Dask task resolves its own
file system from it). Settings travel the way pyarrow takes them: in the environment
(``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_REGION``, ...) or in the URI's query
(``s3://bucket/data?endpoint_override=localhost:9000&scheme=http``), or ``user:key@`` before
the bucket. Messages show a URI without either (:func:`shown`).

Object stores have no atomic rename: how a write commits there is in :mod:`seqprep.objectstore`.
"""

from __future__ import annotations

import hashlib
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.fs as pafs

from .errors import InputError, UsageError

STORE_ERRORS = (OSError, pa.ArrowException)  # what a store's client raises (Azure's: ArrowException)

# pyarrow.fs's own schemes (hdfs needs a JVM; only s3 is tested here, against a local server)
REMOTE = ("s3", "gs", "gcs", "abfs", "abfss", "az", "hdfs")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_MANGLED = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):/[^/]")  # "s3://b/x" after pathlib: "s3:/b/x"


@dataclass(frozen=True)
class Uri:
    """An object-store location: ``scheme://base`` (no trailing slash), with what says how to
    reach it kept apart: the query (``?endpoint_override=...``) and any ``user:key@`` before the
    bucket. Neither is part of where the data is (:attr:`key`), nor shown (``str``)."""

    scheme: str
    base: str  # bucket/key..., after "scheme://" and any "user:key@"
    query: str = ""
    auth: str = ""  # "user:key" given before the bucket

    def __str__(self) -> str:  # what messages show: no keys, no settings
        return f"{self.scheme}://{self.base}"

    @property
    def full(self) -> str:
        """As given: what another process resolves the same store from."""
        auth = f"{self.auth}@" if self.auth else ""
        return f"{self.scheme}://{auth}{self.base}" + (f"?{self.query}" if self.query else "")

    @property
    def key(self) -> tuple:
        """Where the data is, however the URI reaches it: two URIs of one key are one place."""
        return {"gcs": "gs", "abfss": "abfs"}.get(self.scheme, self.scheme), self.base

    @property
    def name(self) -> str:
        return self.base.rsplit("/", 1)[-1]

    @property
    def parent(self) -> "Uri":
        return Uri(self.scheme, self.base.rsplit("/", 1)[0], self.query, self.auth)

    @property
    def is_root(self) -> bool:
        """A bucket or container itself, not a prefix inside one."""
        return "/" not in self.base

    def __truediv__(self, name: str) -> "Uri":
        return Uri(self.scheme, f"{self.base}/{name}", self.query, self.auth)

    def same(self, other: "Uri") -> bool:
        return self.key == other.key

    def contains(self, other: "Uri") -> bool:
        """``other`` is this location or under it."""
        (a, here), (b, there) = self.key, other.key
        return a == b and (there == here or there.startswith(here + "/"))

    def fs(self):
        """The file system and this location's path on it."""
        filesystem, root = _filesystem(self.scheme, self.base.split("/", 1)[0], self.query, self.auth)
        rest = self.base.split("/", 1)[1] if "/" in self.base else ""
        root = root.rstrip("/")
        return filesystem, f"{root}/{rest}" if rest else root


def parse(path) -> Uri | None:
    """``path`` as a :class:`Uri`, or None for a local path (``file://`` URIs included: see
    :func:`local`). A scheme seqprep does not know is refused."""
    path = str(path)
    m = _SCHEME.match(path)
    if not m:
        return None
    scheme = m[1].lower()
    if scheme == "file":
        return None
    if scheme not in REMOTE:
        raise UsageError(f"{path}: {scheme}:// is not a storage seqprep reads or writes "
                         f"({', '.join(s + '://' for s in REMOTE)}, file://, or a local path)")
    rest, _, query = path[m.end():].partition("?")
    auth = ""
    if scheme not in ("abfs", "abfss"):  # there, container@account is the host, not keys
        head, at, host = rest.partition("@")
        if at and "/" not in head:
            auth, rest = head, host
        bucket = rest.split("/", 1)[0]
        if any(c in bucket for c in "@:%"):  # no bucket name holds these: keys, badly written
            raise UsageError(f"{scheme}://...: the bucket name holds '@', ':' or '%', which no bucket name does; give "
                             "keys in the environment (AWS_ACCESS_KEY_ID, ...), not in the URI")
    rest = rest.strip("/")
    if not rest or any(part in ("", ".", "..") for part in rest.split("/")):
        raise UsageError(f"{scheme}://{rest.split('/', 1)[0] if auth == '' else '...'}: not a bucket and prefix "
                         "(scheme://bucket/prefix, no empty, '.' or '..' parts)")
    return Uri(scheme, rest, query, auth)


def local(path: str) -> str:
    """A local path for ``file:///abs/path`` (or ``file://localhost/...``); other paths as given."""
    text = str(path)
    if not text.lower().startswith("file://"):
        return text
    rest = text[len("file://"):]
    host, slash, tail = rest.partition("/")
    if host not in ("", "localhost") or not slash:
        raise UsageError(f"{text}: a file:// URI names a local path (file:///abs/path)")
    return unquote("/" + tail)


def shown(path) -> str:
    """``path`` as messages and reports show it: a URI without its keys and settings."""
    try:
        uri = parse(path)
    except UsageError:
        return str(path)
    return str(uri) if uri is not None else str(path)


def same_place(a: str, b: str) -> bool:
    """Whether two paths name one place: URIs by bucket and key, local paths by their real path."""
    ua, ub = parse(a), parse(b)
    if ua is not None or ub is not None:
        return ua is not None and ub is not None and ua.same(ub)
    return os.path.realpath(local(a)) == os.path.realpath(local(b))


def inside(a: str, b: str) -> bool:
    """Whether ``a`` is under ``b`` (or is it)."""
    from pathlib import Path

    ua, ub = parse(a), parse(b)
    if ua is not None or ub is not None:
        return ua is not None and ub is not None and ub.contains(ua)
    return Path(os.path.realpath(local(a))).is_relative_to(os.path.realpath(local(b)))


def where(path) -> "Uri | str":
    """What a dataset path names: a :class:`Uri`, or a local path (``file://`` taken off)."""
    return parse(path) or local(path)


def local_only(path, what: str) -> str:
    """``path`` where only a local file will do (a run directory, a stats file, a plot): a URI,
    or what pathlib makes of one (``s3:/b/x``), is refused rather than made a local folder."""
    if path is None or path == "-":
        return path
    text = str(path)
    if parse(text) is not None or _MANGLED.match(text):
        raise UsageError(f"{text}: {what} must be a local path (object storage holds datasets and NPY "
                         "exports only)")
    return local(text)


# ---------------------------------------------------------------------------------------------
# File systems, cached per process: one client per store and settings


_FILESYSTEMS: dict = {}


def _filesystem(scheme: str, first: str, query: str, auth: str = ""):
    key = (scheme, first, query, auth)
    if key not in _FILESYSTEMS:
        try:
            if scheme == "az":  # adlfs's spelling: the account comes from the environment
                account = os.environ.get("AZURE_STORAGE_ACCOUNT_NAME")
                if not account:
                    raise UsageError(f"az://{first}: az:// takes the account from AZURE_STORAGE_ACCOUNT_NAME; set it, "
                                     "or give abfs://container@account.dfs.core.windows.net/prefix")
                _FILESYSTEMS[key] = (pafs.AzureFileSystem(account_name=account), first)
            else:
                uri = f"{scheme}://{auth + '@' if auth else ''}{first}" + (f"?{query}" if query else "")
                _FILESYSTEMS[key] = pafs.FileSystem.from_uri(uri)
        except UsageError:
            raise
        except pa.ArrowInvalid as e:  # a setting pyarrow does not take: the user's to fix
            raise UsageError(f"{scheme}://{first}: {_scrubbed(first_line(e), query, auth)}") from None
        except (OSError, ValueError, pa.ArrowException) as e:
            raise InputError(f"{scheme}://{first}: cannot reach the store "
                             f"({_scrubbed(first_line(e), query, auth)})") from None
    return _FILESYSTEMS[key]


def _scrubbed(text: str, query: str, auth: str) -> str:
    """A client's message without the URI's keys and settings (pyarrow repeats the URI)."""
    for secret in (query, auth):
        if secret:
            text = text.replace(secret, "...")
    return text


def first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def fails(uri: Uri, e: Exception, doing: str = "read") -> InputError:
    """One line for a store's error (``AWS Error ACCESS_DENIED ...``), naming the object."""
    return InputError(f"{uri}: cannot be {doing} ({first_line(e)})")


# ---------------------------------------------------------------------------------------------
# What a location holds


@contextmanager
def _store(uri: Uri, doing: str = "read"):
    """``uri``'s file system and path; a store's error inside the block is one line naming ``uri``."""
    try:
        yield uri.fs()
    except STORE_ERRORS as e:
        raise fails(uri, e, doing) from None


def _info(uri: Uri):
    with _store(uri) as (filesystem, path):
        return filesystem.get_file_info(path)


def kind(uri: Uri) -> str:
    """"file", "dir" (a prefix holding objects, or a bucket) or "none"."""
    return {pafs.FileType.File: "file", pafs.FileType.Directory: "dir"}.get(_info(uri).type, "none")


def size(uri: Uri) -> int | None:
    """The object's size in bytes; None if there is no object there."""
    info = _info(uri)
    return info.size if info.type == pafs.FileType.File else None


def listing(uri: Uri) -> dict[str, int]:
    """Every object under ``uri``: its name relative to it (``a/b`` for a nested one), and size."""
    with _store(uri) as (filesystem, path):
        infos = filesystem.get_file_info(pafs.FileSelector(path, recursive=True, allow_not_found=True))
    return {i.path[len(path) + 1:]: i.size for i in infos if i.type == pafs.FileType.File}


def read_bytes(uri: Uri, limit: int) -> bytes:
    """A small object whole (a manifest), refused past ``limit`` bytes before it is read."""
    n = size(uri)
    if n is None:
        raise InputError(f"{uri}: no such object")
    if n > limit:
        raise InputError(f"{uri}: {n:,} bytes, more than seqprep reads for it ({limit:,}); regenerate it")
    with _store(uri) as (filesystem, path), filesystem.open_input_stream(path) as f:
        data = f.read(limit + 1)
    if len(data) > limit:  # replaced by a larger one since
        raise InputError(f"{uri}: more than {limit:,} bytes, more than seqprep reads for it; regenerate it")
    return data


def write_bytes(uri: Uri, data: bytes) -> None:
    with _store(uri, "written") as (filesystem, path), filesystem.open_output_stream(path) as f:
        f.write(data)


def open_input(uri: Uri):
    """A random-access file (Parquet's footer is at the end)."""
    with _store(uri) as (filesystem, path):
        return filesystem.open_input_file(path)


def sha256(uri: Uri) -> str:
    h = hashlib.sha256()
    with _store(uri) as (filesystem, path), filesystem.open_input_stream(path) as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def upload(local_path, uri: Uri) -> None:
    """A local file copied to ``uri``."""
    with _store(uri, "written") as (filesystem, path), open(local_path, "rb") as src, \
            filesystem.open_output_stream(path) as dst:
        while chunk := src.read(1 << 22):
            dst.write(chunk)


def copy(src: Uri, dst: Uri) -> None:
    """Within one store: a copy made by the store itself."""
    with _store(dst, "written") as (filesystem, path):
        filesystem.copy_file(src.fs()[1], path)


def delete(uri: Uri) -> None:
    with _store(uri, "deleted") as (filesystem, path):
        try:
            filesystem.delete_file(path)
        except FileNotFoundError:
            pass  # gone already


def delete_prefix(uri: Uri) -> None:
    """Every object under ``uri`` (best effort: what is left is only ever a temporary prefix)."""
    filesystem, path = uri.fs()
    try:
        filesystem.delete_dir(path)
    except STORE_ERRORS:
        pass


class HashingOutput:
    """A writable file for Arrow's writers that counts and hashes what it passes on to ``out``:
    a shard's size and sha256 without reading it back from the store."""

    closed = False

    def __init__(self, out):
        self.out = out
        self.hash = hashlib.sha256()
        self.bytes = 0

    def write(self, data) -> int:
        view = memoryview(data)
        self.hash.update(view)
        self.bytes += view.nbytes
        self.out.write(view)
        return view.nbytes

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        pass

    def tell(self) -> int:
        return self.bytes

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.out.close()


def open_output(uri: Uri) -> HashingOutput:
    with _store(uri, "written") as (filesystem, path):
        return HashingOutput(filesystem.open_output_stream(path))
