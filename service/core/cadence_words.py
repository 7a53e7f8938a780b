"""A check-in cadence as people read it: `daily@19:00` is "Every day at 7:00 pm",
`days:0,2,4@19:00` is "Mon, Wed, Fri at 7:00 pm".

The words are passed in (`Words`), so the admin can give them in the facilitator's
language; English is the default. A stored value that is not a cadence comes back as it
is (an old row is shown, never hidden)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from service.core import schedule


@dataclass(frozen=True)
class Words:
    daily: str = "Every day at {at}"
    weekdays: str = "Weekdays (Mon–Fri) at {at}"
    days: str = "{days} at {at}"
    every: str = "Every {n} days at {at}"
    weekday_names: tuple[str, ...] = schedule.WEEKDAY_NAMES
    am: str = "am"
    pm: str = "pm"


ENGLISH = Words()


def clock(at: time, words: Words = ENGLISH) -> str:
    """'7:00 pm', '12:30 am': a 12-hour clock with the minutes always shown."""
    hour = at.hour % 12 or 12
    return f"{hour}:{at.minute:02d} {words.am if at.hour < 12 else words.pm}"


def describe(stored: str, words: Words = ENGLISH) -> str:
    """The stored cadence `stored` in words."""
    try:
        cadence = schedule.Cadence.parse(stored)
    except ValueError:
        return stored
    at = clock(cadence.at, words)
    if cadence.kind == schedule.DAYS:
        days = ", ".join(words.weekday_names[d] for d in sorted(cadence.days))
        return words.days.format(days=days, at=at)
    if cadence.kind == schedule.WEEKDAYS:
        return words.weekdays.format(at=at)
    if cadence.kind == schedule.EVERY_N_DAYS and cadence.n > 1:
        return words.every.format(n=cadence.n, at=at)
    return words.daily.format(at=at)
