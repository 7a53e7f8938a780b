"""Step 4's rules: which commitment a change names, and when a shared one goes live."""

from __future__ import annotations

from collections.abc import Iterable

from service.core.enums import CommitmentStatus
from service.core.numbers import whole_number


def change_target(argument: str, count: int) -> tuple[int, str]:
    """ "CHANGE 2 new words" names the second of `count` commitments; otherwise the first
    is meant. Returns (index from 0, the new wording)."""
    number, _, rest = argument.partition(" ")
    position = number.rstrip(").:")
    index = whole_number(position)
    if index is not None and rest.strip() and 1 <= index <= count:
        return index - 1, rest.strip()
    return 0, argument


def goes_live(copies: Iterable, wording: str) -> bool:
    """A commitment (and a partner's copy of a shared one) goes live only once every copy
    is agreed to this same wording."""
    return all(c.status == CommitmentStatus.AGREED and c.agreed_text == wording for c in copies)
