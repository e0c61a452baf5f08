"""Scores from true and predicted classes: accuracy, macro-F1, the confusion matrix."""

from __future__ import annotations

import numpy as np


def scores(y: np.ndarray, predicted: np.ndarray, k: int) -> dict:
    """Accuracy, macro-F1 (over the classes present in y or predicted) and the confusion matrix
    (rows: true class, columns: predicted), over rows with a known class."""
    known = y >= 0
    y, predicted = y[known], predicted[known]
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y, predicted), 1)
    return {"rows": int(len(y)), **scores_from(confusion), "confusion": confusion.tolist()}


def scores_from(confusion: np.ndarray) -> dict:
    """Accuracy and macro-F1 (over the classes that occur, as truth or prediction) of a (K, K)
    confusion matrix; None when it counts no rows."""
    total = int(confusion.sum())
    tp = np.diag(confusion).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = tp / confusion.sum(axis=0)
        recall = tp / confusion.sum(axis=1)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    present = (confusion.sum(axis=0) + confusion.sum(axis=1)) > 0
    return {"accuracy": float(tp.sum() / total) if total else None,
            "macro_f1": float(np.nan_to_num(f1[present]).mean()) if present.any() else None}
