"""Encode: tokens to ids (vocabulary or hashing), symbols to one-hot channels, k-mers, and
z-scored readings. Pure functions on flat values (numpy or Arrow) and ragged batches."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..options import InfMode, values
from ..errors import InputError, UsageError, positive
from ..ragged import Ragged

PAD_ID, UNKNOWN_ID, FIRST_ID = 0, 1, 2
INT32_MAX = 2**31 - 1
MAX_HASH = INT32_MAX - FIRST_ID + 1  # ids are int32: 2 + (N - 1) must fit
MAX_ONEHOT = 1024  # symbols, one channel each
MAX_KMER = 64  # longer k-mers are (nearly) all distinct: nothing left to count or look up
INF_MODES = values(InfMode)  # what an infinite reading does: stop the run, or count as NaN


def check_hash(buckets: int | None) -> None:
    positive(("--hash", buckets))
    if buckets is not None and buckets > MAX_HASH:
        raise UsageError(f"--hash {buckets} must be at most {MAX_HASH:,} (ids are int32: 2 + N - 1 must fit)")


def check_kmer(k: int | None, stride: int = 1) -> None:
    positive(("--kmer", k), ("--kmer-stride", stride))
    if k is not None and k > MAX_KMER:
        raise UsageError(f"--kmer {k} must be at most {MAX_KMER} (longer k-mers are all distinct)")
    if stride > INT32_MAX:
        raise UsageError(f"--kmer-stride {stride:,} must be at most {INT32_MAX:,}")


def check_inf(inf: str) -> None:
    if inf not in INF_MODES:
        raise UsageError(f"--inf {inf!r} must be one of {', '.join(INF_MODES)}")


def first_infinite(values: np.ndarray, offsets: np.ndarray, ids=None) -> str | None:
    """Where the first infinite reading of a batch is ("row with id 7, step 3, channel 1 holds
    inf"), or None when every reading is finite or NaN."""
    if not isinstance(values, np.ndarray) or values.dtype.kind != "f" or len(values) == 0:
        return None
    bad = np.isinf(values)
    if not bad.any():
        return None
    flat = int(np.flatnonzero(bad.reshape(len(values), -1).any(axis=1))[0])
    row = int(np.searchsorted(offsets, flat, side="right") - 1)
    where = f"row with id {ids[row]}" if ids is not None else f"row {row}"
    if values.ndim == 2:
        c = int(np.flatnonzero(np.isinf(values[flat]))[0])
        return f"{where}, step {flat - int(offsets[row])}, channel {c} holds {float(values[flat, c])}"
    return f"{where}, step {flat - int(offsets[row])} holds {float(values[flat])}"


def infinite_error(where: str) -> InputError:
    return InputError(f"{where}, not a finite reading; drop or fill it, "
                      "or pass --inf nan to treat infinite readings like NaN")


def vocab_ids(values, vocabulary: pa.Array) -> np.ndarray:
    """Token -> 2 + its position in ``vocabulary`` (most frequent first); unknown -> 1."""
    arr = values if isinstance(values, pa.Array) else pa.array(values)
    if len(vocabulary) == 0:
        return np.full(len(arr), UNKNOWN_ID, dtype=np.int32)
    index = pc.index_in(arr, value_set=vocabulary.cast(arr.type))
    ids = index.fill_null(UNKNOWN_ID - FIRST_ID).to_numpy(zero_copy_only=False).astype(np.int32)
    return ids + FIRST_ID


def stable_hash(token: str, buckets: int) -> int:
    """2 + (blake2b-64 of the token's UTF-8 bytes mod ``buckets``): the same in every process,
    machine and Python version (Python's own ``hash()`` is salted per process)."""
    digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
    return FIRST_ID + int.from_bytes(digest, "little") % buckets


def hash_ids(values, buckets: int) -> np.ndarray:
    """The hashing trick: each distinct token of the batch is hashed once."""
    check_hash(buckets)
    arr = values if isinstance(values, pa.Array) else pa.array(values)
    if len(arr) == 0:
        return np.zeros(0, dtype=np.int32)
    encoded = pc.dictionary_encode(arr.cast(pa.string()) if not pa.types.is_string(arr.type) else arr)
    # A null token (string padding) takes the padding id, the last entry of the table.
    table = np.array([stable_hash(t, buckets) for t in encoded.dictionary.to_pylist()] + [PAD_ID], dtype=np.int32)
    return table[encoded.indices.fill_null(len(table) - 1).to_numpy(zero_copy_only=False)]


def onehot(values: pa.Array, alphabet: str) -> np.ndarray:
    """One channel per symbol of ``alphabet``; any other token is all zeros. (n, len(alphabet))."""
    if not alphabet or len(set(alphabet)) != len(alphabet):
        raise UsageError(f"--onehot {alphabet!r} must list distinct symbols, e.g. ACGT")
    index = pc.index_in(values, value_set=pa.array(list(alphabet))).fill_null(len(alphabet))
    eye = np.vstack([np.eye(len(alphabet), dtype=np.float32), np.zeros((1, len(alphabet)), np.float32)])
    return eye[index.to_numpy(zero_copy_only=False)]


def kmers(batch: Ragged, *, k: int, stride: int = 1) -> Ragged:
    """Overlapping k-mers of one-character tokens as string tokens: k-mer j of a row joins
    tokens j*stride .. j*stride + k - 1; a row shorter than k has none."""
    check_kmer(k, stride)
    values = batch.values
    if not isinstance(values, pa.Array) or not pa.types.is_string(values.type):
        raise UsageError("--kmer needs one-character string tokens (bases), not numbers")
    data = np.zeros(0, np.uint8)
    if len(values):
        # A string array's offsets buffer, read at its slice; then its bytes, one per token.
        offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[values.offset:values.offset + len(values) + 1]
        if values.null_count or not np.all(np.diff(offsets) == 1):
            raise InputError("--kmer needs one-character tokens (bases); ingest FASTA or use --tokenizer char")
        data = np.frombuffer(values.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
    lens = batch.lengths
    per_row = np.where(lens >= k, (lens - k) // stride + 1, 0)
    row = np.repeat(np.arange(batch.n_rows), per_row)
    j = np.arange(len(row)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    starts = batch.offsets[:-1][row] + j * stride
    n = len(starts)
    if n * k > INT32_MAX:  # a string array's offsets are int32
        raise InputError(f"--kmer {k} makes {n:,} k-mers ({n * k:,} characters) in one batch of "
                         f"{batch.n_rows:,} rows, more than a string column holds ({INT32_MAX:,}); use a smaller "
                         "--kmer or a larger --kmer-stride")
    chars = data[starts[:, None] + np.arange(k)] if len(starts) else np.zeros((0, k), np.uint8)
    out = pa.StringArray.from_buffers(n, pa.py_buffer((np.arange(n + 1, dtype=np.int64) * k).astype(np.int32)),
                                      pa.py_buffer(chars.tobytes()))
    return Ragged.from_lengths(out, per_row)


def token_rows(batch: Ragged, *, lowercase: bool = False, kmer: int | None = None, kmer_stride: int = 1) -> Ragged:
    """The tokens that are counted and looked up: string tokens lowercased (``lowercase``), then
    turned into k-mers (``kmer``); the same for fitting and encoding, so both see one token."""
    if lowercase and isinstance(batch.values, pa.Array):
        batch = Ragged(pc.utf8_lower(batch.values), batch.offsets)
    if kmer is not None:
        batch = kmers(batch, k=kmer, stride=kmer_stride)
    return batch


def normalize(values: np.ndarray, mean: np.ndarray, std: np.ndarray, nan_value: float,
              inf: str = "error") -> tuple[np.ndarray, int, int]:
    """Z-score each channel with the training mean and std (a std of 0 counts as 1); NaN becomes
    ``nan_value``. An infinite reading is refused (``inf="error"``) or, with ``inf="nan"``,
    becomes ``nan_value`` too and is counted apart. Returns the float32 values, how many NaN
    and how many infinite readings were replaced."""
    check_inf(inf)
    std = np.where((std == 0) | ~np.isfinite(std), 1.0, std)
    x = values.astype(np.float64)
    nans = np.isnan(x)
    infinite = np.isinf(x)
    n_inf = int(infinite.sum())
    if n_inf and inf == "error":
        raise infinite_error(f"a reading of {float(x[infinite][0])}")
    with np.errstate(over="ignore", invalid="ignore"):
        out = ((x - mean) / std).astype(np.float32)
    overflow = ~np.isfinite(out) & ~nans & ~infinite
    if overflow.any():
        value = float(x[overflow][0])
        raise InputError(f"the reading {value} z-scores beyond float32's range; check the readings "
                         "(or the --normalize statistics)")
    count = int(nans.sum())
    if count or n_inf:
        out[nans | infinite] = nan_value
    return out, count, n_inf


def normalize_rows(batch: Ragged, nan_value: float, inf: str = "error") -> tuple[Ragged, int, int, int]:
    """Z-score each row and channel over its own real steps (population std), skipping NaN.

    A row whose channel has one distinct reading (a std of 0) becomes zeros there; a channel
    with no readings but NaN keeps only ``nan_value``. NaN becomes ``nan_value``; an infinite
    reading is refused (``inf="error"``) or, with ``inf="nan"``, treated as NaN and counted
    apart. Returns the float32 rows, how many NaN and infinite readings were replaced, and how
    many (row, channel) pairs were constant.
    """
    check_inf(inf)
    values = batch.values
    x = values.astype(np.float64).reshape(len(values), values.shape[1] if values.ndim == 2 else 1)  # (n, C)
    infinite = np.isinf(x)
    n_inf = int(infinite.sum())
    if n_inf and inf == "error":
        raise infinite_error(f"a reading of {float(x[infinite][0])}")
    nans = np.isnan(x)
    ok = ~(nans | infinite)
    lengths = batch.lengths
    rows = np.repeat(np.arange(batch.n_rows), lengths)
    starts = batch.offsets[:-1][lengths > 0]  # reduceat over non-empty rows only: each ends where the next starts
    count = np.zeros((batch.n_rows, x.shape[1]))
    mean = np.zeros_like(count)
    std = np.zeros_like(count)
    if len(starts):
        full = lengths > 0
        count[full] = np.add.reduceat(ok.astype(np.float64), starts, axis=0)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            mean[full] = np.add.reduceat(np.where(ok, x, 0.0), starts, axis=0) / np.maximum(count[full], 1)
            dev = np.where(ok, x - mean[rows], 0.0)
            std[full] = np.sqrt(np.add.reduceat(dev * dev, starts, axis=0) / np.maximum(count[full], 1))
    constant = (count > 0) & (std == 0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        z = (x - mean[rows]) / np.where(constant, 1.0, std)[rows]
    z[constant[rows] & ok] = 0.0
    out = z.astype(np.float32)
    overflow = ok & ~np.isfinite(out)
    if overflow.any():
        raise InputError(f"the reading {float(x[overflow][0])} is too large to z-score in float64; scale the "
                         "readings down first")
    out[~ok] = nan_value
    return Ragged(out.reshape(values.shape), batch.offsets), int(nans.sum()), n_inf, int(constant.sum())
