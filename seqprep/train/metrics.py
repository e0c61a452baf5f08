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
    return {"accuracy": float(np.trace(confusion) / total) if total else None,
            "macro_f1": float(macro_f1(confusion[None])[0]) if total else None}


def macro_f1(confusions: np.ndarray) -> np.ndarray:
    """Macro-F1 of each of B (K, K) confusion matrices (B, K, K): per class 2 tp / (2 tp + fp +
    fn) (the harmonic mean of precision and recall, 0 where tp is 0), averaged over the classes
    that occur as truth or prediction; 0 for a matrix that counts no rows."""
    tp = np.diagonal(confusions, axis1=1, axis2=2).astype(float)
    predicted, true = confusions.sum(axis=1), confusions.sum(axis=2)
    present = (predicted + true) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(present, 2 * tp / (predicted + true), 0.0)
    return f1.sum(axis=1) / np.maximum(present.sum(axis=1), 1)


def shares_ids(ids: np.ndarray) -> bool:
    """Whether rows share ids (windows or crops of one sequence): then they are scored per id too."""
    return len(np.unique(ids)) < len(ids)


def per_id(ids: np.ndarray, y: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of one id (windows, crops) merged: the mean of their probabilities; ids in order."""
    unique, inverse = np.unique(ids, return_inverse=True)
    sums = np.zeros((len(unique), probs.shape[1]))
    np.add.at(sums, inverse, probs)
    counts = np.bincount(inverse, minlength=len(unique))[:, None]
    labels = np.full(len(unique), -1, dtype=np.int64)
    labels[inverse] = y  # rows of one id share its label
    return unique, labels, sums / counts
