"""encode: tokens to ids, symbols to one-hot channels, readings z-scored; then cut to a length.

Each mode is one encoder object (:mod:`seqprep.transformers`, or the autoencoder's codes)
built from the options and the fitted file before any shard is read; :class:`EncodeBatch`
runs it on every batch.
"""

from __future__ import annotations

from dataclasses import asdict

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..dataset import BATCH_ROWS, open_source
from ..engine import Progress
from ..errors import SeqprepError, InputError, UsageError, positive
from ..fit import label_type_name, load_stats
from ..kernels.encode import (FIRST_ID, MAX_ONEHOT, PAD_ID, UNKNOWN_ID, check_hash, check_inf, check_kmer,
                              first_infinite, infinite_error)
from ..kernels.truncate import check_options as check_truncate
from ..kernels.truncate import truncate as truncate_kernel
from ..kernels.truncate import truncate_pad
from ..output import check_target, describe_steps, step_record
from ..padding import PadSpec
from ..ragged import Ragged
from .common import FORMATS, Padding, check_row_values, out_padding, ragged_of, with_seq, write

STRING_TYPES = ("string", "large_string")
TOKEN_TYPES = STRING_TYPES + ("int32", "int64")
FLOAT_TYPES = ("float", "double", "halffloat")
PER_ROW = "per-row"  # --normalize per-row: each row over its own steps, no stats file


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
    z-scores each channel with the training mean and std, or with ``"per-row"`` each row and
    channel over its own steps (constant ones become zeros, counted as ``constant_rows``).
    Labels are checked against the fitted classes. With ``length``, rows are then truncated
    (``keep``/``head``) and padded.
    """
    mode = check_options(stats=stats, hash=hash, onehot_alphabet=onehot_alphabet, autoencoder=autoencoder, kmer=kmer,
                         kmer_stride=kmer_stride, normalize_with=normalize_with, inf=inf, max_size=max_size,
                         min_count=min_count, length=length, keep=keep, head=head, padding=padding, format=format)
    if length is not None:
        head = check_truncate(length, keep, head)
    # The options' files are inputs too: OUT must not replace them.
    if not (isinstance(nan_value, (int, float)) and math.isfinite(nan_value)
            and abs(nan_value) <= float(np.finfo(np.float32).max)):
        raise UsageError(f"--nan-value {nan_value} must be a finite float32 number (what replaces NaN is a reading)")
    check_target(out, inputs=(src, stats, None if normalize_with == PER_ROW else normalize_with, autoencoder),
                 overwrite=overwrite)
    source = open_source(src)
    steps = describe_steps(source.schema)
    check_step_type(mode, steps["type"], kmer)
    if format == "npy" and length is None:  # as keras's pad_sequences(maxlen=None): the longest row
        if source.is_stream:
            raise UsageError("--format npy without --length pads to the longest row, which a stream cannot tell "
                             "before it ends; give --length")
        from .split import longest_row

        length = max(1, longest_row(source))  # from the rows themselves, not the manifest
    fitted = None
    if mode == "--normalize" and normalize_with != PER_ROW:
        fitted = load_stats(normalize_with, "--normalize")
    elif stats:
        fitted = load_stats(stats)
    encoder, info = encoder_for(mode, fitted, steps, stats=stats, hash=hash, onehot_alphabet=onehot_alphabet,
                                autoencoder=autoencoder, kmer=kmer, kmer_stride=kmer_stride,
                                normalize_with=normalize_with, nan_value=nan_value, inf=inf, max_size=max_size,
                                min_count=min_count, lowercase=lowercase)
    pad_value = PAD_ID if mode in ("--stats", "--hash") else 0.0
    transform = EncodeBatch(encoder, info["classes"], source.padding, ids_for_inf=mode == "--normalize" and inf == "error",
                            cut_first=length is not None and kmer is None and mode != "--autoencoder",
                            length=length, keep=keep, head=head,
                            out=out_padding(padding, length, pad_value))
    params = {"stats": stats, "hash": hash, "autoencoder": autoencoder, "onehot": onehot_alphabet, "kmer": kmer, "kmer_stride": kmer_stride,
              "normalize": normalize_with, "nan_value": nan_value, "max_size": max_size, "min_count": min_count,
              "lowercase": lowercase, "length": length, "keep": keep, "head": head, **asdict(padding), "format": format,
              **({"inf": inf} if mode == "--normalize" else {})}
    lineage = source.lineage + [step_record("encode", params, input_sha256=source.input_sha256)]
    row_values = None
    if length is not None and padding.pad:
        row_values = check_row_values(length, info.get("channels"), f"--length {length}")
    return write(source, out, transform, format=format, lineage=lineage, padding=transform.out, overwrite=overwrite,
                 extra={"encoding": info}, counts_into="encoding", classes=info["classes"], batch_rows=batch_rows,
                 progress=progress, workers=workers, scheduler=scheduler, row_values=row_values)


def check_options(*, stats, hash, onehot_alphabet, autoencoder, kmer, kmer_stride, normalize_with, inf, max_size,
                  min_count, length, keep, head, padding: Padding, format) -> str:
    """Every check of the options alone (before any file is read); returns the mode's flag."""
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
    if inf != "error" and modes != ["--normalize"]:
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
        check_truncate(length, keep, head)
    if format not in FORMATS:
        raise UsageError(f"--format {format!r} must be one of {', '.join(FORMATS)}")
    padding.check()
    if format == "npy" and not padding.pad:
        raise UsageError("--format npy needs fixed-length rows: give --length (and keep padding on)")
    if format == "npy" and length is None and (kmer is not None or autoencoder is not None):
        raise UsageError("--format npy needs fixed-length rows: give --length (k-mers and codes change the lengths)")
    if padding.value is not None:
        raise UsageError("encode pads with 0 (the padding id, or zeros); --pad-value does not apply")
    return modes[0]


def check_step_type(mode: str, step_type: str, kmer: int | None) -> None:
    """The mode fits what ``seq`` holds."""
    if mode == "--autoencoder" and kmer is not None:
        raise UsageError("--kmer does not combine with --autoencoder")
    if mode == "--normalize" and step_type not in FLOAT_TYPES:
        raise UsageError(f"--normalize works on numeric readings, but seq holds {step_type} tokens")
    if mode not in ("--normalize", "--autoencoder") and step_type not in TOKEN_TYPES:
        raise UsageError(f"{mode} works on tokens, but seq holds {step_type} readings; use --normalize")
    if mode == "--onehot" and step_type not in STRING_TYPES:
        raise UsageError(f"--onehot needs string tokens (symbols such as bases), but seq holds {step_type}")
    if kmer is not None and step_type not in STRING_TYPES:
        raise UsageError("--kmer needs one-character string tokens (bases), not numbers")


def encoder_for(mode: str, fitted: dict | None, steps: dict, *, stats, hash, onehot_alphabet, autoencoder, kmer,
                kmer_stride, normalize_with, nan_value, inf, max_size, min_count, lowercase) -> tuple[object, dict]:
    """The encoder for ``mode`` (its ``_encode(Ragged) -> (Ragged, counts)`` runs on each batch)
    and what the manifest records of it, as ``encoding``."""
    from ..transformers import Hasher, KmerVocabulary, OneHot, RowStandardizer, Standardizer, Vocabulary

    info: dict = {"mode": mode.lstrip("-"), "pad_id": PAD_ID, "nan_replaced": 0}
    if mode == "--normalize":
        info.update(inf=inf, inf_replaced=0)
    if fitted is not None and fitted.get("params", {}).get("kmer") != kmer and mode == "--stats":
        fitted_k = fitted["params"].get("kmer")
        raise InputError(f"the --stats file counted {f'k-mers of {fitted_k}' if fitted_k else 'tokens (no --kmer)'}, "
                         f"but --kmer is {kmer if kmer else 'not given'}; fit and encode with the same --kmer")
    if mode == "--autoencoder":
        encoder = Autoencoder(autoencoder)
        info.update(chunk=encoder.chunk, latent=encoder.latent, channels=encoder.latent, autoencoder=autoencoder)
    elif mode == "--stats":
        check_vocabulary(fitted, "string" if kmer else steps["type"])
        caps = {"max_size": max_size, "min_count": min_count, "lowercase": lowercase}
        # The file was checked as it was read (load_stats): no second pass over its tokens.
        encoder = (KmerVocabulary._from_checked(fitted, stats, stride=kmer_stride, **caps) if kmer
                   else Vocabulary._from_checked(fitted, stats, **caps))
        vocabulary = list(encoder.vocabulary_)
        info.update(unknown_id=UNKNOWN_ID, vocab_size=FIRST_ID + len(vocabulary), vocabulary=vocabulary)
    elif mode == "--hash":
        encoder = Hasher(hash, lowercase=lowercase, kmer=kmer, kmer_stride=kmer_stride)
        info.update(unknown_id=None, vocab_size=FIRST_ID + hash, hash="blake2b-64(utf-8) mod N + 2")
    elif mode == "--onehot":
        encoder = OneHot(onehot_alphabet, lowercase=lowercase)
        info.update(channels=len(onehot_alphabet), alphabet=onehot_alphabet)
    elif normalize_with == PER_ROW:
        encoder = RowStandardizer(inf=inf, nan_value=nan_value)
        channels = steps["channels"] or 1
        info.update(normalize=PER_ROW, channels=channels if channels > 1 else None, constant_rows=0)
    else:
        if fitted.get("kind") != "numbers":
            raise InputError(f"{normalize_with}: fitted on tokens; --normalize needs statistics of numeric readings")
        chan = fitted["channel_stats"]
        channels = steps["channels"] or 1
        if len(chan) != channels:
            raise InputError(f"{normalize_with}: fitted on {len(chan)} channel(s), but seq has {channels}")
        encoder = Standardizer._from_checked(fitted, normalize_with, inf=inf, nan_value=nan_value)
        mean = np.array([c["mean"] if c["mean"] is not None else 0.0 for c in chan]).tolist()
        std = np.array([c["std"] if c["std"] is not None else 1.0 for c in chan]).tolist()
        info.update(channels=channels if channels > 1 else None, mean=mean, std=std)
    info["classes"] = fitted.get("classes") if fitted is not None else None
    return encoder, info


def check_vocabulary(stats: dict, step_type: str) -> None:
    """A token stats file, fitted on the kind of tokens (strings or ids) to encode."""
    if stats.get("kind") != "tokens":
        raise InputError("the --stats file was fitted on numeric data; token ids need token statistics")
    fitted_strings = stats.get("step_type") in STRING_TYPES or stats.get("params", {}).get("kmer")
    if bool(fitted_strings) != (step_type in STRING_TYPES):
        raise InputError(f"the --stats file was fitted on {stats.get('step_type')} tokens, but the tokens to encode are {step_type}")


class Autoencoder:
    """Each chunk of a row replaced by its code from a run trained with ``--model autoencoder``."""

    def __init__(self, run: str):
        from ..train.autoencoder import load_encoder  # imports torch, only for this mode

        self.run = run
        self.to_codes, ae = load_encoder(run)
        self.chunk, self.latent = ae.chunk, ae.latent

    def __getstate__(self) -> dict:  # a worker loads the run again rather than pickle the model
        return {"run": self.run}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["run"])

    def _encode(self, rows: Ragged) -> tuple[Ragged, dict]:
        return self.to_codes(rows), {}


class EncodeBatch:
    """One batch through the encoder: labels checked against the fitted classes, rows cut to
    ``length`` (before encoding where that gives the same result for less work), encoded,
    then padded as ``out`` says. Returns the batch and what the encoder counted (the runner adds
    it up into the manifest's ``encoding``)."""

    def __init__(self, encoder, classes: list | None, padding_in: PadSpec | None, *, ids_for_inf: bool,
                 cut_first: bool, length: int | None, keep: str, head: int | None, out: PadSpec | None):
        self.encoder, self.classes, self.padding_in = encoder, classes, padding_in
        self.ids_for_inf, self.cut_first = ids_for_inf, cut_first
        self.length, self.keep, self.head, self.out = length, keep, head, out
        self.class_set = pa.array(classes) if classes else None

    def check_labels(self, batch: pa.RecordBatch) -> None:
        if self.class_set is None or "label" not in batch.schema.names or pa.types.is_null(batch.schema.field("label").type):
            return
        labels, class_set = batch.column("label"), self.class_set
        if label_type_name(labels.type) != label_type_name(class_set.type):
            raise InputError(f"the labels are {label_type_name(labels.type)}, but the stats file's classes are "
                             f"{label_type_name(class_set.type)}; fit and encode data with the same label type")
        unseen = labels.filter(pc.and_(pc.invert(pc.is_in(labels, value_set=class_set.cast(labels.type))),
                                       pc.is_valid(labels)))
        if len(unseen):
            raise InputError(f"label {unseen[0].as_py()!r} never appears in the training split the stats were "
                             f"fitted on (classes: {', '.join(map(str, self.classes))})")

    def __call__(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, dict]:
        self.check_labels(batch)
        length, keep, head = self.length, self.keep, self.head
        rows = ragged_of(batch, self.padding_in)
        if self.cut_first:
            # Mapping is token by token, so cutting first gives the same ids for fewer tokens.
            rows = truncate_kernel(rows, length=length, keep=keep, head=head)
        if self.ids_for_inf:
            ids = batch.column("id").to_numpy(zero_copy_only=False) if "id" in batch.schema.names else None
            where = first_infinite(rows.values, rows.offsets, ids)
            if where is not None:
                raise infinite_error(where)
        try:
            rows, counted = self.encoder._encode(rows)
        except SeqprepError:
            raise
        except ValueError as e:  # the transformers speak Python; here the data is at fault
            raise InputError(str(e).removeprefix("seqs: ")) from None
        if length is None:
            return with_seq(batch, rows), counted
        if self.out is not None:
            return with_seq(batch, padded=truncate_pad(rows, length=length, keep=keep, head=head, side=self.out.side,
                                                       value=self.out.value), length=length), counted
        cut = rows if self.cut_first else truncate_kernel(rows, length=length, keep=keep, head=head)
        return with_seq(batch, cut), counted
