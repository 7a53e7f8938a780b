"""Times as a person reads them: in their own zone, in words, never as UTC first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC_NAME = "UTC"


@dataclass(frozen=True)
class Words:
    """The words a time is told in; English by default, the admin passes the facilitator's."""

    today: str = "today"
    yesterday: str = "yesterday"
    tomorrow: str = "tomorrow"
    weekday_names: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    month_names: tuple[str, ...] = (
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    )  # fmt: skip
    am: str = "am"
    pm: str = "pm"


ENGLISH = Words()


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or UTC_NAME)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(UTC_NAME)


def clock(at: datetime, words: Words = ENGLISH) -> str:
    """'7:02 pm', '8 am'."""
    hour = at.hour % 12 or 12
    minutes = f":{at.minute:02d}" if at.minute else ""
    return f"{hour}{minutes} {words.am if at.hour < 12 else words.pm}"


def local(at: datetime, tz: str | None, now: datetime, words: Words = ENGLISH) -> str:
    """`at` in zone `tz`: 'today 7:02 pm', 'yesterday 9 am', 'Tue 3 Mar, 7:02 pm', or with
    the year when it is not this one. `now` says what today is (in that zone too)."""
    here = zone(tz)
    when, today = at.astimezone(here), now.astimezone(here).date()
    day = when.date()
    month = words.month_names[day.month - 1]
    if day == today:
        said = words.today
    elif day == today - timedelta(days=1):
        said = words.yesterday
    elif day == today + timedelta(days=1):
        said = words.tomorrow
    elif day.year == today.year:
        said = f"{words.weekday_names[day.weekday()]} {day.day} {month},"
    else:
        said = f"{day.day} {month} {day.year},"
    return f"{said} {clock(when, words)}"


def utc_title(at: datetime) -> str:
    """The exact instant, for a tooltip."""
    return at.astimezone(ZoneInfo(UTC_NAME)).strftime("%Y-%m-%d %H:%M UTC")


class Span(StrEnum):
    """The unit a time ago is counted in."""

    NOW = "now"
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


def elapsed(at: datetime, now: datetime) -> tuple[int, Span]:
    """How long ago `at` was, as people round it: (3, DAY) for "3 days ago"; (0, NOW)
    under a minute (or for a moment in the future, a clock skew)."""
    seconds = (now - at).total_seconds()
    for limit, size, span in (
        (60, 1, Span.NOW),
        (3600, 60, Span.MINUTE),
        (86400, 3600, Span.HOUR),
        (14 * 86400, 86400, Span.DAY),
        (61 * 86400, 7 * 86400, Span.WEEK),
        (365 * 86400, 30 * 86400, Span.MONTH),
    ):
        if seconds < limit:
            return (0, Span.NOW) if span is Span.NOW else (int(seconds // size), span)
    return int(seconds // (365 * 86400)), Span.YEAR
