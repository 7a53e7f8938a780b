"""The tick: due check-ins, partner questions, nudges and misses, in batches.

A check-in row is unique per (participant, kind, due instant) and its text has the
idempotency key `checkin:<id>`: a tick that runs twice, or a job that is retried, cannot
create or send a second one. Work is read and written a batch at a time (a few statements
per tick, not per person), so a tick's cost follows how many are due.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlmodel import select

from service.core import checkin_rules, texts
from service.core.enums import CheckInKind, CheckInStatus, ParticipantStatus
from service.infra.db import insert_new, row_values
from service.infra.metrics import Metrics
from service.infra.queue import Lane
from service.messaging import outbox
from service.models import CheckIn, Facilitator, Participant, Program
from service.program import checkin_answers, scores
from service.program.commitments import active_commitments_of
from service.unit_of_work import UnitOfWork

TEMPLATE = {CheckInKind.SELF: "checkin", CheckInKind.PARTNER: "partner_checkin"}


@dataclass
class TickResult:
    created: int = 0
    nudged: int = 0
    missed: int = 0
    skipped: int = 0
    messages: list = field(default_factory=list)
    more: bool = False  # a query hit its limit: more may be due right now


def tick(services, *, limit: int = 1000) -> TickResult:
    """One batch of due check-ins, nudges and misses; their texts are queued as it commits."""
    result = TickResult()
    with UnitOfWork(services, lane=Lane.BULK) as uow:
        session, now = uow.session, uow.now
        due = session.exec(
            select(Participant)
            .where(Participant.next_checkin_at <= now)
            .order_by(Participant.next_checkin_at)
            .limit(limit)
        ).all()
        result.more |= len(due) == limit
        programs = _programs(session, due)
        # What every text mentions (facilitator, partner), loaded once and held here.
        held = _load(session, Facilitator, {p.owner_id for p in programs.values()})
        held += _load(session, Participant, {p.partner_id for p in due} - {None})
        active = active_commitments_of(session, [p.id for p in due])
        pending = []
        for participant in due:
            program = programs[participant.program_id]
            ids = [c.id for c in active.get(participant.id, [])]
            following, plan = checkin_rules.due(program, participant, ids, now)
            participant.next_checkin_at = following
            if plan is None:
                result.skipped += 1
            else:
                pending.append((program, participant, plan))
        sent = _send(uow, pending, active, result)
        _weekly_summaries(uow, sent, result)

        partners = session.exec(
            select(Participant)
            .where(Participant.next_partner_checkin_at <= now)
            .order_by(Participant.next_partner_checkin_at)
            .limit(limit)
        ).all()
        result.more |= len(partners) == limit
        more_programs = _programs(session, partners, known=programs)
        programs.update(more_programs)
        held += _load(session, Facilitator, {p.owner_id for p in more_programs.values()})
        held += _load(session, Participant, {p.partner_id for p in partners} - {None})
        active = active_commitments_of(session, [p.partner_id for p in partners if p.partner_id])
        pending = []
        for participant in partners:
            program = programs[participant.program_id]
            partner = (
                session.get(Participant, participant.partner_id) if participant.partner_id else None
            )
            shared = [c.id for c in active.get(partner.id, []) if c.shared_key] if partner else []
            following, plan = checkin_rules.partner_due(program, participant, partner, shared, now)
            participant.next_partner_checkin_at = following
            if plan is not None:
                pending.append((program, participant, plan))
        _send(uow, pending, active, result)
        _nudges(uow, result, limit)
        _misses(uow, result, limit)
        uow.send(*result.messages)
        uow.commit()
    return result


def tick_until_done(services, *, limit: int = 1000, budget_s: float = 45.0) -> dict:
    """Tick in batches of `limit` until nothing due is left, each batch's texts queued as
    it commits, so 10,000 check-ins due at 10:00 all leave at 10:00 rather than 1,000 a
    minute. Past `budget_s` it stops; the next minute's tick goes on."""
    totals = {"created": 0, "nudged": 0, "missed": 0, "batches": 0}
    started = time.monotonic()
    stop_at = started + budget_s
    while True:
        result = tick(services, limit=limit)
        totals["created"] += result.created
        totals["nudged"] += result.nudged
        totals["missed"] += result.missed
        totals["batches"] += 1
        if not result.more or time.monotonic() > stop_at:
            Metrics(services.redis).tick_done(time.monotonic() - started, totals["created"])
            return totals


def _programs(session, participants, known=()) -> dict[int, Program]:
    """Their programs, in one query (skipping the ids in `known`)."""
    ids = {p.program_id for p in participants} - set(known)
    if not ids:
        return {}
    return {p.id: p for p in session.exec(select(Program).where(Program.id.in_(ids)))}


def _load(session, model, ids) -> list:
    """Bring these rows into the session in one query, so `session.get` finds them there
    (while the caller holds the list: the session's identity map keeps weak references)."""
    return session.exec(select(model).where(model.id.in_(ids))).all() if ids else []


def _send(uow: UnitOfWork, pending, active, result: TickResult) -> list:
    """Insert the check-ins (unique per participant, kind and due instant) and write their
    texts, each in one statement; returns [(program, participant, check-in)] for those
    inserted. A due instant already handled (a tick run twice) is left alone."""
    session, now = uow.session, uow.now
    rows = []
    for _program, participant, plan in pending:
        checkin = CheckIn(
            participant_id=participant.id,
            kind=plan.kind,
            subject_id=plan.subject_id,
            due_at=plan.due_at,
            sent_at=plan.due_at,
            status=CheckInStatus.OPEN,
            next_nudge_at=plan.next_nudge_at,
            closes_at=plan.closes_at,
            commitment_ids=list(plan.commitment_ids),
            created_at=now,
        )
        rows.append(row_values(checkin))
    inserted = {
        (c.participant_id, c.kind): c
        for c in insert_new(session, CheckIn, rows, ("participant_id", "kind", "due_at"))
    }
    sent, written = [], []
    for program, participant, _plan in pending:
        stored = inserted.get((participant.id, _plan.kind))
        if stored is None:
            continue
        asked = set(stored.commitment_ids)
        items = [c for c in active.get(stored.subject_id or participant.id, []) if c.id in asked]
        written.append(
            outbox.compose_text(
                session,
                participant,
                TEMPLATE[CheckInKind(stored.kind)],
                key=f"checkin:{stored.id}",
                now=now,
                program=program,
                values={"items": texts.format_items(c.text for c in items)},
                allow_paused=False,
            )
        )
        sent.append((program, participant, stored))
    for (_program, _participant, stored), message in zip(
        sent, outbox.insert_all(session, written), strict=True
    ):
        stored.message_id = message.id if message is not None else None
        result.created += 1
        result.messages.append(message)
    return sent


def _weekly_summaries(uow: UnitOfWork, sent, result: TickResult) -> None:
    """On a participant's local Sunday, their check-in comes with the week's summary."""
    summaries = [
        _weekly_summary(uow, program, participant, checkin.due_at)
        for program, participant, checkin in sent
        if checkin_rules.weekly_summary_due(checkin.due_at, participant.timezone)
    ]
    written = [m for m in summaries if m is not None]
    result.messages.extend(outbox.insert_all(uow.session, written))


def _weekly_summary(uow: UnitOfWork, program, participant, due_at):
    ratio = scores.kept_ratio(uow.session, participant, uow.now, 7)
    if ratio is None:
        return None
    week = checkin_rules.local_date(due_at, participant.timezone).isocalendar()
    return outbox.compose_text(
        uow.session,
        participant,
        "weekly_summary",
        key=f"weekly:{participant.id}:{week.year}-{week.week}",
        now=uow.now,
        program=program,
        values={"kept_7d": round(ratio * 100), "streak": participant.streak},
        allow_paused=False,
    )


def _nudges(uow: UnitOfWork, result: TickResult, limit: int) -> None:
    session, now = uow.session, uow.now
    rows = session.exec(
        select(CheckIn)
        .where(CheckIn.next_nudge_at <= now)
        .order_by(CheckIn.next_nudge_at)
        .limit(limit)
    ).all()
    result.more |= len(rows) == limit
    held = _load(session, Participant, {c.participant_id for c in rows})
    held += _load(session, Program, {p.program_id for p in held})
    written = []
    for checkin in rows:
        checkin.next_nudge_at = None
        participant = session.get(Participant, checkin.participant_id)
        program = session.get(Program, participant.program_id)
        if checkin.status != CheckInStatus.OPEN or participant.status != ParticipantStatus.ACTIVE:
            continue
        written.append(
            outbox.compose_text(
                session,
                participant,
                "checkin_nudge",
                key=f"nudge:{checkin.id}:{checkin.nudges_sent + 1}",
                now=now,
                program=program,
                allow_paused=False,
            )
        )
        checkin.nudges_sent += 1
        result.nudged += 1
        checkin.next_nudge_at = checkin_rules.next_nudge(
            program, participant, checkin.nudges_sent, now
        )
    result.messages.extend(outbox.insert_all(session, written))


def _misses(uow: UnitOfWork, result: TickResult, limit: int) -> None:
    session = uow.session
    rows = session.exec(
        select(CheckIn).where(CheckIn.closes_at <= uow.now).order_by(CheckIn.closes_at).limit(limit)
    ).all()
    result.more |= len(rows) == limit
    people = {p.id: p for p in _load(session, Participant, {c.participant_id for c in rows})}
    for checkin in rows:
        checkin.closes_at = None
        checkin.next_nudge_at = None
        if checkin.status != CheckInStatus.OPEN:
            continue
        checkin.status = CheckInStatus.MISSED
        result.missed += 1
        if checkin.kind == CheckInKind.SELF:
            participant = people[checkin.participant_id]
            program = session.get(Program, participant.program_id)
            checkin_answers.after_result(uow, participant, program)
