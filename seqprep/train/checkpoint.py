"""Reading a run's model.pt back. A checkpoint is untrusted input: it is loaded with
``weights_only=True``, its config is type- and range-checked, and the model the config
implies is built on the meta device (no memory) and its weights' shapes compared with the
checkpoint's before a real model is allocated. So a damaged or crafted checkpoint is refused
with one line, before it can allocate gigabytes, loop for hours or give wrong answers."""

from __future__ import annotations

import dataclasses
import math
import os
import stat
from pathlib import Path

import torch

from .. import storage
from ..errors import InputError, UsageError

CHECKPOINT = "model.pt"
MAX_PARAMETERS = 2**28  # 1 GiB of float32 weights: far above any model seqprep trains
MAX_CHUNK = 4096  # steps per autoencoder chunk; the decoder unrolls that many steps per code
DAMAGED = "the checkpoint is damaged, train it again"


def read(run: str, hint: str) -> tuple[dict, Path]:
    """RUN/model.pt as the dict torch saved, refused with one line if it is anything else."""
    run = storage.local_only(run, "a run directory")
    path = Path(run) / CHECKPOINT
    if Path(run).exists() and not Path(run).is_dir():
        raise InputError(f"{run}: not a run directory (it is a file); give the directory `seqprep train` wrote")
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{run}: no {CHECKPOINT}; train one with `{hint}`") from None
    except OSError as e:
        raise InputError(f"{path}: cannot be read ({e.strerror})") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"{path}: not a regular file; {DAMAGED}")
    if os.path.getsize(path) == 0:
        raise InputError(f"{path}: empty (0 bytes); {DAMAGED}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch.load reports damage with many exception types
        first = (str(e).splitlines() or [type(e).__name__])[0][:200]
        raise InputError(f"{path}: not a checkpoint seqprep can load ({first}); {DAMAGED}") from None
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("model"), dict):
        what = f"a {type(ckpt).__name__}" if not isinstance(ckpt, dict) else "a dict without a 'model' config"
        raise InputError(f"{path}: holds {what}, not a seqprep checkpoint; {DAMAGED}")
    return ckpt, path


def _check_field(name: str, kind: str, value, where: str) -> None:
    """One config field: ints are ints (not bools, floats or strings) in [1, MAX_PARAMETERS];
    ``int | None`` may also be None; floats are finite; bools are bools; strings are strings."""
    def bad(why: str) -> InputError:
        return InputError(f"{where}: config {name}={value!r} {why}; {DAMAGED}")

    if value is None and "None" in kind:
        return
    if kind.startswith("int"):
        if type(value) is not int:
            raise bad("must be an integer")
        if not 1 <= value <= MAX_PARAMETERS:
            raise bad("must be >= 1" if value < 1 else f"must be at most {MAX_PARAMETERS}")
    elif kind == "float":
        if type(value) not in (int, float) or not math.isfinite(value):
            raise bad("must be a finite number")
    elif kind == "bool":
        if type(value) is not bool:
            raise bad("must be true or false")
    elif type(value) is not str:
        raise bad("must be a string")


def model_from(ckpt: dict, path: Path, config_class, builder, kinds: tuple[str, ...]):
    """The model a checkpoint holds, its config checked field by field and its weights'
    shapes checked against the model the config implies, before anything is allocated."""
    where = str(path)
    raw = ckpt["model"]
    names = [f.name for f in dataclasses.fields(config_class)]
    unknown = sorted(str(k) for k in raw if k not in names)
    if unknown:
        raise InputError(f"{where}: config has unknown field(s) {', '.join(unknown)[:200]}; {DAMAGED}")
    for f in dataclasses.fields(config_class):
        if f.name in raw:
            _check_field(f.name, f.type, raw[f.name], where)
        elif f.default is dataclasses.MISSING:
            raise InputError(f"{where}: config has no {f.name}; {DAMAGED}")
    cfg = config_class(**raw)
    if cfg.kind not in kinds:
        raise InputError(f"{where}: config kind={cfg.kind!r} must be one of {', '.join(kinds)}; {DAMAGED}")
    if getattr(cfg, "pool", "last") not in ("last", "mean", "max", "concat"):
        raise InputError(f"{where}: config pool={cfg.pool!r} must be one of last, mean, max, concat; {DAMAGED}")
    if not 0 <= getattr(cfg, "input_dropout", 0.0) < 1:
        raise InputError(f"{where}: config input_dropout={cfg.input_dropout!r} must be in [0, 1); {DAMAGED}")
    if not 0 <= getattr(cfg, "dropout", 0.0) < 1:
        raise InputError(f"{where}: config dropout={cfg.dropout!r} must be in [0, 1); {DAMAGED}")
    if getattr(cfg, "chunk", 1) > MAX_CHUNK:
        raise InputError(f"{where}: config chunk={cfg.chunk} must be at most {MAX_CHUNK}; {DAMAGED}")
    weights = ckpt.get("state_dict")
    if not isinstance(weights, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                for k, v in weights.items()):
        raise InputError(f"{where}: state_dict is missing or is not a dict of tensors; {DAMAGED}")
    if getattr(cfg, "layers", 1) * 4 > len(weights):  # each LSTM layer holds four tensors
        raise InputError(f"{where}: config layers={cfg.layers}, but the checkpoint holds only {len(weights)} "
                         f"tensors; {DAMAGED}")
    expected = shapes(cfg, builder, where)
    for key in sorted(set(expected) | set(weights)):
        got = tuple(weights[key].shape) if key in weights else None
        if got != expected.get(key):
            said = "missing" if got is None else f"of shape {got}"
            implied = expected[key] if key in expected else "no such weight"
            raise InputError(f"{where}: weight {key} is {said}, but the config implies {implied}; {DAMAGED}")
        t = weights[key]
        if t.layout != torch.strided or not t.dtype.is_floating_point or not bool(torch.isfinite(t).all()):
            raise InputError(f"{where}: weight {key} is not finite floating-point numbers; {DAMAGED}")
    model = builder(cfg)
    model.load_state_dict(weights)
    model.eval()
    return model


def shapes(cfg, builder, where: str, error=InputError) -> dict[str, tuple]:
    """The weights' shapes of the model ``cfg`` implies, built on the meta device (nothing
    allocated); refused past MAX_PARAMETERS."""
    with torch.device("meta"):
        net = builder(cfg)
    out = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    total = sum(math.prod(s) for s in out.values())
    if total > MAX_PARAMETERS:
        raise error(f"{where}: the model has {total:,} parameters, more than seqprep's limit of {MAX_PARAMETERS:,}"
                    + (f"; {DAMAGED}" if error is InputError else ""))
    return out


def check_training_floats(**options: float | None) -> None:
    """--lr and friends: finite and positive (None: not given)."""
    for name, value in options.items():
        if value is not None and not (math.isfinite(value) and value > 0):
            raise UsageError(f"--{name.replace('_', '-')} {value} must be a positive number")


def check_seed(seed: int) -> None:
    """torch takes seeds of 64 bits; seqprep's seeds are never negative."""
    if not 0 <= seed < 2**63:
        raise UsageError(f"--seed {seed} must be in 0..{2**63 - 1}")
