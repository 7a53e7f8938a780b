"""The password rule: long enough, and not among the common ones."""

from service.core.passwords import MIN_LENGTH, weakness

COMMON = frozenset({"password1234", "qwertyuiop12"})


def test_long_and_uncommon_is_fine():
    assert weakness("correct horse battery", COMMON) is None
    assert weakness("x" * MIN_LENGTH, COMMON) is None


def test_too_short_says_how_long():
    assert weakness("x" * (MIN_LENGTH - 1), COMMON) == (
        "The password must be at least 12 characters long."
    )
    assert weakness("", COMMON) and weakness(None, COMMON)


def test_common_whatever_the_case_or_spaces():
    for guessable in ("password1234", "Password1234", " QWERTYUIOP12 "):
        assert "most common" in weakness(guessable, COMMON)
