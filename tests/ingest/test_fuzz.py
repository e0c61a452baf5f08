"""Fuzz the text readers: any input gives a dataset or one SeqprepError, never another exception."""

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqprep.errors import SeqprepError
from seqprep.ingest import IngestOptions, ingest

from ..conftest import listing

ALPHABET = string.ascii_letters + string.digits + ",:;?>@#{}[]\"' \t\n.-=é日\x00\r"


def lines_near(fragments: list[str]):
    """Text built from lines of the format's own pieces mixed with noise."""
    piece = st.one_of(st.sampled_from(fragments), st.text(ALPHABET, max_size=12))
    return st.lists(st.lists(piece, max_size=6).map("".join), max_size=10).map("\n".join)


FORMATS = {
    "ts": ["@univariate true", "@univariate false", "@dimensions 2", "@classLabel true a b", "@classLabel false",
           "@equalLength true", "@seriesLength 3", "@data", "1,2,3:a", "1,?:4,5:b", ":", "@timeStamps false"],
    "fasta": [">r1", ">r2 desc", "ACGT", "acgn", ";comment", "", ">"],
    "csv": ["text,label", "a b,x", '"q, r",y', '"unclosed', "a,b,c", ","],
    "jsonl": ['{"text": "a b", "label": "x"}', '{"text": 1}', '{"text": "c", "label": 2}', "[]", "{", "null",
              '{"label": "z"}'],
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_readers_never_crash(tmp_path_factory, fmt):
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(text=lines_near(FORMATS[fmt]), raw=st.binary(max_size=8))
    def check(text, raw):
        d = tmp_path_factory.mktemp(fmt)
        src = d / f"in.{fmt}"
        src.write_bytes(text.encode("utf-8") + raw)
        try:
            ingest(str(src), str(d / "out"), options=IngestOptions())
        except SeqprepError as e:
            assert str(e) and "\n" not in str(e)
            assert listing(d) == [f"in.{fmt}"]  # nothing written on failure
        else:
            assert (d / "out" / "_seqprep.json").exists()

    check()
