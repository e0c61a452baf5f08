"""Training LSTM classifiers (PyTorch is imported here, and only here)."""

from .run import evaluate, predict, train

__all__ = ["evaluate", "predict", "train"]
