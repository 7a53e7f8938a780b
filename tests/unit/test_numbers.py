"""Reading whole numbers from what callers send."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.core.numbers import INT_MAX, fits_integer_column, whole_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("7", 7),
        ("007", 7),
        ("2147483647", INT_MAX),
        ("0000000000002147483647", INT_MAX),
    ],
)
def test_plain_digits_within_the_column_range_are_read(text, expected):
    assert whole_number(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "²",  # str.isdigit() says yes; int() raises
        "١٢",  # int() reads it as 12
        "１２",  # full-width digits
        " 7",
        "7 ",
        "+7",
        "-7",
        "1_000",
        "1e3",
        "0x10",
        "7\n",
        "2147483648",  # one past PostgreSQL's integer
        "9223372036854775808",  # one past SQLite's
        "9" * 5000,
        None,
        7,
    ],
)
def test_anything_else_is_no_number(text):
    assert whole_number(text) is None


def test_a_smaller_maximum_holds():
    assert whole_number("86400", maximum=86400) == 86400
    assert whole_number("86401", maximum=86400) is None


@given(st.text(max_size=30))
def test_whatever_comes_in_is_none_or_a_number_in_range(text):
    value = whole_number(text)
    if value is not None:
        assert 0 <= value <= INT_MAX
        assert text == text.strip() and int(text) == value


# Where the core reads a number a participant typed or keyed ------------------------------


@pytest.mark.parametrize("digits", ["²", "١", "+"])
def test_a_key_that_is_no_plain_digit_chooses_nothing(digits):
    from service.core.choices import choose

    assert choose(["keep", "again"], digits, "") is None


def test_change_with_an_odd_number_changes_the_first_commitment():
    from service.core.commitment_rules import change_target

    assert change_target("² call every Sunday", 2) == (0, "² call every Sunday")
    assert change_target("2 call every Sunday", 2) == (1, "call every Sunday")


@pytest.mark.parametrize(
    ("value", "fits"),
    [
        (0, True),
        (INT_MAX, True),
        (-(2**31), True),
        (2**31, False),
        (-(2**31) - 1, False),
        ([1, 2**63], False),
        ([1, 2], True),
        ("9" * 30, True),  # not a number: another rule's business
        (True, True),
    ],
)
def test_only_values_an_integer_column_holds_fit(value, fits):
    assert fits_integer_column(value) is fits
