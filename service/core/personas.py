"""Who is a test persona: the made-up participants of the admin's simulator.

A persona is named "Test persona …" and has a number in +1 202 555-0100…0199, a range
reserved for fiction: nobody's phone. A number in that range never reaches a carrier,
whatever the name on it; the simulator acts only as participants who are personas by both.
"""

from __future__ import annotations

PREFIX = "+1202555"
NAME = "Test persona"
FIRST, LAST = 100, 199  # the range's last four digits: 0100…0199


def number(n: int) -> str:
    """The persona number ending in 0`n` (FIRST ≤ n ≤ LAST)."""
    return f"{PREFIX}0{n}"


def is_persona_number(phone: str | None) -> bool:
    """Whether `phone` is in the personas' range (a fictional number)."""
    phone = phone or ""
    tail = phone.removeprefix(PREFIX)
    return (
        phone.startswith(PREFIX)
        and len(tail) == 4
        and tail.isdigit()
        and FIRST <= int(tail) <= LAST
    )


def is_persona(name: str | None, phone: str | None) -> bool:
    """Whether a participant is a test persona: a persona's name and a persona's number."""
    return is_persona_number(phone) and (name or "").startswith(NAME)
