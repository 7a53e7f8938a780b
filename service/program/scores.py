"""The figures facilitators and participants see: kept ratios, a calendar of check-ins and
each program's weekly trend. One score (core/checkin_rules.py: kept 1, partly ½, missed or
unanswered 0) behind all of them: the dashboard, the participant page and the weekly text.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import select

from service.core import checkin_rules
from service.core.enums import CheckInKind, CheckInStatus, ParticipantStatus, Result
from service.models import CheckIn, CheckInAnswer, Commitment, Participant, Program
from service.program.checkin_answers import results_of
from service.program.personas import real_people

SCORED = (CheckInStatus.ANSWERED, CheckInStatus.MISSED)
CALENDAR_WEEKS = 6


def _scored(session, checkins) -> list[checkin_rules.Scored]:
    results = results_of(session, [c.id for c in checkins])
    return [
        checkin_rules.Scored(c.status, len(c.commitment_ids or []), tuple(results.get(c.id, ())))
        for c in checkins
    ]


def kept_ratio(session, participant: Participant, now: datetime, days: int) -> float | None:
    """Share of commitments kept over the last `days`."""
    checkins = session.exec(
        select(CheckIn).where(
            CheckIn.participant_id == participant.id,
            CheckIn.kind == CheckInKind.SELF,
            CheckIn.due_at > now - timedelta(days=days),
            CheckIn.status.in_(SCORED),
        )
    ).all()
    return checkin_rules.kept_ratio(_scored(session, checkins))


def kept_by_commitment(
    session, participant: Participant, now: datetime, days: int
) -> list[tuple[Commitment, int, int]]:
    """(commitment, times kept, times asked) over the last `days`, in the order asked; a
    check-in left unanswered counts as asked and not kept."""
    checkins = session.exec(
        select(CheckIn)
        .where(
            CheckIn.participant_id == participant.id,
            CheckIn.kind == CheckInKind.SELF,
            CheckIn.due_at > now - timedelta(days=days),
            CheckIn.status.in_(SCORED),
        )
        .order_by(CheckIn.due_at)
    ).all()
    if not checkins:
        return []
    asked: dict[int, int] = defaultdict(int)
    for checkin in checkins:
        for cid in checkin.commitment_ids or []:
            asked[cid] += 1
    kept: dict[int, int] = defaultdict(int)
    for cid, result in session.exec(
        select(CheckInAnswer.commitment_id, CheckInAnswer.result).where(
            CheckInAnswer.checkin_id.in_([c.id for c in checkins])
        )
    ):
        kept[cid] += result == Result.KEPT
    rows = {c.id: c for c in session.exec(select(Commitment).where(Commitment.id.in_(asked)))}
    return [(rows[cid], kept[cid], n) for cid, n in asked.items() if cid in rows]


def asked() -> sa.ColumnElement:
    """How many commitments a check-in asked about (the length of its id list)."""
    return sa.func.coalesce(sa.func.json_array_length(CheckIn.commitment_ids), 0)


def answer_score() -> sa.ColumnElement:
    """One answer's points, in SQL: the score of core/checkin_rules.py (kept 1, partly ½)."""
    return sa.case(
        *((CheckInAnswer.result == result, sa.literal(float(points))) for result, points in
          checkin_rules.SCORE.items()),
        else_=sa.literal(0.0),
    )  # fmt: skip


def commitment_ratio(session, commitment, now: datetime, days: int) -> float | None:
    """Share of check-ins in the last `days` that found this one commitment kept."""
    rows = session.exec(
        select(CheckInAnswer.result)
        .join(CheckIn, CheckIn.id == CheckInAnswer.checkin_id)
        .where(
            CheckInAnswer.commitment_id == commitment.id,
            CheckIn.due_at > now - timedelta(days=days),
        )
    ).all()
    return checkin_rules.kept_ratio(
        [checkin_rules.Scored(CheckInStatus.ANSWERED, 1, (r,)) for r in rows]
    )


def calendar(session, participant: Participant, now: datetime) -> list[list[dict]]:
    """The last six weeks (Monday first), each day kept / partly / missed / waiting / none."""
    zone = ZoneInfo(participant.timezone)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=today.weekday() + 7 * (CALENDAR_WEEKS - 1))
    rows = session.exec(
        select(CheckIn).where(
            CheckIn.participant_id == participant.id,
            CheckIn.kind == CheckInKind.SELF,
            CheckIn.due_at >= now - timedelta(days=7 * CALENDAR_WEEKS + 1),
        )
    ).all()
    results = results_of(session, [c.id for c in rows])
    days: dict[date, str] = {}
    rank = checkin_rules.DAY_RANK
    for checkin in rows:
        day = checkin.due_at.astimezone(zone).date()
        state = checkin_rules.day_state(checkin.status, results.get(checkin.id, []))
        if rank[state] >= rank[days.get(day, "none")]:
            days[day] = state
    return [
        [
            {"date": day, "state": days.get(day, "none"), "future": day > today}
            for day in (first + timedelta(days=7 * w + d) for d in range(7))
        ]
        for w in range(CALENDAR_WEEKS)
    ]


# Trends -----------------------------------------------------------------------------------


@dataclass
class Week:
    start: date
    sent: int = 0
    answered: int = 0
    points: float = 0.0
    total: int = 0

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.sent if self.sent else None

    @property
    def kept(self) -> float | None:
        return self.points / self.total if self.total else None


def week_start(instant: datetime) -> date:
    day = instant.date()
    return day - timedelta(days=day.weekday())


def program_trends(
    session, programs: list[Program], now: datetime, weeks: int, counts=None
) -> list[dict]:
    """Each program with `weeks` Weeks (oldest first): check-ins sent and answered, kept."""
    figures = weekly_figures(session, [p.id for p in programs], now, weeks)
    return with_counts(session, programs, figures, counts)


def with_counts(
    session, programs: list[Program], figures: dict[int, list[Week]], counts=None
) -> list[dict]:
    """Each program with its weeks and how many people it has (active ones too).
    `counts`: {program id: (people, active)} where the caller has them already (Today adds
    them up with its funnel: one pass over the participants, not two)."""
    if not programs:
        return []
    if counts is None:
        active = sa.func.sum(sa.case((Participant.status == ParticipantStatus.ACTIVE, 1), else_=0))
        counts = {
            pid: (n, a or 0)
            for pid, n, a in session.execute(
                sa.select(Participant.program_id, sa.func.count(Participant.id), active)
                .where(Participant.program_id.in_([p.id for p in programs]), real_people())
                .group_by(Participant.program_id)
            )
        }
    return [
        {
            "program": p,
            "participants": counts.get(p.id, (0, 0))[0],
            "active": counts.get(p.id, (0, 0))[1],
            "weeks": figures[p.id],
        }
        for p in programs
    ]


def week_starts(now: datetime, weeks: int) -> list[date]:
    """The Mondays of the last `weeks` weeks, oldest first."""
    first = week_start(now) - timedelta(weeks=weeks - 1)
    return [first + timedelta(weeks=i) for i in range(weeks)]


def weekly_figures(session, program_ids: list[int], now: datetime, weeks: int):
    """{program id: `weeks` Weeks, oldest first}: check-ins sent and answered, kept.

    Added up by the database, grouped by program and week (two statements whatever the
    number of check-ins): never a check-in loaded, never a list of their ids."""
    starts = week_starts(now, weeks)
    by_program: dict[int, dict[int, Week]] = {
        pid: {i: Week(start) for i, start in enumerate(starts)} for pid in program_ids
    }
    if not program_ids:
        return {}

    def instant(day: date) -> datetime:
        return datetime.combine(day, datetime.min.time(), tzinfo=now.tzinfo)

    # The week each check-in falls in (0 = the oldest), by its due instant.
    week_of = sa.case(
        *((CheckIn.due_at >= instant(day), i) for i, day in reversed(list(enumerate(starts)))),
        else_=-1,
    )
    where = (
        Participant.program_id.in_(program_ids),
        real_people(),  # test personas never count
        CheckIn.kind == CheckInKind.SELF,
        CheckIn.due_at >= instant(starts[0]),
        CheckIn.sent_at.is_not(None),
    )
    answered = sa.or_(CheckIn.answered_at.is_not(None), CheckIn.status == CheckInStatus.ANSWERED)
    sent = (
        sa.select(
            Participant.program_id.label("program_id"),
            week_of.label("week"),
            sa.case((answered, 1), else_=0).label("answered"),
            sa.case((CheckIn.status == CheckInStatus.MISSED, asked()), else_=0).label("missed"),
        )
        .join(Participant, Participant.id == CheckIn.participant_id)
        .where(*where)
        .subquery()
    )
    for program_id, index, count, answers, missed in session.execute(
        sa.select(
            sent.c.program_id,
            sent.c.week,
            sa.func.count(),
            sa.func.sum(sent.c.answered),
            sa.func.sum(sent.c.missed),
        ).group_by(sent.c.program_id, sent.c.week)
    ):
        week = by_program[program_id].get(index)
        if week is not None:
            week.sent += count
            week.answered += int(answers or 0)
            week.total += int(missed or 0)
    scored = (
        sa.select(
            Participant.program_id.label("program_id"),
            week_of.label("week"),
            answer_score().label("points"),
        )
        .select_from(CheckInAnswer)
        .join(CheckIn, CheckIn.id == CheckInAnswer.checkin_id)
        .join(Participant, Participant.id == CheckIn.participant_id)
        .where(*where)
        .subquery()
    )
    for program_id, index, points, count in session.execute(
        sa.select(
            scored.c.program_id, scored.c.week, sa.func.sum(scored.c.points), sa.func.count()
        ).group_by(scored.c.program_id, scored.c.week)
    ):
        week = by_program[program_id].get(index)
        if week is not None:
            week.points += float(points or 0)
            week.total += count
    return {pid: list(found.values()) for pid, found in by_program.items()}


def percent(ratio: float | None) -> str:
    """A ratio as people read it: "67%", or "–" when there is nothing to count."""
    return "–" if ratio is None else f"{round(ratio * 100)}%"
