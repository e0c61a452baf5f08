"""PyTorch loaders for seqprep datasets: ``from seqprep.torch import SequenceDataset, pad_collate``.

Importing this module imports torch (``pip install torch``); ``import seqprep`` does not.
"""

from .train.loader import SequenceDataset, pad_collate

__all__ = ["SequenceDataset", "pad_collate"]
