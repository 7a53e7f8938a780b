"""The participants list's strip of dots: one per day of the last two weeks, in the
person's own days, each saying how that day's check-in went."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from service.core.enums import CheckInStatus, Labelled, Result
from service.core.local_time import zone

STRIP_DAYS = 14


class Dot(Labelled):
    """How one day went; where a day held two check-ins, the higher rank is shown."""

    NONE = "none", "No check-in that day", 0
    KEPT = "kept", "Kept", 1
    PARTLY = "partly", "Partly kept", 2
    NO_ANSWER = "no_answer", "No answer", 3
    NOT_KEPT = "not_kept", "Not kept", 4


@dataclass(frozen=True)
class Asked:
    """One of their own check-ins: when it was due, its status, the answers it got."""

    due_at: datetime
    status: str
    results: Sequence[str] = ()


def dot_of(status: str, results: Sequence[str]) -> Dot:
    """One check-in as a dot: every answer kept, some kept or partly, none kept, never
    answered (missed, or still open), or nothing asked (cancelled, not sent)."""
    if results:
        if all(r == Result.KEPT for r in results):
            return Dot.KEPT
        if all(r == Result.MISSED for r in results):
            return Dot.NOT_KEPT
        return Dot.PARTLY
    if status in (CheckInStatus.MISSED, CheckInStatus.OPEN, CheckInStatus.ANSWERED):
        return Dot.NO_ANSWER
    return Dot.NONE


def strip(
    asked: Iterable[Asked], tz: str | None, now: datetime, days: int = STRIP_DAYS
) -> list[tuple[date, Dot]]:
    """The last `days` days in zone `tz`, oldest first, ending today, each with its dot."""
    here = zone(tz)
    today = now.astimezone(here).date()
    first = today - timedelta(days=days - 1)
    found: dict[date, Dot] = {}
    for checkin in asked:
        day = checkin.due_at.astimezone(here).date()
        if not first <= day <= today:
            continue
        dot = dot_of(checkin.status, checkin.results)
        if day not in found or dot.rank > found[day].rank:
            found[day] = dot
    return [(d, found.get(d, Dot.NONE)) for d in (first + timedelta(days=i) for i in range(days))]


def strip_start(now: datetime, days: int = STRIP_DAYS) -> datetime:
    """The earliest due instant any zone's strip can show (read check-ins from here)."""
    return now - timedelta(days=days, hours=14)
