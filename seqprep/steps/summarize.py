"""summarize: drop tokens by training frequency or a stop list; aggregate numeric steps."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..dataset import BATCH_ROWS
from ..engine import Progress
from ..errors import InputError, UsageError, positive
from ..fit import load_stats
from ..kernels.encode import first_infinite, infinite_error
from ..kernels.summarize import AGGS, aggregate, keep_values
from ..kernels.truncate import truncate_pad
from ..output import check_target, describe_steps, step_record
from ..padding import PadSpec
from ..dataset import open_source
from .common import ragged_of, with_seq, write

TOKEN_TYPES = ("string", "large_string", "int32", "int64")


STOPWORDS_LIMIT = 1 << 30  # bytes: a stop list larger than this is not a stop list
PAA_MAX = 1 << 24  # --paa segments per row: the segment bounds take 8 bytes x 4 arrays each


def read_stopwords(path: str, step_type: str) -> pa.Array:
    p = Path(path)
    try:
        if p.is_dir():
            raise InputError(f"{path}: is a directory; --stopwords takes a text file of tokens, one per line")
        if p.exists() and not p.is_file():
            raise InputError(f"{path}: not a regular file (a FIFO or device); --stopwords takes a text file")
        if p.exists() and p.stat().st_size > STOPWORDS_LIMIT:
            raise InputError(f"{path}: {p.stat().st_size:,} bytes, more than a stopwords file may hold "
                             f"({STOPWORDS_LIMIT:,})")
        words = [w.strip() for w in p.read_bytes().decode("utf-8").splitlines()]
    except FileNotFoundError:
        raise InputError(f"{path}: no such stopwords file") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not valid UTF-8 (byte {e.start}); save the stopwords file as UTF-8 text") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read the stopwords file ({e.strerror or e})") from None
    words = [w for w in words if w and not w.startswith("#")]
    if step_type in ("string", "large_string"):
        return pa.array(words, pa.string())
    ids = []
    for i, w in enumerate(words):
        try:
            ids.append(int(w))
        except ValueError:
            raise InputError(f"{path}: {w[:40]!r} is not an integer, but the data holds token ids, so stopwords "
                             "must be integers") from None
        if not -2**63 <= ids[-1] < 2**63:
            raise InputError(f"{path}: stopword {w[:40]} does not fit an int64 token id")
    return pa.array(ids, pa.int64())


def token_filter(stats: dict | None, step_type: str, *, drop_top: int | None, min_count: int | None,
                 stopwords: pa.Array | None):
    """A :class:`TokenMask`: from flat token values to the mask of tokens to keep."""
    drop = []
    keep_only = None
    if stats is not None:
        if stats.get("kind") != "tokens":
            raise InputError("the --stats file was fitted on numeric data, not tokens")
        if stats.get("params", {}).get("kmer"):
            raise InputError(f"the --stats file counted k-mers (fit --kmer {stats['params']['kmer']}), but summarize "
                             "drops the tokens themselves; fit again without --kmer")
        fitted_strings = stats.get("step_type") in ("string", "large_string")
        if fitted_strings != (step_type in ("string", "large_string")):
            raise InputError(f"the --stats file was fitted on {stats.get('step_type')} tokens, but seq holds {step_type}")
        tokens = pa.array(stats["tokens"], pa.string() if fitted_strings else pa.int64())
        counts = np.asarray(stats["counts"], dtype=np.int64)
        if drop_top:
            drop.append(tokens.slice(0, min(drop_top, len(tokens))))
        if min_count:
            keep_only = tokens.filter(pa.array(counts >= min_count))
    if stopwords is not None:
        drop.append(stopwords)
    return TokenMask(pa.concat_arrays(drop) if drop else None, keep_only)


@dataclass(frozen=True)
class TokenMask:
    """Which tokens to keep: not in ``dropped``, and in ``keep_only`` when there is one."""

    dropped: pa.Array | None
    keep_only: pa.Array | None

    def __call__(self, values) -> np.ndarray:
        if isinstance(values, np.ndarray):
            return _id_mask(values, self.dropped, self.keep_only)
        return _hash_mask(values, self.dropped, self.keep_only)


LOOKUP_LIMIT = 1 << 26  # token ids below this are looked up in a table, not hashed


def _hash_mask(values: pa.Array, dropped: pa.Array | None, keep_only: pa.Array | None) -> np.ndarray:
    """Which tokens to keep, by Arrow's hash lookup (strings, or ids outside the table)."""
    keep = np.ones(len(values), dtype=bool)
    if dropped is not None and len(dropped):
        keep &= ~pc.is_in(values, value_set=dropped.cast(values.type)).to_numpy(zero_copy_only=False)
    if keep_only is not None:
        keep &= pc.is_in(values, value_set=keep_only.cast(values.type)).to_numpy(zero_copy_only=False)
    return keep


def _id_mask(values: np.ndarray, dropped: pa.Array | None, keep_only: pa.Array | None) -> np.ndarray:
    """Which token ids to keep: a lookup table indexed by id (ids are small non-negative
    integers), or Arrow's hash lookup for ids outside it."""
    if len(values) == 0:
        return np.ones(0, dtype=bool)
    lo, hi = int(values.min()), int(values.max())
    if lo < 0 or hi >= LOOKUP_LIMIT:
        return _hash_mask(pa.array(values), dropped, keep_only)
    table = np.ones(hi + 1, dtype=bool)
    if keep_only is not None:
        table[:] = False
        ids = keep_only.to_numpy(zero_copy_only=False)
        table[ids[(ids >= 0) & (ids <= hi)]] = True
    if dropped is not None and len(dropped):
        ids = dropped.to_numpy(zero_copy_only=False)
        table[ids[(ids >= 0) & (ids <= hi)]] = False
    return np.take(table, values)  # faster than table[values]


def summarize(src: str, out: str, *, stats: str | None = None, drop_top: int | None = None,
              min_count: int | None = None, stopwords: str | None = None, paa: int | None = None,
              factor: int | None = None, agg: str = "mean", format: str = "parquet", overwrite: bool = False,
              batch_rows: int = BATCH_ROWS, progress: Progress | None = None,
           workers: int = 1, scheduler: str | None = None) -> dict:
    """Shorten sequences by dropping tokens (``drop_top``, ``min_count`` with ``stats``;
    ``stopwords``) or by aggregating numeric steps (``paa`` or ``factor`` with ``agg``)."""
    token_opts = drop_top is not None or min_count is not None or stopwords is not None
    number_opts = paa is not None or factor is not None
    if token_opts == number_opts:
        raise UsageError("give token options (--drop-top, --min-count, --stopwords) or numeric ones (--paa, --factor)")
    if (drop_top is not None or min_count is not None) and stats is None:
        raise UsageError("--drop-top and --min-count need --stats FILE (from `seqprep fit` on the training split)")
    positive(("--drop-top", drop_top), ("--min-count", min_count), ("--paa", paa), ("--factor", factor))
    if paa is not None and factor is not None:
        raise UsageError("give --paa or --factor, not both")
    if factor is not None and factor > 2**31 - 1:
        raise UsageError(f"--factor {factor:,} must be at most {2**31 - 1:,}")
    if paa is not None and paa > PAA_MAX:
        raise UsageError(f"--paa {paa:,} must be at most {PAA_MAX:,} segments per row")
    if agg not in AGGS:
        raise UsageError(f"--agg {agg!r} must be one of {', '.join(AGGS)}")
    if format not in ("parquet", "npy"):
        raise UsageError(f"--format {format!r} must be one of parquet, npy")
    if format == "npy" and token_opts:
        raise UsageError("--format npy applies to --paa and --factor; map tokens to ids with `seqprep encode "
                         "--length L --format npy`")
    check_target(out, inputs=(src, stats, stopwords), overwrite=overwrite)
    source = open_source(src)
    step_type = describe_steps(source.schema)["type"]
    if token_opts and step_type not in TOKEN_TYPES:
        raise UsageError(f"--drop-top, --min-count and --stopwords work on tokens, but seq holds {step_type} values")
    if number_opts and step_type not in ("float", "double", "halffloat"):
        raise UsageError(f"--paa and --factor work on numeric readings, but seq holds {step_type} tokens")
    params = {"stats": stats, "drop_top": drop_top, "min_count": min_count, "stopwords": stopwords,
              "paa": paa, "factor": factor, "agg": agg}
    lineage = source.lineage + [step_record("summarize", params, input_sha256=source.input_sha256)]
    mask = None
    if token_opts:
        mask = token_filter(load_stats(stats) if stats else None, step_type, drop_top=drop_top,
                            min_count=min_count, stopwords=read_stopwords(stopwords, step_type) if stopwords else None)
    length = out_padding = None
    if format == "npy":
        # Rows as long as the longest, as keras's pad_sequences(maxlen=None): --paa M makes every
        # non-empty row M steps, --factor F the longest row's ceil(T / F); empty rows are padded.
        if paa is None and source.is_stream:
            raise UsageError("--format npy with --factor needs the longest row, which a stream cannot tell "
                             "before it ends; write a dataset, then export it")
        if paa is None:
            from .split import longest_row

        length = max(1, paa if paa is not None else -(-longest_row(source) // factor))
        out_padding = PadSpec(length, "end", 0.0)
        params["format"] = format

    transform = SummarizeRows(mask, paa, factor, agg, out_padding, source.padding)
    return write(source, out, transform, format=format, lineage=lineage, padding=out_padding, overwrite=overwrite,
                 batch_rows=batch_rows, progress=progress, row_values=paa * 8 if paa else None,
                 workers=workers, scheduler=scheduler)


@dataclass(frozen=True)
class SummarizeRows:
    """A batch's rows shortened: tokens kept by ``mask``, or readings aggregated (``paa``
    segments or every ``factor`` steps, by ``agg``); padded as ``out`` says (None: lists)."""

    mask: TokenMask | None
    paa: int | None
    factor: int | None
    agg: str
    out: PadSpec | None
    padding_in: PadSpec | None

    def __call__(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, dict]:
        rows = ragged_of(batch, self.padding_in)
        if self.mask is not None:
            rows = keep_values(rows, self.mask(rows.values))
        else:  # an infinite reading would be averaged into its segment: refused, as fit does
            where = first_infinite(rows.values, rows.offsets, batch.column("id").to_numpy(zero_copy_only=False))
            if where is not None:
                raise infinite_error(where)
            rows = aggregate(rows, paa=self.paa, factor=self.factor, agg=self.agg)
        if self.out is None:
            return with_seq(batch, rows), {}
        out = truncate_pad(rows, length=self.out.length, side=self.out.side, value=self.out.value)
        return with_seq(batch, padded=out, length=self.out.length), {}
