"""Whole numbers read from what callers send (URLs, forms, Twilio's fields).

`str.isdigit()` is true of '²' (which `int()` refuses) and `int()` reads '١٢', ' 7', '+7'
and '1_000'; and a number too large for its column makes the database raise. So a number
is read here only when it is plain ASCII digits within what every integer column holds.
"""

from __future__ import annotations

# PostgreSQL's `integer` (SQLite's is 64-bit): every id, count and code column we have.
INT_MAX = 2**31 - 1


def whole_number(text, *, maximum: int = INT_MAX) -> int | None:
    """`text` as a non-negative integer of ASCII digits no larger than `maximum`; None for
    anything else (empty, signs, spaces, other scripts' digits, too large)."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        return None
    if len(text.lstrip("0")) > len(str(maximum)):
        return None  # (spares int() a huge string)
    value = int(text)
    return value if value <= maximum else None


INT_MIN = -(2**31)


def fits_integer_column(value) -> bool:
    """Whether a value read for a query (a filter's) can be compared with an integer column:
    any int (or list of them) outside PostgreSQL's `integer` makes the database raise. Values
    of other types are not this rule's business."""
    if isinstance(value, list | tuple | set):
        return all(fits_integer_column(v) for v in value)
    if isinstance(value, bool) or not isinstance(value, int):
        return True
    return INT_MIN <= value <= INT_MAX
