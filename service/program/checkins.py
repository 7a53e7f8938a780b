"""Step 5: scheduled check-ins, their answers, nudges, misses and scores.

Each participant in step 5 has a stored next-due instant (`next_checkin_at`, UTC, indexed),
so the tick reads only who is due. A check-in row is unique per (participant, kind, due
instant) and its text has the idempotency key `checkin:<id>`: a tick that runs twice, or a
job that is retried, cannot create or send a second one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core import schedule, texts
from service.core.answers import parse_checkin_answer
from service.core.options import option, parse_hhmm
from service.infra.db import insert_new, row_values
from service.messaging import outbox
from service.models import (
    CheckIn,
    CheckInAnswer,
    Commitment,
    Facilitator,
    Message,
    Participant,
    Program,
)
from service.program.audit import record
from service.program.commitments import active_commitments_of

log = logging.getLogger(__name__)

# A late answer still counts for a check-in missed this long after its day closed.
GRACE = timedelta(hours=12)
MISSES_FLAGGED = 3
WEEKLY = schedule.Cadence.parse("every:7@19:00")


def _local_date(instant: datetime, tz: str):
    return instant.astimezone(ZoneInfo(tz)).date()


# Settings for one person ----------------------------------------------------------------


def quiet_for(program: Program, participant: Participant) -> schedule.QuietHours:
    return schedule.QuietHours(
        parse_hhmm(participant.quiet_start or program.quiet_start),
        parse_hhmm(participant.quiet_end or program.quiet_end),
    )


def base_cadence(program: Program, participant: Participant) -> schedule.Cadence:
    return schedule.Cadence.parse(participant.cadence or program.cadence)


def current_cadence(program: Program, participant: Participant) -> schedule.Cadence:
    return schedule.Cadence.parse(
        participant.current_cadence or participant.cadence or program.cadence
    )


def next_due_after(program: Program, participant: Participant, after: datetime):
    return schedule.next_due(
        after,
        current_cadence(program, participant),
        participant.timezone,
        quiet_for(program, participant),
        program.start_date,
        program.end_date,
    )


def start(session: Session, participant: Participant, now: datetime) -> None:
    """Commitments are live: schedule the first check-in (and a partner's, if shared)."""
    program = session.get(Program, participant.program_id)
    participant.next_checkin_at = next_due_after(program, participant, now)
    session.add(participant)
    partner = session.get(Participant, participant.partner_id) if participant.partner_id else None
    if partner is not None and two_sided(program, participant, partner):
        for person in (participant, partner):
            if person.next_partner_checkin_at is None:
                person.next_partner_checkin_at = _next_weekly(program, person, now)
                session.add(person)


def two_sided(program: Program, a: Participant, b: Participant) -> bool:
    return bool(option(program, "two_sided") and a.share_with_partner and b.share_with_partner)


def _next_weekly(program, participant, after):
    """A week after `after` (local date), an hour after their own check-in time (so the
    two questions never arrive together and an answer is not read against the wrong one)."""
    own = current_cadence(program, participant).at
    quiet = quiet_for(program, participant)
    later = (datetime.combine(date.min, own) + timedelta(hours=1)).time()
    at = later if own < later <= quiet.last else quiet.last
    week_later = _local_date(after, participant.timezone) + timedelta(days=7)
    return schedule.next_due(
        after,
        schedule.Cadence.daily(at),
        participant.timezone,
        quiet_for(program, participant),
        week_later,
        program.end_date,
    )


# The tick -------------------------------------------------------------------------------


@dataclass
class TickResult:
    created: int = 0
    nudged: int = 0
    missed: int = 0
    skipped: int = 0
    messages: list = field(default_factory=list)
    more: bool = False  # a query hit its limit: more may be due right now


def tick(services, *, limit: int = 1000) -> TickResult:
    """Create due check-ins, nudges and misses; returns the outbox rows to send.

    Work is read and written in batches (a few statements per tick, not per person), so
    a tick's cost follows how many are due.
    """
    now = services.now()
    result = TickResult()
    with services.sessions() as session:
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
            checkin = _due_checkin(
                programs[participant.program_id], participant, active.get(participant.id), now
            )
            if checkin is None:
                result.skipped += 1
            else:
                pending.append((programs[participant.program_id], participant, checkin))
        sent = _send_checkins(session, pending, active, now, result)
        _weekly_summaries(session, sent, now, result)

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
            checkin = _partner_checkin(session, program, participant, active, now)
            if checkin is not None:
                pending.append((program, participant, checkin))
        _send_checkins(session, pending, active, now, result)
        _nudges(session, now, result, limit)
        _misses(session, now, result, limit)
        session.commit()
    return result


def tick_until_done(services, send, *, limit: int = 1000, budget_s: float = 45.0) -> dict:
    """Tick in batches of `limit` until nothing due is left, handing each batch's texts to
    `send` as soon as it is committed, so 10,000 check-ins due at 10:00 all leave at 10:00
    rather than 1,000 a minute. Past `budget_s` it stops; the next minute's tick goes on."""
    totals = {"created": 0, "nudged": 0, "missed": 0, "batches": 0}
    stop_at = time.monotonic() + budget_s
    while True:
        result = tick(services, limit=limit)
        send(result.messages)
        totals["created"] += result.created
        totals["nudged"] += result.nudged
        totals["missed"] += result.missed
        totals["batches"] += 1
        if not result.more or time.monotonic() > stop_at:
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


def _due_checkin(program, participant, commitments, now) -> CheckIn | None:
    """Move the participant's next-due time on; the check-in to send now, if any."""
    due_at = participant.next_checkin_at
    participant.next_checkin_at = next_due_after(program, participant, max(due_at, now))
    if participant.status in ("opted_out", "undeliverable", "closed") or participant.step < 5:
        participant.next_checkin_at = None  # nothing more until they are back
        return None
    quiet = quiet_for(program, participant)
    closes_at = schedule.local_end_of_day(due_at, participant.timezone, quiet)
    if participant.status == "paused" or closes_at <= now:
        # Paused, or the day it was due is over (e.g. after an outage): never sent late.
        return None
    if not commitments:
        return None
    return CheckIn(
        participant_id=participant.id,
        kind="self",
        due_at=due_at,
        next_nudge_at=_first_nudge(program, participant, due_at),
        closes_at=closes_at,
        commitment_ids=[c.id for c in commitments],
    )


TEMPLATE = {"self": "checkin", "partner": "partner_checkin"}


def _send_checkins(session, pending, active, now, result: TickResult) -> list:
    """Insert the check-ins (unique per participant, kind and due instant) and queue their
    texts, each in one statement; returns [(program, participant, check-in)] for those
    inserted. A due instant already handled (a tick run twice) is left alone."""
    rows = []
    for _program, _participant, checkin in pending:
        checkin.sent_at = checkin.due_at
        checkin.status = "open"
        checkin.created_at = now
        rows.append(row_values(checkin))
    inserted = {
        (c.participant_id, c.kind): c
        for c in insert_new(session, CheckIn, rows, ("participant_id", "kind", "due_at"))
    }
    sent, texts_ = [], []
    for program, participant, checkin in pending:
        stored = inserted.get((participant.id, checkin.kind))
        if stored is None:
            continue
        asked = set(stored.commitment_ids)
        items = [c for c in active.get(stored.subject_id or participant.id, []) if c.id in asked]
        texts_.append(
            outbox.compose_text(
                session,
                participant,
                TEMPLATE[stored.kind],
                key=f"checkin:{stored.id}",
                now=now,
                program=program,
                values={"items": texts.format_items(c.text for c in items)},
                allow_paused=False,
            )
        )
        sent.append((program, participant, stored))
    for (_program, _participant, stored), message in zip(
        sent, outbox.insert_all(session, texts_), strict=True
    ):
        stored.message_id = message.id if message is not None else None
        result.created += 1
        result.messages.append(message)
    return sent


def _weekly_summaries(session, sent, now, result: TickResult) -> None:
    """On a participant's local Sunday, their check-in comes with the week's summary."""
    summaries = [
        _weekly_summary(session, program, participant, checkin.due_at, now)
        for program, participant, checkin in sent
        if _local_date(checkin.due_at, participant.timezone).weekday() == 6
    ]
    result.messages.extend(outbox.insert_all(session, [m for m in summaries if m is not None]))


def _first_nudge(program, participant, sent_at):
    if option(program, "max_nudges") < 1:
        return None
    delay = timedelta(minutes=option(program, "nudge_delay_minutes"))
    return schedule.nudge_time(
        sent_at, delay, participant.timezone, quiet_for(program, participant)
    )


def _partner_checkin(session, program, participant, active, now) -> CheckIn | None:
    """Move the weekly partner question on; the one to ask now, if any."""
    due_at = participant.next_partner_checkin_at
    participant.next_partner_checkin_at = _next_weekly(program, participant, max(due_at, now))
    partner = session.get(Participant, participant.partner_id) if participant.partner_id else None
    eligible = (
        partner is not None
        and two_sided(program, participant, partner)
        and participant.status == "active"
        and participant.step == 5
        and partner.step == 5
    )
    if not eligible:
        participant.next_partner_checkin_at = None
        return None
    shared = [c for c in active.get(partner.id, []) if c.shared_key]
    if not shared:
        return None
    quiet = quiet_for(program, participant)
    closes_at = schedule.local_end_of_day(due_at, participant.timezone, quiet)
    if closes_at <= now:
        return None
    return CheckIn(
        participant_id=participant.id,
        kind="partner",
        subject_id=partner.id,
        due_at=due_at,
        closes_at=closes_at,
        commitment_ids=[c.id for c in shared],
    )


def _nudges(session, now, result: TickResult, limit: int) -> None:
    rows = session.exec(
        select(CheckIn)
        .where(CheckIn.next_nudge_at <= now)
        .order_by(CheckIn.next_nudge_at)
        .limit(limit)
    ).all()
    result.more |= len(rows) == limit
    held = _load(session, Participant, {c.participant_id for c in rows})
    held += _load(session, Program, {p.program_id for p in held})
    messages = []
    for checkin in rows:
        checkin.next_nudge_at = None
        participant = session.get(Participant, checkin.participant_id)
        program = session.get(Program, participant.program_id)
        if checkin.status != "open" or participant.status != "active":
            continue
        messages.append(
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
        if checkin.nudges_sent < min(option(program, "max_nudges"), 2):
            delay = timedelta(minutes=option(program, "nudge_delay_minutes"))
            checkin.next_nudge_at = schedule.nudge_time(
                now, delay, participant.timezone, quiet_for(program, participant)
            )
    result.messages.extend(outbox.insert_all(session, messages))


def _misses(session, now, result: TickResult, limit: int) -> None:
    rows = session.exec(
        select(CheckIn).where(CheckIn.closes_at <= now).order_by(CheckIn.closes_at).limit(limit)
    ).all()
    result.more |= len(rows) == limit
    people = {p.id: p for p in _load(session, Participant, {c.participant_id for c in rows})}
    for checkin in rows:
        checkin.closes_at = None
        checkin.next_nudge_at = None
        if checkin.status != "open":
            continue
        checkin.status = "missed"
        result.missed += 1
        if checkin.kind == "self":
            _after_result(session, people[checkin.participant_id], now)


# Answers --------------------------------------------------------------------------------


@dataclass
class AnswerOutcome:
    handled: bool
    replies: list[str] = field(default_factory=list)
    extra: list = field(default_factory=list)  # outbox rows besides the replies


def open_checkin(session: Session, participant: Participant, now: datetime) -> CheckIn | None:
    """The latest check-in an answer now would apply to (open, or missed within grace)."""
    latest = session.exec(
        select(CheckIn)
        .where(CheckIn.participant_id == participant.id, CheckIn.due_at <= now)
        .order_by(CheckIn.due_at.desc())
        .limit(1)
    ).first()
    if latest is None or latest.status in ("answered", "cancelled"):
        return None
    if latest.status == "missed":
        program = session.get(Program, participant.program_id)
        closed = schedule.local_end_of_day(
            latest.due_at, participant.timezone, quiet_for(program, participant)
        )
        if now > closed + GRACE:
            return None
    return latest


def answer(session: Session, participant: Participant, message: Message, now) -> AnswerOutcome:
    """Read a text as the answer to the open check-in, if there is one."""
    checkin = open_checkin(session, participant, now)
    if checkin is None:
        return AnswerOutcome(False)
    commitments = _commitments(session, checkin.commitment_ids)
    parsed = parse_checkin_answer(message.body, len(commitments))
    if parsed.ambiguous:
        if checkin.clarified:
            return AnswerOutcome(False)  # asked once already: keep it as a note
        checkin.clarified = True
        session.add(checkin)
        return AnswerOutcome(True, ["checkin_clarify"])
    for commitment, value in zip(commitments, parsed.results, strict=True):
        existing = session.exec(
            select(CheckInAnswer).where(
                CheckInAnswer.checkin_id == checkin.id,
                CheckInAnswer.commitment_id == commitment.id,
            )
        ).first()
        if existing is not None:
            existing.result = value  # a correction replaces the earlier answer
        else:
            session.add(
                CheckInAnswer(checkin_id=checkin.id, commitment_id=commitment.id, result=value)
            )
    checkin.status = "answered"
    checkin.answered_at = now
    checkin.answer_raw = message.body
    checkin.note = parsed.note
    checkin.next_nudge_at = None
    checkin.closes_at = None
    session.add(checkin)
    session.flush()
    outcome = AnswerOutcome(True, ["checkin_thanks"])
    if checkin.kind == "partner":
        _compare_with_self_report(session, participant, checkin, parsed.results, now)
        return outcome
    before = participant.streak
    outcome.extra += _after_result(session, participant, now)
    program = session.get(Program, participant.program_id)
    if participant.streak > before and participant.streak in option(program, "milestones"):
        outcome.extra.append(
            outbox.queue_text(
                session,
                participant,
                "milestone",
                key=f"milestone:{participant.id}:{checkin.id}",
                now=now,
                program=program,
                reply=True,
                values={"streak": participant.streak},
            )
        )
    return outcome


def _commitments(session, ids) -> list[Commitment]:
    if not ids:
        return []
    rows = {c.id: c for c in session.exec(select(Commitment).where(Commitment.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


def _compare_with_self_report(session, participant, checkin, results, now) -> None:
    """A partner's view that differs from the self-report needs the facilitator."""
    subject = session.get(Participant, checkin.subject_id)
    by_key = {}
    for commitment, value in zip(
        _commitments(session, checkin.commitment_ids), results, strict=True
    ):
        by_key[commitment.shared_key] = (commitment, value)
    own = session.exec(
        select(CheckInAnswer, CheckIn)
        .join(CheckIn, CheckIn.id == CheckInAnswer.checkin_id)
        .where(
            CheckIn.participant_id == subject.id,
            CheckIn.kind == "self",
            CheckIn.due_at >= checkin.due_at - timedelta(days=7),
        )
        .order_by(CheckIn.due_at.desc())
    ).all()
    seen = set()
    for self_answer, _ in own:
        commitment = session.get(Commitment, self_answer.commitment_id)
        if commitment.id in seen or commitment.shared_key not in by_key:
            continue
        seen.add(commitment.id)
        partner_view = by_key[commitment.shared_key][1]
        if (self_answer.result == "kept") != (partner_view == "kept"):
            outbox.flag(
                session,
                subject,
                "disagreement",
                f"self-report {self_answer.result}, partner says {partner_view}",
                now,
            )


def _after_result(session, participant: Participant, now) -> list:
    """Recompute streak and misses from history; step the cadence ladder."""
    program = session.get(Program, participant.program_id)
    history = session.exec(
        select(CheckIn)
        .where(
            CheckIn.participant_id == participant.id,
            CheckIn.kind == "self",
            CheckIn.status.in_(("answered", "missed")),
        )
        .order_by(CheckIn.due_at.desc())
        .limit(400)
    ).all()
    fully_kept = _fully_kept(session, [c.id for c in history if c.status == "answered"])
    streak = 0
    for checkin in history:
        if checkin.id not in fully_kept:
            break
        streak += 1
    misses = 0
    for checkin in history:
        if checkin.status != "missed":
            break
        misses += 1
    participant.streak = streak
    participant.misses_in_row = misses
    if misses == MISSES_FLAGGED:
        outbox.flag(session, participant, "missed_run", f"{misses} check-ins missed in a row", now)
    if option(program, "adaptive_cadence"):
        ladder = schedule.ladder_cadence(
            base_cadence(program, participant), streak, option(program, "ladder_step")
        )
        if str(ladder) != str(current_cadence(program, participant)):
            participant.current_cadence = str(ladder)
            participant.next_checkin_at = next_due_after(program, participant, now)
    session.add(participant)
    return []


def _fully_kept(session, checkin_ids: list[int]) -> set[int]:
    if not checkin_ids:
        return set()
    rows = session.exec(
        select(CheckInAnswer.checkin_id, CheckInAnswer.result).where(
            CheckInAnswer.checkin_id.in_(checkin_ids)
        )
    ).all()
    not_kept = {cid for cid, result in rows if result != "kept"}
    answered = {cid for cid, _ in rows}
    return answered - not_kept


# Scores ---------------------------------------------------------------------------------


def kept_ratio(session, participant: Participant, now: datetime, days: int) -> float | None:
    """Share of commitments kept over the last `days` (partly counts half; a miss is 0)."""
    checkins = session.exec(
        select(CheckIn).where(
            CheckIn.participant_id == participant.id,
            CheckIn.kind == "self",
            CheckIn.due_at > now - timedelta(days=days),
            CheckIn.status.in_(("answered", "missed")),
        )
    ).all()
    if not checkins:
        return None
    answers = session.exec(
        select(CheckInAnswer).where(CheckInAnswer.checkin_id.in_([c.id for c in checkins]))
    ).all()
    score = {"kept": 1.0, "partly": 0.5, "missed": 0.0}
    points = sum(score[a.result] for a in answers)
    total = len(answers) + sum(len(c.commitment_ids) for c in checkins if c.status == "missed")
    return points / total if total else None


def commitment_ratio(session, commitment: Commitment, now: datetime, days: int) -> float | None:
    rows = session.exec(
        select(CheckInAnswer.result)
        .join(CheckIn, CheckIn.id == CheckInAnswer.checkin_id)
        .where(
            CheckInAnswer.commitment_id == commitment.id,
            CheckIn.due_at > now - timedelta(days=days),
        )
    ).all()
    if not rows:
        return None
    return sum({"kept": 1.0, "partly": 0.5}.get(r, 0.0) for r in rows) / len(rows)


def _weekly_summary(session, program, participant, due_at, now):
    ratio = kept_ratio(session, participant, now, 7)
    if ratio is None:
        return None
    week = _local_date(due_at, participant.timezone).isocalendar()
    return outbox.compose_text(
        session,
        participant,
        "weekly_summary",
        key=f"weekly:{participant.id}:{week.year}-{week.week}",
        now=now,
        program=program,
        values={"kept_7d": round(ratio * 100), "streak": participant.streak},
        allow_paused=False,
    )


# Pause, resume and closure ------------------------------------------------------------


def resume(session: Session, participant: Participant, now: datetime) -> None:
    """After a pause, the schedule starts again from now."""
    if participant.step == 5:
        program = session.get(Program, participant.program_id)
        participant.next_checkin_at = next_due_after(program, participant, now)
        session.add(participant)


def close_participant(
    session: Session,
    participant: Participant,
    *,
    outcome: str,
    now: datetime,
    actor: str,
    message: str | None = None,
) -> tuple[Message | None, list[int]]:
    """End someone's program: the closing text goes once, everything scheduled stops.

    Returns (closing message, ids of outbox rows cancelled) so the caller can also drop
    the queue's scheduled jobs for them.
    """
    if outcome not in ("restored", "ended"):
        raise ValueError("outcome must be 'restored' or 'ended'")
    if participant.status == "closed":
        return None, []
    template = f"closing_{outcome}"
    cancelled_ids = list(
        session.exec(
            select(Message.id).where(
                Message.participant_id == participant.id,
                Message.direction == "out",
                Message.status == "pending",
            )
        )
    )
    outbox.cancel_pending(session, participant, now)
    closing = None
    if participant.status in ("active", "paused", "invited"):
        # Written before the status changes: the closing text is the one that still goes.
        closing = outbox.queue_text(
            session,
            participant,
            template,
            key=f"closing:{participant.id}",
            now=now,
            body=message or None,
        )
    session.execute(
        sa.update(CheckIn)
        .where(CheckIn.participant_id == participant.id, CheckIn.status == "open")
        .values(status="cancelled", next_nudge_at=None, closes_at=None)
    )
    participant.status = "closed"
    participant.outcome = outcome
    participant.closed_at = now
    participant.next_checkin_at = None
    participant.next_partner_checkin_at = None
    participant.prompt = None
    session.add(participant)
    record(session, actor, "close", participant, now=now, detail={"outcome": outcome})
    return closing, cancelled_ids


def close(services, participant_id: int, *, outcome: str, actor: str, message=None):
    """Close one participant and drop whatever the queue still had scheduled for them."""
    now = services.now()
    with services.sessions() as session:
        participant = session.get(Participant, participant_id)
        closing, cancelled = close_participant(
            session, participant, outcome=outcome, now=now, actor=actor, message=message
        )
        session.commit()
    if cancelled:
        services.dispatcher.cancel([f"send-{i}" for i in cancelled])
    outbox.enqueue_sends(services, [closing])
    return closing
