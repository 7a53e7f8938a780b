"""Step 5's rules: when a check-in is due, nudged or missed; how an answer is read; the
streak, the trust ladder and the one score every page and text uses.

Pure: the callers load programs, participants and history and pass them in; `now` is an
argument. Instants are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from service.core import schedule
from service.core.answers import EMPTY, NOT_AN_ANSWER, parse_checkin_answer
from service.core.enums import CheckInKind, CheckInStatus, ParticipantStatus, Result, Step
from service.core.options import option, quiet_hours
from service.core.words import words

# A late answer still counts for a check-in missed this long after its day closed.
GRACE = timedelta(hours=12)
MISSES_FLAGGED = 3
# The one score: a kept commitment is worth 1, partly ½, not kept (or unanswered) 0.
SCORE = {Result.KEPT: 1.0, Result.PARTLY: 0.5, Result.MISSED: 0.0}
# A text of at most this many words that is not an answer is taken for an attempt at one
# ("maybe?"): it gets the clarifying question. A longer one is about something else.
ATTEMPT_WORDS = 2
# Nobody is asked anything in these states; their schedule waits until they are back.
NOT_ASKED = (ParticipantStatus.OPTED_OUT, ParticipantStatus.UNDELIVERABLE, ParticipantStatus.CLOSED)


def local_date(instant: datetime, tz: str) -> date:
    return instant.astimezone(ZoneInfo(tz)).date()


# When ------------------------------------------------------------------------------------


def cadence(program, participant) -> schedule.Cadence:
    """Their cadence now: the trust ladder's rung, or the program's."""
    return schedule.Cadence.parse(participant.current_cadence or program.cadence)


def next_due(program, participant, after: datetime) -> datetime | None:
    """Their next check-in strictly after `after` (None past the program's end date)."""
    return schedule.next_due(
        after,
        cadence(program, participant),
        participant.timezone,
        quiet_hours(program),
        program.start_date,
        program.end_date,
    )


def next_weekly(program, participant, after: datetime) -> datetime | None:
    """The partner question: a week after `after` (local date), an hour after their own
    check-in time, so the two never arrive together and one answer is not read against
    the other question."""
    own = cadence(program, participant).at
    quiet = quiet_hours(program)
    later = (datetime.combine(date.min, own) + timedelta(hours=1)).time()
    at = later if own < later <= quiet.last else quiet.last
    week_later = local_date(after, participant.timezone) + timedelta(days=7)
    return schedule.next_due(
        after, schedule.Cadence.daily(at), participant.timezone, quiet, week_later, program.end_date
    )


def two_sided(program, a, b) -> bool:
    """Partners confirm each other's shared commitments: the program and both agree."""
    return bool(option(program, "two_sided") and a.share_with_partner and b.share_with_partner)


def start(program, participant, partner, now: datetime) -> dict:
    """Step 5 begins: the first check-in, and a partner question where both share."""
    changes = {"next_checkin_at": next_due(program, participant, now)}
    if partner is not None and two_sided(program, participant, partner):
        changes["partner_next"] = {
            person.id: next_weekly(program, person, now)
            for person in (participant, partner)
            if person.next_partner_checkin_at is None
        }
    return changes


def reentry(program, participant, partner, now: datetime) -> dict:
    """Back in (after STOP or a pause): the schedule goes on from now, in waking hours,
    nothing missed sent late and nothing doubled. Field → value for the participant."""
    if participant.step != Step.LIVING:
        return {}
    changes = {"next_checkin_at": next_due(program, participant, now)}
    pending = participant.next_partner_checkin_at
    eligible = partner is not None and partner.step == Step.LIVING
    if eligible and two_sided(program, participant, partner) and not (pending and pending > now):
        changes["next_partner_checkin_at"] = next_weekly(program, participant, now)
    return changes


@dataclass(frozen=True)
class Plan:
    """A check-in to write and send now."""

    kind: CheckInKind
    due_at: datetime
    closes_at: datetime
    commitment_ids: tuple[int, ...]
    next_nudge_at: datetime | None = None
    subject_id: int | None = None


def due(program, participant, commitment_ids: Sequence[int], now: datetime):
    """Their check-in fell due: (the next due instant, the check-in to send now or None).

    Nothing is sent to someone not in step 5 or not reachable (their schedule then waits
    for them to come back), not active (paused), or whose day is already over (never late
    at night)."""
    due_at = participant.next_checkin_at
    following = next_due(program, participant, max(due_at, now))
    if participant.status in NOT_ASKED or participant.step < Step.LIVING:
        return None, None
    closes_at = schedule.local_end_of_day(due_at, participant.timezone, quiet_hours(program))
    if participant.status != ParticipantStatus.ACTIVE or closes_at <= now or not commitment_ids:
        return following, None  # paused (or not yet agreed): the schedule just moves on
    plan = Plan(
        CheckInKind.SELF,
        due_at,
        closes_at,
        tuple(commitment_ids),
        next_nudge_at=first_nudge(program, participant, due_at),
    )
    return following, plan


def partner_due(program, participant, partner, shared_ids: Sequence[int], now: datetime):
    """The weekly partner question fell due: (next instant or None, check-in or None)."""
    due_at = participant.next_partner_checkin_at
    following = next_weekly(program, participant, max(due_at, now))
    eligible = (
        partner is not None
        and two_sided(program, participant, partner)
        and participant.status == ParticipantStatus.ACTIVE
        and participant.step == Step.LIVING
        and partner.step == Step.LIVING
    )
    if not eligible:
        return None, None
    closes_at = schedule.local_end_of_day(due_at, participant.timezone, quiet_hours(program))
    if not shared_ids or closes_at <= now:
        return following, None
    plan = Plan(CheckInKind.PARTNER, due_at, closes_at, tuple(shared_ids), subject_id=partner.id)
    return following, plan


def first_nudge(program, participant, sent_at: datetime) -> datetime | None:
    if option(program, "max_nudges") < 1:
        return None
    delay = timedelta(minutes=option(program, "nudge_delay_minutes"))
    return schedule.nudge_time(sent_at, delay, participant.timezone, quiet_hours(program))


def next_nudge(program, participant, nudges_sent: int, now: datetime) -> datetime | None:
    """After a nudge: the next one (at most two, and never past the day's end), or None."""
    if nudges_sent >= min(option(program, "max_nudges"), 2):
        return None
    delay = timedelta(minutes=option(program, "nudge_delay_minutes"))
    return schedule.nudge_time(now, delay, participant.timezone, quiet_hours(program))


def answerable(program, participant, checkin, now: datetime) -> bool:
    """Whether an answer now goes to this (their latest) check-in: it is open, or it was
    missed less than `GRACE` after its day closed."""
    if checkin is None or checkin.status in (CheckInStatus.ANSWERED, CheckInStatus.CANCELLED):
        return False
    if checkin.status == CheckInStatus.MISSED:
        closed = schedule.local_end_of_day(
            checkin.due_at, participant.timezone, quiet_hours(program)
        )
        return now <= closed + GRACE
    return True


def weekly_summary_due(due_at: datetime, tz: str) -> bool:
    """On their local Sunday, the check-in comes with the week's summary."""
    return local_date(due_at, tz).weekday() == 6


# Answers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """What a text says to an open check-in: results, or ask once, or keep it as a note."""

    results: tuple[Result, ...] | None = None
    note: str | None = None
    clarify: bool = False


def read_answer(body: str, commitments: int, clarified: bool) -> Reading:
    parsed = parse_checkin_answer(body, commitments)
    if not parsed.ambiguous:
        return Reading(tuple(Result(r) for r in parsed.results), parsed.note)
    about_something_else = parsed.reason in (NOT_AN_ANSWER, EMPTY) and (
        len(words(body)) > ATTEMPT_WORDS
    )
    if about_something_else or clarified:
        return Reading()  # kept on the check-in; it stays open
    return Reading(clarify=True)


def spoken_letters(results: Iterable[Result]) -> str:
    """How a keypad check-in is written down: "voice: Y N P"."""
    return " ".join({Result.KEPT: "Y", Result.MISSED: "N", Result.PARTLY: "P"}[r] for r in results)


# History: streak, ladder, score -------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    """One closed check-in as the score reads it: answered (with one result per commitment
    asked) or missed (every commitment asked counts as not kept)."""

    status: str
    asked: int
    results: tuple[str, ...] = ()

    @property
    def fully_kept(self) -> bool:
        return (
            self.status == CheckInStatus.ANSWERED
            and bool(self.results)
            and all(r == Result.KEPT for r in self.results)
        )


def points(checkins: Iterable[Scored]) -> tuple[float, int]:
    """(points, commitments counted): a missed check-in counts each commitment as 0."""
    total_points, counted = 0.0, 0
    for checkin in checkins:
        if checkin.status == CheckInStatus.MISSED:
            counted += checkin.asked
        total_points += sum(SCORE[Result(r)] for r in checkin.results)
        counted += len(checkin.results)
    return total_points, counted


def kept_ratio(checkins: Iterable[Scored]) -> float | None:
    """Share of commitments kept (partly counts half; a miss is 0), or None with none."""
    return ratio(*points(checkins))


def ratio(total_points: float, counted: int) -> float | None:
    """Points over commitments counted (what `points` adds up), or None with none counted:
    the same figure when a database has done the adding up."""
    return float(total_points) / counted if counted else None


def streak(history_newest_first: Sequence[Scored]) -> int:
    """Check-ins in a row with every commitment kept."""
    count = 0
    for checkin in history_newest_first:
        if not checkin.fully_kept:
            break
        count += 1
    return count


def misses_in_row(history_newest_first: Sequence[Scored]) -> int:
    count = 0
    for checkin in history_newest_first:
        if checkin.status != CheckInStatus.MISSED:
            break
        count += 1
    return count


@dataclass(frozen=True)
class AfterResult:
    streak: int
    missed_run: int | None = None  # flag: this many missed in a row
    cadence: str | None = None  # the trust ladder moved them to this cadence


def after_result(program, participant, history_newest_first: Sequence[Scored]) -> AfterResult:
    """A check-in was answered or missed: the streak, a run of misses, the ladder."""
    kept = streak(history_newest_first)
    misses = misses_in_row(history_newest_first)
    rung = None
    if option(program, "adaptive_cadence"):
        ladder = schedule.ladder_cadence(
            schedule.Cadence.parse(program.cadence), kept, option(program, "ladder_step")
        )
        if str(ladder) != str(cadence(program, participant)):
            rung = str(ladder)
    return AfterResult(kept, misses if misses == MISSES_FLAGGED else None, rung)


def milestone(program, before: int, after: int) -> bool:
    """A streak that just reached one of the program's milestones is celebrated."""
    return after > before and after in option(program, "milestones")


def disagrees(self_result: str, partner_view: str) -> bool:
    """A partner's view that differs from the self-report needs the facilitator."""
    return (self_result == Result.KEPT) != (partner_view == Result.KEPT)


DAY_RANK = {"missed": 4, "partly": 3, "kept": 2, "waiting": 1, "none": 0}


def day_state(status: str, results: Sequence[str]) -> str:
    """One check-in on the calendar: kept, partly, missed, waiting or none."""
    if status == CheckInStatus.MISSED or (results and all(r == Result.MISSED for r in results)):
        return "missed"
    if results and all(r == Result.KEPT for r in results):
        return "kept"
    if results:
        return "partly"
    if status == CheckInStatus.OPEN:
        return "waiting"
    return "none"
