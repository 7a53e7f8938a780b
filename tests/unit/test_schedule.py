"""Tests for service.schedule: DST-heavy property tests plus worked examples."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache, partial
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.core.schedule import (
    Cadence,
    QuietHours,
    is_allowed,
    ladder_cadence,
    local_end_of_day,
    next_allowed,
    next_due,
    next_local_morning,
    nudge_time,
    validate_tz,
)

ZONES = [
    "UTC",
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "America/St_Johns",
    "Europe/London",
    "Europe/Berlin",
    "Africa/Casablanca",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Pacific/Chatham",
]
NY = "America/New_York"
LO, HI = datetime(2020, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- independent helpers (deliberately not using the module under test) ---------------------


def local(instant: datetime, tz: str) -> datetime:
    return instant.astimezone(ZoneInfo(tz))


def inside(instant: datetime, tz: str, quiet: QuietHours) -> bool:
    return quiet.start <= local(instant, tz).time() < quiet.end


def on_cadence(day: date, cadence: Cadence, anchor: date) -> bool:
    return {
        "daily": True,
        "weekdays": day.weekday() < 5,
        "days": day.weekday() in cadence.days,
        "every_n_days": (day - anchor).days % cadence.n == 0,
    }[cadence.kind]


@cache
def transitions(tz: str) -> list[datetime]:
    """Exact UTC offset transitions of `tz` over 2020-2030 (6-hourly scan, then bisection)."""
    zone, found, step = ZoneInfo(tz), [], timedelta(hours=6)
    u, off = LO, LO.astimezone(zone).utcoffset()
    while u < HI:
        u += step
        if u.astimezone(zone).utcoffset() != off:
            lo, hi = u - step, u
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if mid.astimezone(zone).utcoffset() == off else (lo, mid)
            found.append(hi.replace(microsecond=0))  # tzdata transitions are on whole seconds
            off = u.astimezone(zone).utcoffset()
    return found


def test_transition_table_covers_dst_zones():
    assert len(transitions(NY)) == 22  # two a year, 2020-2030
    assert transitions(NY)[0] == datetime(2020, 3, 8, 7, 0, tzinfo=UTC)
    assert transitions("Australia/Lord_Howe") and transitions("Africa/Casablanca")
    assert transitions("Asia/Tokyo") == [] and transitions("America/Sao_Paulo") == []


# --- strategies ------------------------------------------------------------------------------

minute_times = st.builds(time, st.integers(0, 23), st.integers(0, 59))
# Times that sit in DST gaps/overlaps somewhere, or outside the usual window.
tricky_times = st.sampled_from(
    [time(0, 0), time(1, 30), time(2, 0), time(2, 15), time(2, 30), time(2, 45), time(3, 0)]
    + [time(3, 30), time(6, 0), time(8, 0), time(19, 0), time(20, 59), time(23, 0), time(23, 59)]
)
ats = st.one_of(tricky_times, minute_times)

windows = st.one_of(
    st.just(QuietHours()),
    st.sampled_from(
        [
            QuietHours(time(2, 0), time(21, 0)),
            QuietHours(time(2, 15), time(2, 45)),  # can vanish entirely in a DST gap
            QuietHours(time(2, 0), time(2, 30)),
            QuietHours(time(1, 0), time(1, 30)),  # ambiguous on fall-back days
            QuietHours(time(0, 30), time(1, 30)),
            QuietHours(time(1, 30), time(2, 45)),
            QuietHours(time(0, 0), time(23, 59)),
            QuietHours(time(3, 0), time(3, 1)),
        ]
    ),
    st.lists(st.one_of(tricky_times, minute_times), min_size=2, max_size=2, unique=True).map(
        lambda pair: QuietHours(*sorted(pair))
    ),
)

cadence_makers = st.one_of(
    st.just(Cadence.daily),
    st.just(Cadence.weekdays),
    st.frozensets(st.integers(0, 6), min_size=1).map(lambda d: partial(Cadence.on_days, d)),
    st.integers(1, 10).map(lambda n: partial(Cadence.every, n)),
)
cadences = st.builds(lambda make, at: make(at), cadence_makers, ats)
DST_ZONES = [tz for tz in ZONES if transitions(tz)]


class Case(NamedTuple):
    tz: str
    instant: datetime
    quiet: QuietHours
    cadence: Cadence


def minute_of_day(m: int) -> time:
    return time(m // 60, m % 60)


@st.composite
def dst_cases(draw) -> Case:
    """Instant, window and check-in time all placed around one of the zone's DST transitions."""
    tz = draw(st.sampled_from(DST_ZONES))
    moment = draw(st.sampled_from(transitions(tz)))
    # Local wall-clock reading as the transition happens, e.g. 02:00 in New York.
    before = moment - timedelta(seconds=1)
    pivot_dt = before.astimezone(ZoneInfo(tz)) + timedelta(seconds=1)
    pivot = pivot_dt.hour * 60 + pivot_dt.minute
    at = minute_of_day((pivot + draw(st.integers(-90, 90))) % 1440)
    start = min(max(pivot + draw(st.integers(-240, 60)), 0), 1438)
    end = min(start + draw(st.integers(1, 720)), 1439)
    quiet = QuietHours(minute_of_day(start), minute_of_day(end))
    shift = draw(
        st.one_of(
            st.integers(-36 * 60, 12 * 60).map(lambda m: timedelta(minutes=m)),
            st.integers(-36 * 3600, 12 * 3600).map(lambda s: timedelta(seconds=s)),
        )
    )
    return Case(tz, moment + shift, quiet, draw(cadence_makers)(at))


@st.composite
def random_cases(draw) -> Case:
    """Any zone, any instant in 2020-2030 (half of them within ~a day of a DST transition)."""
    tz = draw(st.sampled_from(ZONES))
    near = transitions(tz)
    if near and draw(st.booleans()):
        offset = draw(
            st.one_of(
                st.integers(-36 * 60, 36 * 60).map(lambda m: timedelta(minutes=m)),
                st.integers(-36 * 3600, 36 * 3600).map(lambda s: timedelta(seconds=s)),
            )
        )
        instant = draw(st.sampled_from(near)) + offset
    else:
        instant = LO + timedelta(seconds=draw(st.integers(0, int((HI - LO).total_seconds()))))
    return Case(tz, instant, draw(windows), draw(cadences))


cases = st.one_of(random_cases(), dst_cases())


# --- properties ------------------------------------------------------------------------------


@SETTINGS
@given(cases, st.one_of(st.none(), st.integers(-10, 10)), st.one_of(st.none(), st.integers(-2, 20)))
def test_next_due_properties(case, start_shift, end_shift):
    tz, after, quiet, cadence = case
    today = local(after, tz).date()
    start_date = None if start_shift is None else today + timedelta(days=start_shift)
    end_date = None if end_shift is None else (start_date or today) + timedelta(days=end_shift)

    due = next_due(after, cadence, tz, quiet, start_date, end_date)

    if due is None:
        assert end_date is not None, "only a bounded program runs out of check-ins"
        unbounded = next_due(after, cadence, tz, quiet, start_date)
        assert local(unbounded, tz).date() > end_date
        return
    assert due.tzinfo is UTC
    assert due > after
    assert inside(due, tz, quiet)
    due_day = local(due, tz).date()
    if start_date is not None:
        assert due_day >= start_date
    if end_date is not None:
        assert due_day <= end_date
    origin = max(today, start_date or today)
    max_days = cadence.n + 1 if cadence.kind == "every_n_days" else 8
    assert (due_day - origin).days <= max_days
    if start_date is None or today >= start_date:
        assert due - after <= timedelta(days=max_days)


def wall_to_instant(wall: datetime, tz: str) -> datetime:
    """Brute-force oracle: first occurrence of `wall`, or the first instant after it if skipped."""
    zone = ZoneInfo(tz)
    readings = [wall.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1)]
    exact = [u for u in readings if u.astimezone(zone).replace(tzinfo=None) == wall]
    if exact:
        return min(exact)
    u = min(readings).replace(second=0, microsecond=0)  # transitions fall on whole minutes here
    while u.astimezone(zone).replace(tzinfo=None) < wall:
        u += timedelta(minutes=1)
    return u


@SETTINGS
@given(cases)
def test_next_due_is_the_first_cadence_check_in(case):
    # Each cadence day's check-in is its clamped time (out of any DST gap) if that is inside
    # the window, else the next window opening; next_due returns the first one after `after`.
    tz, after, quiet, cadence = case
    at = quiet.clamp(cadence.at)
    anchor = date(1970, 1, 1)

    def check_in(day: date) -> datetime:
        instant = wall_to_instant(datetime.combine(day, at), tz)
        return instant if inside(instant, tz, quiet) else next_allowed(instant, tz, quiet)

    day = local(after, tz).date() - timedelta(days=1)
    while not (on_cadence(day, cadence, anchor) and check_in(day) > after):
        day += timedelta(days=1)
    assert next_due(after, cadence, tz, quiet) == check_in(day)


@SETTINGS
@given(cases, st.one_of(st.none(), st.integers(-10, 0)))
def test_next_due_hits_every_cadence_day_once(case, start_shift):
    # With the usual 08:00-21:00 window (no DST transition happens there in these zones), a
    # chain of next_due calls lands exactly once on each cadence date, at the clamped time.
    tz, after, _, cadence = case
    quiet = QuietHours()
    start_date = None if start_shift is None else local(after, tz).date() + timedelta(start_shift)
    anchor = start_date or date(1970, 1, 1)
    dues = []
    for _ in range(6):
        after = next_due(after, cadence, tz, quiet, start_date)
        dues.append(local(after, tz))
    assert all(d.time() == quiet.clamp(cadence.at) for d in dues)
    days = [d.date() for d in dues]
    expected, day = [], days[0]
    while len(expected) < len(days):
        if on_cadence(day, cadence, anchor):
            expected.append(day)
        day += timedelta(days=1)
    assert days == expected


@SETTINGS
@given(cases)
def test_next_allowed_is_the_earliest_allowed_instant(case):
    tz, instant, quiet, _ = case
    result = next_allowed(instant, tz, quiet)
    assert result.tzinfo is UTC
    assert inside(result, tz, quiet)
    assert is_allowed(result, tz, quiet)
    assert result >= instant
    assert (result == instant) == inside(instant, tz, quiet)
    assert result - instant <= timedelta(days=2)
    # Nothing in between is allowed (sampled every 10 minutes, plus just before the result).
    probe = instant
    while probe < result:
        assert not inside(probe, tz, quiet)
        probe += timedelta(minutes=10)
    if result > instant:
        assert not inside(max(instant, result - timedelta(seconds=1)), tz, quiet)


@SETTINGS
@given(cases)
def test_next_local_morning(case):
    tz, instant, quiet, _ = case
    morning = next_local_morning(instant, tz, quiet)
    assert morning > instant
    assert inside(morning, tz, quiet)
    assert not inside(morning - timedelta(seconds=1), tz, quiet), "must be a window opening"
    days_ahead = (local(morning, tz).date() - local(instant, tz).date()).days
    assert 0 <= days_ahead <= 2
    if days_ahead == 0:
        assert local(instant, tz).time() < quiet.start


@SETTINGS
@given(cases)
def test_local_end_of_day(case):
    tz, instant, quiet, _ = case
    end = local_end_of_day(instant, tz, quiet)
    assert not inside(end, tz, quiet)
    assert local(end, tz).date() == local(instant, tz).date()
    opening = next_allowed(instant, tz, quiet)
    if local(opening, tz).date() == local(instant, tz).date():
        assert opening < end


@SETTINGS
@given(cases, st.integers(0, 12 * 60).map(lambda m: timedelta(minutes=m)))
def test_nudge_time_stays_within_the_sending_day(case, delay):
    tz, instant, quiet, _ = case
    sent = next_allowed(instant, tz, quiet)  # check-ins only go out inside the window
    nudge = nudge_time(sent, delay, tz, quiet)
    close = local_end_of_day(sent, tz, quiet)
    if nudge is None:
        assert next_allowed(sent + delay, tz, quiet) >= close
        return
    assert nudge >= sent + delay
    assert inside(nudge, tz, quiet)
    assert nudge < close
    assert local(nudge, tz).date() == local(sent, tz).date()


@SETTINGS
@given(cadences)
def test_cadence_string_round_trip(cadence):
    assert Cadence.parse(str(cadence)) == cadence
    assert Cadence.parse(f"  {cadence}  ") == cadence


@SETTINGS
@given(cadences, st.integers(0, 100), st.integers(1, 10))
def test_ladder_never_gets_denser(base, streak, step_every):
    laddered = ladder_cadence(base, streak, step_every)
    assert laddered.at == base.at
    assert laddered.mean_gap() >= base.mean_gap()
    assert ladder_cadence(base, streak + step_every, step_every).mean_gap() >= (laddered.mean_gap())


# --- examples --------------------------------------------------------------------------------


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def ny(*args, fold=0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(NY), fold=fold).astimezone(UTC)


def test_spring_forward_gap_moves_to_end_of_gap():
    # 2024-03-10 in New York: 02:00 EST jumps to 03:00 EDT.
    quiet = QuietHours(time(2, 0), time(21, 0))
    cadence = Cadence.parse("daily@02:30")
    due = next_due(ny(2024, 3, 9, 22, 0), cadence, NY, quiet)
    assert due == utc(2024, 3, 10, 7, 0) == ny(2024, 3, 10, 3, 0)
    # The next day is back to normal.
    assert next_due(due, cadence, NY, quiet) == ny(2024, 3, 11, 2, 30)
    # The window itself opens at the end of the gap that day.
    assert next_local_morning(ny(2024, 3, 9, 22, 0), NY, quiet) == utc(2024, 3, 10, 7, 0)
    assert next_allowed(ny(2024, 3, 10, 1, 59), NY, quiet) == utc(2024, 3, 10, 7, 0)


def test_window_swallowed_by_gap_goes_to_next_opening():
    quiet = QuietHours(time(2, 0), time(2, 30))
    due = next_due(ny(2024, 3, 9, 22, 0), Cadence.parse("daily@02:10"), NY, quiet)
    assert due == ny(2024, 3, 11, 2, 0)


def test_check_in_postponed_by_gap_is_not_lost_or_late():
    quiet, cadence = QuietHours(time(2, 0), time(2, 30)), Cadence.parse("daily@02:10")
    # Mar 10's check-in went to Mar 11 02:00; Mar 11's own follows at 02:10.
    assert next_due(ny(2024, 3, 11, 1, 0), cadence, NY, quiet) == ny(2024, 3, 11, 2, 0)
    assert next_due(ny(2024, 3, 11, 2, 0), cadence, NY, quiet) == ny(2024, 3, 11, 2, 10)
    # ...but a postponement may not cross the program's end date.
    end = date(2024, 3, 10)
    assert next_due(ny(2024, 3, 9, 22, 0), cadence, NY, quiet, None, end) is None


def test_lord_howe_half_hour_gap():
    # 2024-10-06 on Lord Howe: 02:00 (+10:30) jumps to 02:30 (+11).
    tz = "Australia/Lord_Howe"
    start = datetime(2024, 10, 5, 22, 0, tzinfo=ZoneInfo(tz))
    due = next_due(start, Cadence.parse("daily@02:15"), tz, QuietHours(time(1), time(21)))
    assert local(due, tz).replace(tzinfo=None) == datetime(2024, 10, 6, 2, 30)


def test_fall_back_uses_first_occurrence_once():
    # 2024-11-03 in New York: 01:00-02:00 happens twice (EDT, then EST).
    quiet = QuietHours(time(1, 0), time(21, 0))
    cadence = Cadence.parse("daily@01:30")
    due = next_due(ny(2024, 11, 2, 22, 0), cadence, NY, quiet)
    assert due == utc(2024, 11, 3, 5, 30) == ny(2024, 11, 3, 1, 30, fold=0)
    # No second check-in at 01:30 EST: the next one is the following day.
    assert next_due(due, cadence, NY, quiet) == ny(2024, 11, 4, 1, 30)


def test_fall_back_end_of_window_is_last_occurrence():
    quiet = QuietHours(time(0, 30), time(1, 30))
    day = ny(2024, 11, 3, 12, 0)
    assert local_end_of_day(day, NY, quiet) == ny(2024, 11, 3, 1, 30, fold=1)
    # Between 01:30 EDT and 01:00 EST the clock is outside the window; it reopens at 01:00 EST.
    assert next_allowed(ny(2024, 11, 3, 1, 45), NY, quiet) == ny(2024, 11, 3, 1, 0, fold=1)


def test_weekdays_skip_the_weekend():
    friday = ny(2025, 6, 13, 19, 0)
    assert next_due(friday, Cadence.parse("weekdays@19:00"), NY, QuietHours()) == ny(
        2025, 6, 16, 19, 0
    )


def test_days_cadence():
    cadence = Cadence.parse("days:0,2,4@19:00")  # Mon, Wed, Fri
    assert next_due(ny(2025, 6, 16, 19, 0), cadence, NY, QuietHours()) == ny(2025, 6, 18, 19, 0)
    assert next_due(ny(2025, 6, 16, 18, 0), cadence, NY, QuietHours()) == ny(2025, 6, 16, 19, 0)


def test_every_n_days_anchored_on_start_date():
    cadence, start = Cadence.parse("every:3@19:00"), date(2025, 1, 1)
    assert next_due(ny(2024, 12, 1), cadence, NY, QuietHours(), start) == ny(2025, 1, 1, 19)
    assert next_due(ny(2025, 1, 1, 20), cadence, NY, QuietHours(), start) == ny(2025, 1, 4, 19)
    assert next_due(ny(2025, 1, 2), cadence, NY, QuietHours(), start) == ny(2025, 1, 4, 19)
    assert next_due(ny(2025, 1, 4, 18), cadence, NY, QuietHours(), start) == ny(2025, 1, 4, 19)


def test_end_date_stops_the_schedule():
    cadence, end = Cadence.parse("daily@19:00"), date(2025, 1, 10)
    last = next_due(ny(2025, 1, 10, 12), cadence, NY, QuietHours(), None, end)
    assert last == ny(2025, 1, 10, 19)
    assert next_due(last, cadence, NY, QuietHours(), None, end) is None
    assert next_due(ny(2025, 2, 1), cadence, NY, QuietHours(), None, end) is None


def test_at_is_clamped_into_the_window():
    early, late = Cadence.parse("daily@06:00"), Cadence.parse("daily@23:00")
    after = ny(2025, 1, 1, 0, 0)
    assert next_due(after, early, NY, QuietHours()) == ny(2025, 1, 1, 8, 0)
    assert next_due(after, late, NY, QuietHours()) == ny(2025, 1, 1, 20, 59)


def test_is_allowed_and_next_allowed():
    quiet = QuietHours()
    assert is_allowed(ny(2025, 1, 1, 8, 0), NY, quiet)
    assert not is_allowed(ny(2025, 1, 1, 21, 0), NY, quiet)
    assert next_allowed(ny(2025, 1, 1, 12, 0), NY, quiet) == ny(2025, 1, 1, 12, 0)
    assert next_allowed(ny(2025, 1, 1, 22, 0), NY, quiet) == ny(2025, 1, 2, 8, 0)
    assert next_local_morning(ny(2025, 1, 1, 7, 0), NY, quiet) == ny(2025, 1, 1, 8, 0)
    assert next_local_morning(ny(2025, 1, 1, 9, 0), NY, quiet) == ny(2025, 1, 2, 8, 0)
    # Non-UTC aware inputs are fine; results are UTC.
    assert next_allowed(local(ny(2025, 1, 1, 22), NY), NY, quiet).tzinfo is UTC


def test_nudge_time():
    quiet, hour = QuietHours(), timedelta(hours=1)
    assert nudge_time(ny(2025, 1, 1, 12), 2 * hour, NY, quiet) == ny(2025, 1, 1, 14)
    assert nudge_time(ny(2025, 1, 1, 7), hour / 2, NY, quiet) == ny(2025, 1, 1, 8)
    assert nudge_time(ny(2025, 1, 1, 20, 30), hour, NY, quiet) is None
    assert nudge_time(ny(2025, 1, 1, 12), 24 * hour, NY, quiet) is None
    with pytest.raises(ValueError, match="negative"):
        nudge_time(ny(2025, 1, 1, 12), -hour, NY, quiet)


def test_local_end_of_day_examples():
    assert local_end_of_day(ny(2025, 1, 1, 3), NY, QuietHours()) == ny(2025, 1, 1, 21)
    assert local_end_of_day(ny(2025, 1, 1, 23), NY, QuietHours()) == ny(2025, 1, 1, 21)


def test_naive_datetimes_are_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        next_allowed(datetime(2025, 1, 1, 12), NY, QuietHours())
    with pytest.raises(ValueError, match="timezone-aware"):
        next_due(datetime(2025, 1, 1), Cadence.parse("daily@19:00"), NY, QuietHours())


@pytest.mark.parametrize(
    ("text", "cadence"),
    [
        ("daily@19:00", Cadence.daily(time(19, 0))),
        ("weekdays@08:30", Cadence.weekdays(time(8, 30))),
        ("days:0,2,4@19:00", Cadence.on_days({0, 2, 4}, time(19, 0))),
        ("every:3@19:00", Cadence.every(3, time(19, 0))),
    ],
)
def test_cadence_parse_examples(text, cadence):
    assert Cadence.parse(text) == cadence
    assert str(cadence) == text


def test_cadence_parse_is_lenient_on_spacing_and_order():
    assert str(Cadence.parse(" days:4,0,2@7:05 ")) == "days:0,2,4@07:05"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "daily",
        "daily@",
        "daily@25:00",
        "daily@19:60",
        "daily@7pm",
        "hourly@19:00",
        "Daily@19:00",
        "days:@19:00",
        "days:7@19:00",
        "days:0,,2@19:00",
        "days:a@19:00",
        "every:0@19:00",
        "every:x@19:00",
        "every:366@19:00",
        "every3@19:00",
        "daily@19:00@20:00",
    ],
)
def test_cadence_parse_errors(text):
    with pytest.raises(ValueError, match="invalid cadence"):
        Cadence.parse(text)


def test_cadence_constructor_errors():
    with pytest.raises(ValueError, match="unknown cadence kind"):
        Cadence("hourly")
    with pytest.raises(ValueError, match="at least one weekday"):
        Cadence.on_days([], time(19))
    with pytest.raises(ValueError, match="only a 'days' cadence"):
        Cadence("daily", time(19), frozenset({1}))
    with pytest.raises(ValueError, match="whole-minute"):
        Cadence.daily(time(19, 0, 30))


def test_ladder_steps():
    daily = Cadence.parse("daily@19:00")
    assert ladder_cadence(daily, 0, 5) == daily
    assert ladder_cadence(daily, 4, 5) == daily
    assert str(ladder_cadence(daily, 5, 5)) == "every:2@19:00"
    assert str(ladder_cadence(daily, 9, 5)) == "every:2@19:00"
    assert str(ladder_cadence(daily, 10, 5)) == "every:7@19:00"
    assert str(ladder_cadence(daily, 500, 5)) == "every:7@19:00"
    assert str(ladder_cadence(Cadence.parse("weekdays@08:30"), 5, 5)) == "every:2@08:30"
    # Already sparser than the rung: unchanged until a sparser rung is reached.
    twice_weekly = Cadence.parse("days:0,3@19:00")
    assert ladder_cadence(twice_weekly, 5, 5) == twice_weekly
    assert str(ladder_cadence(twice_weekly, 10, 5)) == "every:7@19:00"
    fortnightly = Cadence.parse("every:14@19:00")
    assert ladder_cadence(fortnightly, 100, 5) == fortnightly
    with pytest.raises(ValueError):
        ladder_cadence(daily, 3, 0)
    with pytest.raises(ValueError):
        ladder_cadence(daily, -1, 5)


def test_quiet_hours_validation():
    assert QuietHours() == QuietHours(time(8), time(21))
    assert QuietHours(time(8), time(21)).clamp(time(23)) == time(20, 59)
    assert QuietHours(time(8), time(21)).clamp(time(6)) == time(8)
    with pytest.raises(ValueError, match="start before it ends"):
        QuietHours(time(21), time(8))
    with pytest.raises(ValueError, match="start before it ends"):
        QuietHours(time(8), time(8))


@pytest.mark.parametrize("name", ["America/New_York", " Asia/Kathmandu ", "UTC", "EST5EDT"])
def test_validate_tz_accepts(name):
    assert validate_tz(name) == name.strip()


@pytest.mark.parametrize(
    "name", ["", "   ", "Mars/Olympus", "America", "../etc/passwd", "new york"]
)
def test_validate_tz_rejects(name):
    with pytest.raises(ValueError, match="time zone"):
        validate_tz(name)


def test_unknown_zone_is_rejected_by_schedulers():
    with pytest.raises(ValueError, match="unknown time zone"):
        next_allowed(utc(2025, 1, 1), "Nowhere/Land", QuietHours())
