"""encode: tokens to ids, symbols to one-hot channels, readings z-scored; then cut to a length."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..dataset import BATCH_ROWS
from ..engine import Progress
from ..errors import InputError, UsageError, positive
from ..fit import label_type_name, load_stats
from ..kernels.encode import (FIRST_ID, PAD_ID, UNKNOWN_ID, check_hash, check_inf, check_kmer, first_infinite, hash_ids,
                              infinite_error, kmers, normalize, onehot, vocab_ids)
from ..kernels.truncate import check_options as check_truncate
from ..kernels.truncate import truncate as truncate_kernel
from ..kernels.truncate import truncate_pad
from ..output import check_target, describe_steps, step_record
from ..dataset import open_source
from ..ragged import Ragged
from .common import FORMATS, Padding, check_row_values, ragged_of, with_seq, write

STRING_TYPES = ("string", "large_string")
MAX_ONEHOT = 1024  # symbols, one channel each
TOKEN_TYPES = STRING_TYPES + ("int32", "int64")
FLOAT_TYPES = ("float", "double", "halffloat")


def mode_is_not_normalize(modes: list) -> bool:
    return modes != ["--normalize"]


def vocabulary(stats: dict, step_type: str, *, max_size: int | None, min_count: int | None) -> pa.Array:
    """The tokens that get their own id, most frequent first."""
    if stats.get("kind") != "tokens":
        raise InputError("the --stats file was fitted on numeric data; token ids need token statistics")
    fitted_strings = stats.get("step_type") in STRING_TYPES or stats.get("params", {}).get("kmer")
    if bool(fitted_strings) != (step_type in STRING_TYPES):
        raise InputError(f"the --stats file was fitted on {stats.get('step_type')} tokens, but the tokens to encode are {step_type}")
    tokens = pa.array(stats["tokens"], pa.string() if fitted_strings else pa.int64())
    if min_count is not None:
        tokens = tokens.filter(pa.array(np.asarray(stats["counts"], dtype=np.int64) >= min_count))
    if max_size is not None:
        tokens = tokens.slice(0, min(max_size, len(tokens)))
    return tokens


def encode(src: str, out: str, *, stats: str | None = None, hash: int | None = None, onehot_alphabet: str | None = None,
           autoencoder: str | None = None,
           kmer: int | None = None, kmer_stride: int = 1, normalize_with: str | None = None, nan_value: float = 0.0,
           inf: str = "error",
           max_size: int | None = None, min_count: int | None = None, lowercase: bool = False,
           length: int | None = None, keep: str = "end", head: int | None = None, padding: Padding = Padding(),
           format: str = "parquet", overwrite: bool = False, batch_rows: int = BATCH_ROWS,
           progress: Progress | None = None,
           workers: int = 1, scheduler: str | None = None) -> dict:
    """Turn prepared sequences into what a model eats.

    Tokens: ``stats`` (ids by training frequency rank: 0 padding, 1 unknown, 2 the most
    frequent), ``hash`` (2 + a stable hash mod N) or ``onehot_alphabet`` (one channel per
    symbol); ``kmer`` first turns one-character tokens into k-mers. Readings: ``normalize_with``
    z-scores each channel with the training mean and std. Labels are checked against the
    fitted classes. With ``length``, rows are then truncated (``keep``/``head``) and padded.
    """
    modes = [m for m, v in (("--stats", stats if hash is None and onehot_alphabet is None and autoencoder is None
                              else None), ("--hash", hash), ("--onehot", onehot_alphabet),
                            ("--normalize", normalize_with), ("--autoencoder", autoencoder)) if v is not None]
    if len(modes) != 1:
        raise UsageError("give one of --stats, --hash, --onehot (tokens), --normalize (readings) or --autoencoder"
                         + (f"; got {', '.join(modes)}" if modes else ""))
    positive(("--max-size", max_size), ("--min-count", min_count))
    check_hash(hash)
    check_kmer(kmer, kmer_stride)
    check_inf(inf)
    if inf != "error" and mode_is_not_normalize(modes):
        raise UsageError("--inf applies to readings with --normalize")
    if onehot_alphabet is not None and (not onehot_alphabet or len(set(onehot_alphabet)) != len(onehot_alphabet)
                                        or len(onehot_alphabet) > MAX_ONEHOT):
        raise UsageError(f"--onehot {onehot_alphabet[:40]!r} must list distinct symbols (at most {MAX_ONEHOT}), "
                         "e.g. ACGT")
    if (max_size is not None or min_count is not None) and modes != ["--stats"]:
        raise UsageError("--max-size and --min-count cap the --stats vocabulary")
    if kmer is not None and onehot_alphabet is not None:
        raise UsageError("--kmer makes tokens for --stats or --hash, not --onehot")
    if length is not None:
        head = check_truncate(length, keep, head)
    if format not in FORMATS:
        raise UsageError(f"--format {format!r} must be one of {', '.join(FORMATS)}")
    padding.check()
    if format == "npy" and (length is None or not padding.pad):
        raise UsageError("--format npy needs fixed-length rows: give --length (and keep padding on)")
    check_target(out, inputs=(src,), overwrite=overwrite)
    source = open_source(src)
    step_type = describe_steps(source.schema)["type"]
    mode = modes[0]
    if mode == "--autoencoder" and kmer is not None:
        raise UsageError("--kmer does not combine with --autoencoder")
    if mode == "--normalize" and step_type not in FLOAT_TYPES:
        raise UsageError(f"--normalize works on numeric readings, but seq holds {step_type} tokens")
    if mode not in ("--normalize", "--autoencoder") and step_type not in TOKEN_TYPES:
        raise UsageError(f"{mode} works on tokens, but seq holds {step_type} readings; use --normalize")
    if mode == "--onehot" and step_type not in STRING_TYPES:
        raise UsageError(f"--onehot needs string tokens (symbols such as bases), but seq holds {step_type}")

    fitted = None
    if mode == "--normalize":
        fitted = load_stats(normalize_with, "--normalize")
    elif stats:
        fitted = load_stats(stats)
    info: dict = {"mode": mode.lstrip("-"), "pad_id": PAD_ID, "nan_replaced": 0}
    if mode == "--normalize":
        info.update(inf=inf, inf_replaced=0)
    if fitted is not None and fitted.get("params", {}).get("kmer") != kmer and mode == "--stats":
        fitted_k = fitted["params"].get("kmer")
        raise InputError(f"the --stats file counted {f'k-mers of {fitted_k}' if fitted_k else 'tokens (no --kmer)'}, "
                         f"but --kmer is {kmer if kmer else 'not given'}; fit and encode with the same --kmer")
    vocab = None
    if mode == "--autoencoder":
        from ..train.autoencoder import load_encoder  # imports torch, only for this mode

        to_codes, ae = load_encoder(autoencoder)
        info.update(chunk=ae.chunk, latent=ae.latent, channels=ae.latent, autoencoder=autoencoder)
    elif mode == "--stats":
        vocab = vocabulary(fitted, "string" if kmer else step_type, max_size=max_size, min_count=min_count)
        info.update(unknown_id=UNKNOWN_ID, vocab_size=FIRST_ID + len(vocab), vocabulary=vocab.to_pylist())
    elif mode == "--hash":
        info.update(unknown_id=None, vocab_size=FIRST_ID + hash, hash="blake2b-64(utf-8) mod N + 2")
    elif mode == "--onehot":
        info.update(channels=len(onehot_alphabet), alphabet=onehot_alphabet)
    else:
        if fitted.get("kind") != "numbers":
            raise InputError(f"{normalize_with}: fitted on tokens; --normalize needs statistics of numeric readings")
        chan = fitted["channel_stats"]
        channels = describe_steps(source.schema)["channels"] or 1
        if len(chan) != channels:
            raise InputError(f"{normalize_with}: fitted on {len(chan)} channel(s), but seq has {channels}")
        mean = np.array([c["mean"] if c["mean"] is not None else 0.0 for c in chan])
        std = np.array([c["std"] if c["std"] is not None else 1.0 for c in chan])
        if channels == 1:
            mean, std = mean[0], std[0]
        info.update(channels=channels if channels > 1 else None, mean=np.atleast_1d(mean).tolist(),
                    std=np.atleast_1d(std).tolist())
    classes = fitted.get("classes") if fitted is not None else None
    info["classes"] = classes
    class_set = pa.array(classes) if classes else None

    def encode_values(rows: Ragged) -> Ragged:
        values = rows.values
        if lowercase and isinstance(values, pa.Array):
            values = pc.utf8_lower(values)
            rows = Ragged(values, rows.offsets)
        if kmer is not None:
            rows = kmers(rows, k=kmer, stride=kmer_stride)
            values = rows.values
        if mode == "--stats":
            return Ragged(vocab_ids(values, vocab), rows.offsets)
        if mode == "--hash":
            return Ragged(hash_ids(values, hash), rows.offsets)
        if mode == "--onehot":
            return Ragged(onehot(values, onehot_alphabet), rows.offsets)
        if mode == "--autoencoder":
            return to_codes(rows)
        normalized, nans, infs = normalize(values, mean, std, nan_value, inf)
        info["nan_replaced"] += nans
        info["inf_replaced"] += infs
        return Ragged(normalized, rows.offsets)

    def transform(batch: pa.RecordBatch) -> pa.RecordBatch:
        if class_set is not None and "label" in batch.schema.names and not pa.types.is_null(batch.schema.field("label").type):
            labels = batch.column("label")
            if label_type_name(labels.type) != label_type_name(class_set.type):
                raise InputError(f"the labels are {label_type_name(labels.type)}, but the stats file's classes are "
                                 f"{label_type_name(class_set.type)}; fit and encode data with the same label type")
            unseen = labels.filter(pc.and_(pc.invert(pc.is_in(labels, value_set=class_set.cast(labels.type))),
                                           pc.is_valid(labels)))
            if len(unseen):
                raise InputError(f"label {unseen[0].as_py()!r} never appears in the training split the stats were "
                                 f"fitted on (classes: {', '.join(map(str, classes))})")
        rows = ragged_of(batch, source.padding)
        if cut_first:
            # Mapping is token by token, so cutting first gives the same ids for fewer tokens.
            rows = truncate_kernel(rows, length=length, keep=keep, head=head)
        if mode == "--normalize" and inf == "error":
            where = first_infinite(rows.values, rows.offsets, batch.column("id").to_numpy(zero_copy_only=False)
                                   if "id" in batch.schema.names else None)
            if where is not None:
                raise infinite_error(where)
        rows = encode_values(rows)
        if length is None:
            return with_seq(batch, rows)
        if padding.pad:
            return with_seq(batch, padded=truncate_pad(rows, length=length, keep=keep, head=head, side=padding.side,
                                                       value=pad_value), length=length)
        return with_seq(batch, rows if cut_first else truncate_kernel(rows, length=length, keep=keep, head=head))

    transform.tallies = info  # nan_replaced: the engine adds up what each worker counted
    cut_first = length is not None and kmer is None and mode != "--autoencoder"
    pad_value = PAD_ID if mode in ("--stats", "--hash") else 0.0
    if padding.value is not None:
        raise UsageError("encode pads with 0 (the padding id, or zeros); --pad-value does not apply")
    out_padding = {"length": length, "side": padding.side, "value": pad_value} if length is not None and padding.pad else None
    params = {"stats": stats, "hash": hash, "autoencoder": autoencoder, "onehot": onehot_alphabet, "kmer": kmer, "kmer_stride": kmer_stride,
              "normalize": normalize_with, "nan_value": nan_value, "max_size": max_size, "min_count": min_count,
              "lowercase": lowercase, "length": length, "keep": keep, "head": head, **asdict(padding), "format": format,
              **({"inf": inf} if mode == "--normalize" else {})}
    lineage = source.lineage + [step_record("encode", params, input_sha256=source.input_sha256)]
    row_values = None
    if length is not None and padding.pad:
        row_values = check_row_values(length, info.get("channels"), f"--length {length}")
    return write(source, out, transform, format=format, lineage=lineage, padding=out_padding, overwrite=overwrite,
                 extra={"encoding": info}, classes=classes, batch_rows=batch_rows, progress=progress,
                 workers=workers, scheduler=scheduler, row_values=row_values)
