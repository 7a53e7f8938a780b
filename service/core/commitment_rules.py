"""Step 4's rules: which commitment a change names, and when a shared one goes live."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

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


class Revision(StrEnum):
    """What a facilitator's edit of a commitment means for the participant."""

    NONE = "none"  # nothing changed
    KEEPS_AGREEMENT = "keeps_agreement"  # only its label or sign: they agreed to the words
    NEEDS_AGREEMENT = "needs_agreement"  # new wording: they are asked to AGREE again


def revision(old_text: str, new_text: str, changed_label: bool, changed_sign: bool) -> Revision:
    """They agreed to a commitment's wording (the agreement text quotes it in full), so only
    new wording needs their AGREE again; a new short label (what the daily texts call it) or
    sign of progress (the coach's measure) keeps the agreement and the check-ins going."""
    if " ".join(new_text.split()) != " ".join(old_text.split()):
        return Revision.NEEDS_AGREEMENT
    if changed_label or changed_sign:
        return Revision.KEEPS_AGREEMENT
    return Revision.NONE


def moved(order: list[int], target: int, offset: int) -> list[int]:
    """`order` (commitment ids) with `target` moved `offset` places (-1 up, 1 down), kept
    within the list; unchanged when `target` is not in it."""
    if target not in order:
        return list(order)
    result = [i for i in order if i != target]
    place = max(0, min(len(result), order.index(target) + offset))
    result.insert(place, target)
    return result


def still_asked(status: str) -> bool:
    """A retired commitment is never asked about again (its answers stay in its history)."""
    return status != CommitmentStatus.RETIRED
