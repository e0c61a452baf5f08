"""options: counts given with a suffix (--budget, --budget-steps)."""

import pytest

from seqprep.errors import UsageError
from seqprep.options import count


@pytest.mark.parametrize("text, value", [("2000000", 2_000_000), ("500k", 500_000), ("500K", 500_000),
                                         ("2M", 2_000_000), ("2m", 2_000_000), ("1.5G", 1_500_000_000),
                                         ("1.5g", 1_500_000_000), ("1_000", 1000), ("3,000", 3000), (7, 7)])
def test_counts_with_suffixes(text, value):
    assert count(text, "--budget") == value


@pytest.mark.parametrize("text, message", [
    ("0", "budget=0 must be a positive whole number"), ("-5", "must be a positive whole number"),
    ("1.5", "must be a positive whole number"), ("abc", "must be a positive whole number"),
    ("nan", "must be a positive whole number"), ("2x", "must be a positive whole number"),
    ("999999999999999999999", "is too large: at most 9,223,372,036,854,775,807"),
    ("10G", None),
])
def test_bad_counts_say_what_is_wrong(text, message):
    if message is None:
        assert count(text, "--budget") == 10**10
        return
    with pytest.raises(UsageError, match=message):
        count(text, "--budget")
