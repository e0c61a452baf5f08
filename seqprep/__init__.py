"""seqprep: turn very long sequences into model-ready fixed-length datasets.

The public Python API (``import seqprep as sp``):

- kernels on sequences in memory, pyarrow.compute-style: :func:`truncate`, :func:`pad`,
  :func:`paa`, :func:`sample`, :func:`windows` (:mod:`seqprep.compute`);
- datasets on disk: :func:`open` gives a :class:`Dataset` (rows, schema, lengths, labels,
  lineage, ``batches()``, ``to_arrow()``), and ``.apply(step, out)`` runs a step object
  (:class:`Truncate`, :class:`Sample`, :class:`Split`, :class:`Summarize`, :class:`Encode`)
  with the command line's contract (:mod:`seqprep.handle`); a padded dataset says how in a
  :class:`PadSpec` (length, side, value);
- PyTorch loaders: ``from seqprep.torch import SequenceDataset, pad_collate``;
- errors: :class:`SeqprepError` and its subclasses, what the CLI prints as one line.

Names are imported when first used, so ``import seqprep`` (and every CLI start) stays cheap.
"""

__version__ = "0.1.0"

_LAZY = {
    "truncate": "compute", "pad": "compute", "paa": "compute", "sample": "compute", "windows": "compute",
    "SeqprepError": "errors", "InputError": "errors", "UsageError": "errors", "OutputError": "errors",
    "open": "handle", "Dataset": "handle", "Truncate": "handle", "Sample": "handle", "Split": "handle",
    "Summarize": "handle", "Encode": "handle", "Padding": "handle", "PadSpec": "padding",
    "Vocabulary": "transformers", "KmerVocabulary": "transformers", "Hasher": "transformers", "OneHot": "transformers",
    "Standardizer": "transformers", "RowStandardizer": "transformers", "NotFittedError": "transformers",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'seqprep' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
