"""Scores and predictions: accuracy, macro-F1, confusion matrix, per-id aggregation."""

from __future__ import annotations

import numpy as np
import torch

from .data import Arrays
from .loop import Batcher
from .metrics import per_id, scores  # noqa: F401 - evaluate's scores and per-id merge, as before
from .model import LSTMClassifier


STEPS_PER_PASS = 1 << 18  # padded steps one scoring pass holds (batch rows x its longest row)


@torch.no_grad()
def probabilities(model: LSTMClassifier, data: Arrays, device: torch.device, batch_size: int = 256) -> np.ndarray:
    """(N, K) class probabilities, in the rows' order. Rows are scored shortest first, so a
    batch of variable-length rows pads little, and a batch holds at most STEPS_PER_PASS
    padded steps (fewer rows where rows are long), so memory stays bounded."""
    model.eval()
    batches = Batcher(data, device)
    n = len(data.lengths)
    out = np.zeros((n, model.cfg.classes), np.float32)
    order = np.argsort(data.lengths, kind="stable")
    width = None if data.offsets is not None else int(data.x.shape[1])  # fixed-length rows are all this wide
    i = 0
    while i < n:
        longest = width or int(data.lengths[order[min(n, i + batch_size) - 1]])
        size = max(1, min(batch_size, STEPS_PER_PASS // max(1, longest)))
        rows = order[i:i + size]
        x, lengths, _ = batches.batch(torch.from_numpy(rows))
        out[rows] = torch.softmax(model(x, lengths).float(), dim=1).cpu().numpy()
        i += size
    return out
