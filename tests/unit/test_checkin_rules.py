"""Step 5's rules as properties: over random histories, zones, cadences and instants, what
must always hold (core/checkin_rules.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from service.core import checkin_rules as rules
from service.core import schedule
from service.core.enums import CheckInStatus, ParticipantStatus, Result, Step
from service.core.options import DEFAULT_OPTIONS, quiet_hours

ZONES = ["America/New_York", "Europe/London", "Asia/Kathmandu", "Australia/Lord_Howe", "UTC"]
CADENCES = ["daily@19:00", "weekdays@07:30", "days:0,3@21:30", "every:3@12:00", "daily@02:00"]
WINDOWS = [("08:00", "21:00"), ("06:30", "22:15"), ("10:00", "18:00")]
results = st.sampled_from([Result.KEPT, Result.PARTLY, Result.MISSED])


@st.composite
def scored(draw):
    asked = draw(st.integers(1, 3))
    status = draw(st.sampled_from([CheckInStatus.ANSWERED, CheckInStatus.MISSED]))
    answers = tuple(draw(results) for _ in range(asked)) if status == CheckInStatus.ANSWERED else ()
    return rules.Scored(status, asked, answers)


histories = st.lists(scored(), max_size=30)


def program(**options):
    window = options.pop("window", WINDOWS[0])
    return SimpleNamespace(
        cadence=options.pop("cadence", "daily@19:00"),
        quiet_start=window[0],
        quiet_end=window[1],
        start_date=None,
        end_date=None,
        options={**DEFAULT_OPTIONS, **options},
    )


def person(**fields):
    values = dict(
        id=1, status=ParticipantStatus.ACTIVE, step=Step.LIVING, timezone="UTC",
        current_cadence=None, next_checkin_at=None, next_partner_checkin_at=None,
        share_with_partner=True, streak=0,
    )  # fmt: skip
    values.update(fields)
    return SimpleNamespace(**values)


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
)


@given(histories)
def test_the_streak_is_the_run_of_fully_kept_check_ins(history):
    expected = 0
    for checkin in history:
        if checkin.status != CheckInStatus.ANSWERED or set(checkin.results) != {Result.KEPT}:
            break
        expected += 1
    assert rules.streak(history) == expected
    assert rules.misses_in_row(history) == next(
        (i for i, c in enumerate(history) if c.status != CheckInStatus.MISSED), len(history)
    )


@given(histories)
def test_the_kept_ratio_is_a_share_and_none_only_with_nothing_to_count(history):
    ratio = rules.kept_ratio(history)
    counted = sum(c.asked for c in history)
    if counted == 0:
        assert ratio is None
    else:
        assert 0.0 <= ratio <= 1.0
        points, total = rules.points(history)
        assert total == counted and ratio == points / total


@given(histories, st.integers(1, 3))
def test_keeping_everything_never_lowers_the_ratio(history, asked):
    before = rules.kept_ratio(history)
    kept = rules.Scored(CheckInStatus.ANSWERED, asked, (Result.KEPT,) * asked)
    after = rules.kept_ratio([kept, *history])
    assert after == 1.0 if before is None else after >= before


@given(histories, st.integers(1, 5))
def test_three_misses_in_a_row_are_flagged_once_and_the_ladder_only_thins_out(history, step):
    prog = program(adaptive_cadence=True, ladder_step=step, cadence="daily@19:00")
    outcome = rules.after_result(prog, person(), history)
    assert outcome.streak == rules.streak(history)
    assert (outcome.missed_run is not None) == (rules.misses_in_row(history) == 3)
    if outcome.cadence is not None:
        rung = schedule.Cadence.parse(outcome.cadence)
        assert rung.mean_gap() >= schedule.Cadence.parse(prog.cadence).mean_gap()
        assert rung.at == schedule.Cadence.parse(prog.cadence).at


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    cadence=st.sampled_from(CADENCES),
    window=st.sampled_from(WINDOWS),
    due_at=instants,
    late=st.integers(0, 60 * 36),
    status=st.sampled_from(list(ParticipantStatus)),
)
def test_a_due_check_in_is_sent_only_to_the_reachable_within_its_day(
    zone, cadence, window, due_at, late, status
):
    prog = program(cadence=cadence, window=window)
    now = due_at + timedelta(minutes=late)
    who = person(timezone=zone, status=status, next_checkin_at=due_at)
    following, plan = rules.due(prog, who, [7, 8], now)
    if status in rules.NOT_ASKED:
        assert (following, plan) == (None, None)  # their schedule waits for them
        return
    assert following is not None and following > max(due_at, now) - timedelta(seconds=1)
    assert schedule.is_allowed(following, zone, quiet_hours(prog))
    if plan is None:
        return
    assert status == ParticipantStatus.ACTIVE
    assert plan.due_at == due_at < plan.closes_at and now < plan.closes_at  # never late
    assert plan.commitment_ids == (7, 8)
    if plan.next_nudge_at is not None:
        assert due_at <= plan.next_nudge_at < plan.closes_at


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    cadence=st.sampled_from(CADENCES),
    window=st.sampled_from(WINDOWS),
    now=instants,
    pending=st.one_of(st.none(), st.integers(-3 * 24 * 60, 3 * 24 * 60)),
)
def test_back_in_the_schedule_goes_on_from_now_in_waking_hours(zone, cadence, window, now, pending):
    prog = program(cadence=cadence, window=window, two_sided=True)
    before = None if pending is None else now + timedelta(minutes=pending)
    who = person(timezone=zone, next_partner_checkin_at=before)
    partner = person(id=2, timezone="UTC")
    changes = rules.reentry(prog, who, partner, now)
    quiet = quiet_hours(prog)
    assert changes["next_checkin_at"] > now
    assert schedule.is_allowed(changes["next_checkin_at"], zone, quiet)
    if before is not None and before > now:
        assert "next_partner_checkin_at" not in changes  # nothing doubled
    else:
        assert changes["next_partner_checkin_at"] > now
        assert schedule.is_allowed(changes["next_partner_checkin_at"], zone, quiet)


def test_back_in_before_step_5_changes_no_schedule():
    assert rules.reentry(program(), person(step=Step.COMMITMENTS), None, datetime.now(UTC)) == {}


@given(st.text(max_size=40), st.integers(1, 3), st.booleans())
def test_an_unclear_answer_gets_one_clarifying_question_at_most(body, commitments, clarified):
    reading = rules.read_answer(body, commitments, clarified)
    if reading.results is not None:
        assert len(reading.results) == commitments and not reading.clarify
    elif clarified:
        assert not reading.clarify  # asked once already: kept as a note, the check-in open


def test_words_about_something_else_are_kept_not_questioned():
    assert rules.read_answer("stop texting me so early", 1, clarified=False) == rules.Reading()
    assert rules.read_answer("maybe?", 1, clarified=False).clarify


@given(st.integers(0, 5), instants, st.sampled_from(ZONES))
def test_nudges_stop_after_two_and_never_cross_the_day(nudges, now, zone):
    prog = program(max_nudges=5, nudge_delay_minutes=30)
    nudge = rules.next_nudge(prog, person(timezone=zone), nudges, now)
    if nudges >= 2:
        assert nudge is None
    elif nudge is not None:
        end = schedule.local_end_of_day(now, zone, quiet_hours(prog))
        assert now < nudge < end


@given(st.sampled_from(list(CheckInStatus)), st.lists(results, max_size=3))
def test_a_calendar_day_reads_kept_only_when_every_commitment_was_kept(status, answers):
    state = rules.day_state(status, answers)
    assert state in rules.DAY_RANK
    assert (state == "kept") == (
        bool(answers) and status != CheckInStatus.MISSED and set(answers) == {Result.KEPT}
    )


@given(
    st.lists(
        st.tuples(
            st.sampled_from([CheckInStatus.ANSWERED, CheckInStatus.MISSED]),
            st.lists(st.sampled_from(list(Result)), max_size=3),
        ),
        max_size=12,
    )
)
def test_a_ratio_of_sums_is_the_kept_ratio(history):
    """What a database adds up (points and commitments counted) gives the same ratio as
    the score read check-in by check-in: the admin's lists and dashboard rely on it."""
    scored = [
        rules.Scored(status, len(results) or 1, tuple(results) if status == "answered" else ())
        for status, results in history
    ]
    points, counted = rules.points(scored)
    assert rules.ratio(points, counted) == rules.kept_ratio(scored)
    assert rules.ratio(0.0, 0) is None
    assert rules.ratio(1.5, 3) == 0.5
