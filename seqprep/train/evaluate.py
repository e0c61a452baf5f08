"""Scores and predictions: accuracy, macro-F1, confusion matrix, per-id aggregation."""

from __future__ import annotations

import numpy as np
import torch

from .data import Arrays
from .loop import Batcher
from .metrics import scores  # noqa: F401 - evaluate's scores, as before
from .model import LSTMClassifier


@torch.no_grad()
def probabilities(model: LSTMClassifier, data: Arrays, device: torch.device, batch_size: int = 256) -> np.ndarray:
    """(N, K) class probabilities."""
    model.eval()
    batches = Batcher(data, device)
    out = [torch.softmax(model(*batches.batch(rows)[:2]), dim=1).cpu() for rows in batches.in_order(batch_size)]
    return torch.cat(out).numpy() if out else np.zeros((0, model.cfg.classes), np.float32)


def per_id(ids: np.ndarray, y: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of one id (windows, crops) merged: the mean of their probabilities; ids in order."""
    unique, inverse = np.unique(ids, return_inverse=True)
    sums = np.zeros((len(unique), probs.shape[1]))
    np.add.at(sums, inverse, probs)
    counts = np.bincount(inverse, minlength=len(unique))[:, None]
    labels = np.full(len(unique), -1, dtype=np.int64)
    labels[inverse] = y  # rows of one id share its label
    return unique, labels, sums / counts
