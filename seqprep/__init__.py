"""seqprep: turn very long sequences into model-ready fixed-length datasets."""

__version__ = "0.1.0"
