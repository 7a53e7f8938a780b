"""Check-in scheduling maths: cadences, the waking window, DST-safe local times.

Every instant that crosses this module's boundary is a timezone-aware datetime; results are
always in UTC. Local ("wall-clock") reasoning happens with `zoneinfo` for the participant's zone.

DST rules, applied everywhere a local wall time is turned into an instant:
- a wall time inside a spring-forward gap moves to the first instant after the gap;
- an ambiguous wall time (fall-back) means its first occurrence (fold=0), except for the end
  of the waking window, which means its last occurrence (the window stays open until the
  clock has read `end` for the final time that day).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "Cadence",
    "QuietHours",
    "is_allowed",
    "ladder_cadence",
    "local_end_of_day",
    "next_allowed",
    "next_due",
    "next_local_morning",
    "nudge_time",
    "validate_tz",
]

_MINUTE = timedelta(minutes=1)
_SECOND = timedelta(seconds=1)
_DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Anchor for every-N-days cadences when the caller has no program start date.
_DEFAULT_ANCHOR = date(1970, 1, 1)
# Offset changes are hours (in practice months) apart, so hourly probing cannot miss one.
_PROBE = timedelta(hours=1)
# Safety valve for loops that provably end within a few iterations.
_MAX_STEPS = 64


# --- time zones ------------------------------------------------------------------------------


def validate_tz(name: str) -> str:
    """Return `name` stripped if zoneinfo knows it; otherwise raise ValueError."""
    if not isinstance(name, str):
        raise ValueError(f"time zone must be a string, got {type(name).__name__}")
    key = name.strip()
    if not key:
        raise ValueError("time zone is empty")
    try:
        ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: keys naming a tzdata directory (e.g. "America") fail with IsADirectoryError.
        raise ValueError(f"unknown time zone {name!r} (expected e.g. 'America/New_York')") from None
    return key


@lru_cache(maxsize=256)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(validate_tz(tz))


def _as_utc(instant: datetime, what: str = "instant") -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {instant!r}")
    return instant.astimezone(UTC)


def _wall(zone: ZoneInfo, u: datetime) -> datetime:
    """Naive local wall-clock time of the UTC instant `u`."""
    return u.astimezone(zone).replace(tzinfo=None)


def _offset(zone: ZoneInfo, u: datetime) -> timedelta:
    return u.astimezone(zone).utcoffset()  # type: ignore[return-value]


def _posix(u: datetime) -> int:
    return (u - _EPOCH) // _SECOND


def _next_transition(zone: ZoneInfo, u: datetime, horizon: timedelta) -> datetime | None:
    """First instant in (u, u + horizon] whose UTC offset differs from the offset at `u`."""
    off = _offset(zone, u)
    lo, end = u, u + horizon
    while lo < end:
        hi = min(lo + _PROBE, end)
        if _offset(zone, hi) != off:
            # tzdata transitions fall on whole seconds, so bisect over POSIX seconds.
            a, b = _posix(lo), -((_EPOCH - hi) // _SECOND)
            while b - a > 1:
                mid = (a + b) // 2
                if _offset(zone, _EPOCH + mid * _SECOND) == off:
                    a = mid
                else:
                    b = mid
            return _EPOCH + b * _SECOND
        lo = hi
    return None


def _resolve(zone: ZoneInfo, wall: datetime, *, fold: int = 0) -> datetime:
    """UTC instant of the naive local `wall` time (see the module docstring for DST rules)."""
    u = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
    if _wall(zone, u) == wall:
        return u
    # `wall` is in a gap: the two folds read it with the offsets either side of the
    # transition, so they bracket it; the transition itself is the first instant after the gap.
    other = wall.replace(tzinfo=zone, fold=1 - fold).astimezone(UTC)
    lo, hi = min(u, other), max(u, other)
    return _next_transition(zone, lo, hi - lo) or hi


# --- the waking window -----------------------------------------------------------------------


@dataclass(frozen=True)
class QuietHours:
    """The participant's *waking window*: messages may go out only in [start, end) local time.

    The name is historical; everything outside the window is the quiet time. The window never
    wraps past midnight (start < end is required).
    """

    start: time = time(8, 0)
    end: time = time(21, 0)

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(f"QuietHours.{name} must be a naive time, got {value!r}")
        if not self.start < self.end:
            raise ValueError(
                f"waking window must start before it ends, got {self.start:%H:%M}-{self.end:%H:%M}"
            )

    def contains(self, wall: time) -> bool:
        """Whether the local wall-clock time `wall` is inside the window."""
        return self.start <= wall.replace(tzinfo=None) < self.end

    @property
    def last(self) -> time:
        """Latest time a check-in is scheduled for: one minute before the window closes."""
        last = (datetime.combine(date.min, self.end) - _MINUTE).time()
        return max(last, self.start)

    def clamp(self, wall: time) -> time:
        """Move `wall` into [start, last]; check-ins never land in the window's last minute."""
        return min(max(wall, self.start), self.last)


def is_allowed(instant: datetime, tz: str, quiet: QuietHours) -> bool:
    """Whether `instant` falls inside the waking window in `tz` local time."""
    return quiet.contains(_wall(_zone(tz), _as_utc(instant)).time())


def next_allowed(instant: datetime, tz: str, quiet: QuietHours) -> datetime:
    """The earliest instant >= `instant` (UTC) that is inside the waking window locally.

    That is `instant` itself when it is allowed, otherwise the next opening of the window: the
    local window start, or the end of a DST gap / fall-back that lands inside the window.
    """
    zone, u = _zone(tz), _as_utc(instant)
    for _ in range(_MAX_STEPS):
        wall = _wall(zone, u)
        if quiet.contains(wall.time()):
            return u
        day = wall.date() if wall.time() < quiet.start else wall.date() + _DAY
        # Assume the offset stays put until the window opens; re-check if it changes first.
        candidate = u + (datetime.combine(day, quiet.start) - wall)
        changed = _next_transition(zone, u, candidate - u)
        if changed is None:
            return candidate
        u = changed
    raise RuntimeError(f"no waking window found after {instant!r} in {tz}")  # pragma: no cover


def _opening(zone: ZoneInfo, tz: str, day: date, quiet: QuietHours) -> datetime:
    """When the window opens on local `day` (later if DST swallows that day's window)."""
    return next_allowed(_resolve(zone, datetime.combine(day, quiet.start)), tz, quiet)


def next_local_morning(instant: datetime, tz: str, quiet: QuietHours) -> datetime:
    """The next window opening strictly after `instant`: today's if still ahead, else tomorrow's."""
    zone, u = _zone(tz), _as_utc(instant)
    today = _wall(zone, u).date()
    opening = _opening(zone, tz, today, quiet)
    return opening if u < opening else _opening(zone, tz, today + _DAY, quiet)


def local_end_of_day(instant: datetime, tz: str, quiet: QuietHours) -> datetime:
    """When the waking window closes on `instant`'s local day (UTC).

    An unanswered check-in counts as missed from this instant on. An ambiguous `end` means its
    last occurrence; an `end` inside a DST gap means the end of the gap.
    """
    zone = _zone(tz)
    today = _wall(zone, _as_utc(instant)).date()
    return _resolve(zone, datetime.combine(today, quiet.end), fold=1)


def nudge_time(sent_at: datetime, delay: timedelta, tz: str, quiet: QuietHours) -> datetime | None:
    """When to nudge about a check-in sent at `sent_at`: `sent_at + delay`, moved to
    `next_allowed` if that is in quiet time, or None if it would spill past the close of
    `sent_at`'s local window (a nudge never moves to the next day; the check-in is missed)."""
    if delay < timedelta(0):
        raise ValueError(f"nudge delay must not be negative, got {delay}")
    sent = _as_utc(sent_at, "sent_at")
    nudge = next_allowed(sent + delay, tz, quiet)
    return nudge if nudge < local_end_of_day(sent, tz, quiet) else None


# --- cadences --------------------------------------------------------------------------------

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAILY = "daily"
WEEKDAYS = "weekdays"
DAYS = "days"
EVERY_N_DAYS = "every_n_days"
KINDS = (DAILY, WEEKDAYS, DAYS, EVERY_N_DAYS)
MAX_EVERY = 365

_CADENCE_RE = re.compile(
    r"(?P<kind>daily|weekdays|days:(?P<days>[^@]*)|every:(?P<n>[^@]*))@(?P<h>\d{1,2}):(?P<m>\d{2})"
)


@dataclass(frozen=True)
class Cadence:
    """When check-ins happen: which local days, and at which local time of day.

    - `daily`: every day;  `weekdays`: Monday to Friday;
    - `days`: the weekdays in `days` (0=Mon .. 6=Sun);
    - `every_n_days`: every `n` days counted from the program start date.

    Stored as a compact string, see `parse` / `str()`: "daily@19:00", "weekdays@08:30",
    "days:0,2,4@19:00", "every:3@19:00".
    """

    kind: str
    at: time = time(19, 0)
    days: frozenset[int] = field(default_factory=frozenset)
    n: int = 1

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown cadence kind {self.kind!r} (expected one of {KINDS})")
        at = self.at
        if not isinstance(at, time) or at.tzinfo is not None or at.second or at.microsecond:
            raise ValueError(f"cadence time must be a naive whole-minute time, got {at!r}")
        days = frozenset(self.days)
        object.__setattr__(self, "days", days)
        if self.kind == DAYS:
            if not days:
                raise ValueError("a 'days' cadence needs at least one weekday")
            if not all(isinstance(d, int) and 0 <= d <= 6 for d in days):
                raise ValueError(f"weekdays must be 0 (Mon) to 6 (Sun), got {sorted(days)}")
        elif days:
            raise ValueError(f"only a 'days' cadence takes weekdays, not {self.kind!r}")
        if self.kind == EVERY_N_DAYS:
            if not isinstance(self.n, int) or not 1 <= self.n <= MAX_EVERY:
                raise ValueError(f"every-N-days needs 1 <= N <= {MAX_EVERY}, got {self.n!r}")
        elif self.n != 1:
            raise ValueError(f"only an 'every_n_days' cadence takes n, not {self.kind!r}")

    @classmethod
    def daily(cls, at: time) -> Cadence:
        return cls(DAILY, at)

    @classmethod
    def weekdays(cls, at: time) -> Cadence:
        return cls(WEEKDAYS, at)

    @classmethod
    def on_days(cls, days: Iterable[int], at: time) -> Cadence:
        return cls(DAYS, at, frozenset(days))

    @classmethod
    def every(cls, n: int, at: time) -> Cadence:
        return cls(EVERY_N_DAYS, at, n=n)

    @classmethod
    def parse(cls, text: str) -> Cadence:
        """Parse the storage form produced by `str()`; raise ValueError when malformed."""
        match = _CADENCE_RE.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise ValueError(
                f"invalid cadence {text!r}: expected 'daily@HH:MM', 'weekdays@HH:MM', "
                "'days:0,2,4@HH:MM' (0=Mon) or 'every:N@HH:MM'"
            )
        hour, minute = int(match["h"]), int(match["m"])
        if hour > 23 or minute > 59:
            raise ValueError(f"invalid cadence {text!r}: no such time {hour}:{minute:02d}")
        at = time(hour, minute)
        try:
            if match["days"] is not None:
                return cls.on_days((int(d) for d in match["days"].split(",")), at)
            if match["n"] is not None:
                return cls.every(int(match["n"]), at)
        except ValueError as exc:
            raise ValueError(f"invalid cadence {text!r}: {exc}") from None
        return cls(match["kind"], at)

    def __str__(self) -> str:
        head = {
            DAYS: f"days:{','.join(map(str, sorted(self.days)))}",
            EVERY_N_DAYS: f"every:{self.n}",
        }.get(self.kind, self.kind)
        return f"{head}@{self.at:%H:%M}"

    def describe(self) -> str:
        """How people read it: "Every day at 19:00", "Mon, Wed, Fri at 08:30"."""
        at = f"at {self.at:%H:%M}"
        if self.kind == DAILY:
            return f"Every day {at}"
        if self.kind == WEEKDAYS:
            return f"Weekdays (Mon–Fri) {at}"
        if self.kind == DAYS:
            names = ", ".join(WEEKDAY_NAMES[d] for d in sorted(self.days))
            return f"{names} {at}"
        return f"Every {self.n} days {at}" if self.n > 1 else f"Every day {at}"

    def dates_from(self, first: date, anchor: date) -> Iterator[date]:
        """Local dates with a check-in, ascending from `first` (every-N counts from `anchor`)."""
        if self.kind == EVERY_N_DAYS:
            day = first + timedelta(days=(anchor - first).days % self.n)
            while True:
                yield day
                day += timedelta(days=self.n)
        day = first
        while True:
            if (
                self.kind == DAILY
                or (self.kind == WEEKDAYS and day.weekday() < 5)
                or (self.kind == DAYS and day.weekday() in self.days)
            ):
                yield day
            day += _DAY

    def mean_gap(self) -> Fraction:
        """Average days between check-ins (how sparse the cadence is)."""
        if self.kind == WEEKDAYS:
            return Fraction(7, 5)
        if self.kind == DAYS:
            return Fraction(7, len(self.days))
        return Fraction(self.n)  # daily has n == 1


def next_due(
    after: datetime,
    cadence: Cadence,
    tz: str,
    quiet: QuietHours,
    start_date: date | None = None,
    end_date: date | None = None,
) -> datetime | None:
    """The next check-in instant (UTC) strictly after `after`, or None once past `end_date`.

    Each cadence date in [start_date, end_date] (local dates, both inclusive) has one check-in
    at `cadence.at` clamped into the waking window (`QuietHours.clamp`). A time in a DST gap
    moves to the gap's end; if that is no longer inside the window (DST swallowed the rest of
    it), the check-in goes out at the next window opening, which must still be on or before
    `end_date`. Every-N-days cadences count from `start_date` (1970-01-01 when None).
    """
    zone, after = _zone(tz), _as_utc(after, "after")
    at = quiet.clamp(cadence.at)
    # Start a day early: a check-in postponed from yesterday may still be ahead.
    first = _wall(zone, after).date() - _DAY
    if start_date is not None:
        first = max(first, start_date)
    for day in cadence.dates_from(first, start_date or _DEFAULT_ANCHOR):
        if end_date is not None and day > end_date:
            return None
        due = next_allowed(_resolve(zone, datetime.combine(day, at)), tz, quiet)
        if due > after:
            if end_date is not None and _wall(zone, due).date() > end_date:
                return None
            return due
    raise AssertionError("unreachable: cadence dates are endless")  # pragma: no cover


# Sparser rungs of the trust ladder, in days between check-ins.
_LADDER = (2, 7)


def ladder_cadence(base: Cadence, kept_streak: int, step_every: int) -> Cadence:
    """Thin out check-ins as trust builds ("trust ladder").

    Every `step_every` kept check-ins in a row step one rung down: every 2 days, then weekly
    (every 7 days), keeping `base.at`. A base already at least as sparse as a rung stays as is.
    """
    if step_every < 1:
        raise ValueError(f"step_every must be >= 1, got {step_every}")
    if kept_streak < 0:
        raise ValueError(f"kept_streak must be >= 0, got {kept_streak}")
    rung = min(kept_streak // step_every, len(_LADDER))
    if rung == 0:
        return base
    stepped = Cadence.every(_LADDER[rung - 1], base.at)
    return stepped if stepped.mean_gap() > base.mean_gap() else base
