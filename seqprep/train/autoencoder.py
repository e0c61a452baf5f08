"""An encoder-decoder LSTM that learns a shorter representation: each chunk of C steps is
squeezed into a Z-dimensional code and rebuilt from it. Shapes: B chunks, C steps per chunk,
E input size, H hidden, Z code size, V vocabulary (token ids) or channels (readings)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from .. import __version__
from ..errors import InputError, UsageError, positive
from ..atomic import RUN_KINDS, AtomicDir, check_target
from ..ragged import Ragged
from .checkpoint import MAX_CHUNK, check_seed, check_training_floats, model_from, read, shapes
from .data import Arrays, check_fits, load, no_nan


@dataclass(frozen=True)
class AutoencoderConfig:
    chunk: int
    latent: int
    vocab_size: int | None  # token ids; None for readings
    channels: int = 1
    embed: int = 32
    hidden: int = 64
    kind: str = "autoencoder"


class ChunkAutoencoder(nn.Module):
    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        self.cfg = cfg
        self.inp = nn.Embedding(cfg.vocab_size, cfg.embed, padding_idx=0) if cfg.vocab_size else nn.Linear(cfg.channels, cfg.embed)
        self.encoder = nn.LSTM(cfg.embed, cfg.hidden, batch_first=True)
        self.to_code = nn.Linear(cfg.hidden, cfg.latent)
        self.decoder = nn.LSTM(cfg.latent, cfg.hidden, batch_first=True)
        self.out = nn.Linear(cfg.hidden, cfg.vocab_size or cfg.channels)

    def encode(self, chunks: torch.Tensor) -> torch.Tensor:
        """(B, C) ids or (B, C, channels) readings -> codes (B, Z)."""
        _, (h, _) = self.encoder(self.inp(chunks))  # h: (1, B, H)
        return self.to_code(h[-1])

    def forward(self, chunks: torch.Tensor) -> torch.Tensor:
        """The rebuilt chunks: (B, C, V) logits for ids, (B, C, channels) for readings."""
        code = self.encode(chunks)  # (B, Z)
        steps, _ = self.decoder(code[:, None, :].expand(-1, self.cfg.chunk, -1))  # (B, C, H)
        return self.out(steps)

    def error(self, chunks: torch.Tensor) -> torch.Tensor:
        """Reconstruction error: cross-entropy over ids, or mean squared error of readings."""
        rebuilt = self(chunks)
        if self.cfg.vocab_size:
            return nn.functional.cross_entropy(rebuilt.reshape(-1, rebuilt.shape[-1]), chunks.reshape(-1))
        return nn.functional.mse_loss(rebuilt, chunks)


def chunk_index(lengths: np.ndarray, c: int, *, partial: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which row each chunk of ``c`` steps comes from, its place in the row, and the chunk
    count per row. With ``partial`` a row's last, shorter chunk counts too."""
    per_row = -(-lengths // c) if partial else lengths // c
    row = np.repeat(np.arange(len(lengths)), per_row)
    k = np.arange(len(row)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    return row, k, per_row


def gather_chunks(values: np.ndarray, lengths: np.ndarray, starts: np.ndarray, row: np.ndarray, k: np.ndarray,
                  c: int) -> np.ndarray:
    """The chunks (row, k) of chunk_index: (n_chunks, c[, channels]), a short one padded with zeros (id 0)."""
    pos = (k * c)[:, None] + np.arange(c)[None, :]  # (n_chunks, c) positions within the row
    real = pos < lengths[row][:, None]
    flat = starts[row][:, None] + np.minimum(pos, lengths[row][:, None] - 1)
    out = values[flat]
    out[~real] = 0
    return out


def chunk_rows(values: np.ndarray, lengths: np.ndarray, starts: np.ndarray, c: int, *, partial: bool) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive chunks of ``c`` real steps of each row: (n_chunks, c[, channels]) and the chunk
    count per row. With ``partial`` the last, shorter chunk is padded with zeros (id 0)."""
    row, k, per_row = chunk_index(lengths, c, partial=partial)
    return gather_chunks(values, lengths, starts, row, k, c), per_row


def real_rows(a: Arrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat real steps, their row starts and lengths, for fixed- or variable-length data."""
    if a.offsets is not None:
        values = a.x[:, None] if a.vocab_size is None and a.x.ndim == 1 else a.x  # one channel: (n, 1)
        return values, a.offsets[:-1], a.lengths
    n, t = a.x.shape[0], a.x.shape[1]
    flat = a.x.reshape(n * t, *a.x.shape[2:])
    base = np.arange(n) * t
    starts = base + (t - a.lengths if a.pad_side == "start" else 0)
    return flat, starts, a.lengths


def train_autoencoder(data: str, run: str, *, chunk: int, latent: int, val: str | None = None, embed: int = 32,
                      hidden: int = 64, epochs: int = 10, batch_size: int = 64, lr: float = 1e-3, seed: int = 0,
                      overwrite: bool = False, on_epoch=None, budget_steps: int | None = None) -> dict:
    """Train the chunk autoencoder on the full chunks of ``data``; RUN/model.pt and metrics.jsonl
    (the reconstruction error per epoch, on ``val`` too when given). ``budget_steps``: stop after
    the batch whose steps read (chunks x chunk) reach it."""
    positive(("--chunk", chunk), ("--latent", latent), ("--epochs", epochs), ("--batch-size", batch_size),
             ("--embed", embed), ("--hidden", hidden), ("--budget-steps", budget_steps))
    check_training_floats(lr=lr)
    check_seed(seed)
    if chunk > MAX_CHUNK:
        raise UsageError(f"--chunk {chunk} must be at most {MAX_CHUNK}")
    check_target(run, inputs=(data,), overwrite=overwrite, replaces=RUN_KINDS)
    a = load(data, stream=False)  # the chunks of every row are held: not streamed
    values, starts, lengths = real_rows(a)
    chunks, _ = chunk_rows(values, starts=starts, lengths=lengths, c=chunk, partial=False)
    if len(chunks) == 0:
        raise InputError(f"{data}: no sequence has {chunk} steps; use a smaller --chunk")
    val_chunks = None
    if val is not None:
        v = load(val, stream=False)
        check_fits(v, a.vocab_size, a.channels, val)
        vv, vs, vl = real_rows(v)
        val_chunks = torch.from_numpy(chunk_rows(vv, vl, vs, chunk, partial=False)[0])
    torch.manual_seed(seed)
    cfg = AutoencoderConfig(chunk=chunk, latent=latent, vocab_size=a.vocab_size, channels=a.channels, embed=embed,
                            hidden=hidden)
    shapes(cfg, ChunkAutoencoder, f"--latent {latent} --embed {embed} --hidden {hidden} on "
           f"{a.vocab_size or 0:,} token ids / {a.channels} channel(s)", error=UsageError)
    model = ChunkAutoencoder(cfg)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    x = torch.from_numpy(chunks)
    order_rng = torch.Generator().manual_seed(seed)
    history = []
    out = AtomicDir(run, overwrite=overwrite, replaces=RUN_KINDS)
    try:
        with open(out.tmp / "metrics.jsonl", "w") as log:
            read = 0
            for epoch in range(1, epochs + 1):
                started = time.perf_counter()
                total, seen = 0.0, 0
                for rows in torch.split(torch.randperm(len(x), generator=order_rng), batch_size):
                    loss = model.error(x[rows])
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    total += loss.item() * len(rows)
                    seen += len(rows)
                    read += len(rows) * chunk
                    if budget_steps is not None and read >= budget_steps:
                        break
                record = {"epoch": epoch, "seconds": round(time.perf_counter() - started, 4),
                          "reconstruction_error": total / seen}
                if budget_steps is not None:
                    record["steps_read"] = read
                if val_chunks is not None and len(val_chunks):
                    with torch.no_grad():
                        record["val_reconstruction_error"] = model.error(val_chunks).item()
                history.append(record)
                log.write(json.dumps(record) + "\n")
                if on_epoch is not None:
                    on_epoch(record)
                if budget_steps is not None and read >= budget_steps:
                    break
        torch.save({"state_dict": model.state_dict(), "model": asdict(cfg), "chunks": int(len(x)),
                    "seqprep_version": __version__}, out.tmp / "model.pt")
        out.commit()
    except BaseException:
        out.abort()
        raise
    return {"run": run, "epochs": len(history), "history": history, "chunks": int(len(x))}


def load_encoder(run: str):
    """A function from a Ragged batch to its chunk codes (a Ragged of (n, Z) float32 values)."""
    ckpt, path = read(run, f"seqprep train DATA {run} --model autoencoder")
    if ckpt["model"].get("kind") != "autoencoder":
        raise InputError(f"{path}: not an autoencoder (it is a {str(ckpt['model'].get('kind', 'lstm'))[:40]} "
                         "classifier); train one with --model autoencoder")
    model = model_from(ckpt, path, AutoencoderConfig, ChunkAutoencoder, ("autoencoder",))
    cfg = model.cfg

    @torch.no_grad()
    def codes(rows: Ragged) -> Ragged:
        values = rows.values
        if cfg.vocab_size is not None:
            if not isinstance(values, np.ndarray) or values.dtype.kind not in "iu":
                raise InputError("the autoencoder was trained on token ids; encode the tokens with --stats first")
            if len(values) and int(values.min()) < 0:
                raise InputError(f"token id {int(values.min())} is negative; ids start at 0 (the padding id)")
            if len(values) and int(values.max()) >= cfg.vocab_size:
                raise InputError(f"token id {int(values.max())} is beyond the autoencoder's vocabulary of {cfg.vocab_size}")
            values = values.astype(np.int64)
        else:
            if not isinstance(values, np.ndarray) or values.dtype.kind != "f":
                raise InputError("the autoencoder was trained on readings, but seq holds token ids or tokens; use an "
                                 "autoencoder trained on this kind of data")
            values = values.astype(np.float32)
            if values.ndim == 1:
                values = values[:, None]
            if values.shape[1] != cfg.channels:
                raise InputError(f"{values.shape[1]} channel(s), but the autoencoder was trained on {cfg.channels}")
            no_nan(values, "the readings to encode")
        row, k, per_row = chunk_index(rows.lengths, cfg.chunk, partial=True)
        starts = rows.offsets[:-1]
        # 1,024 chunks a pass, fewer for long chunks: a pass holds about 2**24 numbers at most
        step = max(1, min(1024, 2**24 // (cfg.chunk * max(cfg.embed, cfg.hidden, cfg.channels))))
        out = [model.encode(torch.from_numpy(gather_chunks(values, rows.lengths, starts, row[i:i + step],
                                                           k[i:i + step], cfg.chunk)))
               for i in range(0, len(row), step)]
        z = torch.cat(out).numpy() if out else np.zeros((0, cfg.latent), np.float32)
        return Ragged.from_lengths(z.astype(np.float32), per_row)

    return codes, cfg
