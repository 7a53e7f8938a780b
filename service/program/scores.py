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


def kept_stats(session, participant_ids: list[int], now: datetime) -> dict[int, tuple]:
    """(kept 7 days, kept 30 days) per participant. Only people with a scored check-in in
    the window can have a ratio: one query finds them, instead of two per row."""
    if not participant_ids:
        return {}
    scored = select(CheckIn.participant_id).where(
        CheckIn.participant_id.in_(participant_ids),
        CheckIn.kind == CheckInKind.SELF,
        CheckIn.due_at > now - timedelta(days=30),
        CheckIn.status.in_(SCORED),
    )
    return {
        p.id: (kept_ratio(session, p, now, 7), kept_ratio(session, p, now, 30))
        for p in session.exec(select(Participant).where(Participant.id.in_(scored)))
    }


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


def program_trends(session, programs: list[Program], now: datetime, weeks: int) -> list[dict]:
    """Each program with `weeks` Weeks (oldest first): check-ins sent and answered, kept."""
    first = week_start(now) - timedelta(weeks=weeks - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)
    by_program: dict[int, dict[date, Week]] = {
        p.id: {first + timedelta(weeks=i): Week(first + timedelta(weeks=i)) for i in range(weeks)}
        for p in programs
    }
    if not programs:
        return []
    checkins = session.execute(
        sa.select(CheckIn, Participant.program_id)
        .join(Participant, Participant.id == CheckIn.participant_id)
        .where(
            Participant.program_id.in_(list(by_program)),
            CheckIn.kind == CheckInKind.SELF,
            CheckIn.due_at >= since,
            CheckIn.sent_at.is_not(None),
        )
    ).all()
    results: dict[int, list[str]] = defaultdict(list)
    results.update(results_of(session, [c.id for c, _ in checkins]))
    for checkin, program_id in checkins:
        week = by_program[program_id].get(week_start(checkin.due_at))
        if week is None:
            continue
        week.sent += 1
        if checkin.answered_at is not None or checkin.status == CheckInStatus.ANSWERED:
            week.answered += 1
        scored = checkin_rules.Scored(
            checkin.status, len(checkin.commitment_ids or []), tuple(results.get(checkin.id, ()))
        )
        gained, counted = checkin_rules.points([scored])
        week.points += gained
        week.total += counted
    active = sa.func.sum(sa.case((Participant.status == ParticipantStatus.ACTIVE, 1), else_=0))
    counts = {
        pid: (n, a or 0)
        for pid, n, a in session.execute(
            sa.select(Participant.program_id, sa.func.count(Participant.id), active)
            .where(Participant.program_id.in_(list(by_program)))
            .group_by(Participant.program_id)
        )
    }
    return [
        {
            "program": p,
            "participants": counts.get(p.id, (0, 0))[0],
            "active": counts.get(p.id, (0, 0))[1],
            "weeks": list(by_program[p.id].values()),
        }
        for p in programs
    ]


def percent(ratio: float | None) -> str:
    """A ratio as people read it: "67%", or "–" when there is nothing to count."""
    return "–" if ratio is None else f"{round(ratio * 100)}%"
