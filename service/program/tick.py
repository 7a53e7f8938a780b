"""The tick: due check-ins, partner questions, nudges and misses.

The cron's job (`queue_due`) only finds what is due, ids only, and queues a bulk job per
page of them (`run_page`), so it takes about a second however many fall due at 19:00 and
holds no worker while the wave is written. The next minute's tick leaves out ids whose page
still waits in the queue (behind the wave, say); a page lost with a worker that died is not
waiting any more, so the next tick finds its ids again.

A page re-reads its rows inside its own transaction, keeping only those still due and
locking them (check-ins, then participants, each in id order), so a page run twice, or two
workers running overlapping pages, do each thing once. Besides, a check-in row is unique
per (participant, kind, due instant) and every text has an idempotency key
(`checkin:<id>`, `nudge:<id>:<n>`): nothing can be created or sent a second time.

What falls due for a person is done in one order, whichever page comes first: their new
check-in (with Sunday's summary) and partner question, then a nudge, then the miss of an
old check-in (a miss can move the trust ladder, and so their next check-in). A miss page
therefore does first whatever of that is due for the same person.

`tick` (one batch of every kind, in one transaction) and `tick_until_done` (batches until
nothing is left) do the same work at once, in this process: for tests and scripts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import or_, select

from service.core import checkin_rules, commitment_rules, texts
from service.core.commitment_labels import label_of
from service.core.enums import CheckInKind, CheckInStatus, ParticipantStatus
from service.infra.db import insert_new, row_values
from service.infra.metrics import CHECKINS_CREATED, Metrics
from service.infra.queue import Lane
from service.messaging import outbox
from service.models import CheckIn, Commitment, Facilitator, Participant, Program
from service.program import checkin_answers, scores, webhooks
from service.program.commitments import active_commitments_of
from service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

TEMPLATE = {CheckInKind.SELF: "checkin", CheckInKind.PARTNER: "partner_checkin"}

# What a tick finds due, in the order it is done: participants whose check-in is due,
# participants whose partner question is due, check-ins to nudge, check-ins to close.
CHECKIN, PARTNER, NUDGE, MISS = "checkin", "partner", "nudge", "miss"
KINDS = (CHECKIN, PARTNER, NUDGE, MISS)
PAGE_TASK = "tick_page"
PAGE = 500  # ids per page job: a page writes its check-ins and texts in well under a second
MOST = 100_000  # ids of one kind found by one tick (the earliest due first)


@dataclass
class TickResult:
    created: int = 0
    nudged: int = 0
    missed: int = 0
    skipped: int = 0
    messages: list = field(default_factory=list)
    more: bool = False  # a query hit its limit: more may be due right now

    def counts(self) -> dict:
        return {
            "created": self.created,
            "nudged": self.nudged,
            "missed": self.missed,
            "skipped": self.skipped,
        }


# Finding what is due -------------------------------------------------------------------


def find_due(session, now, limit: int) -> dict[str, list[int]]:
    """The ids due now of each kind (at most `limit` each, the earliest due first)."""
    columns = {
        CHECKIN: (Participant.id, Participant.next_checkin_at),
        PARTNER: (Participant.id, Participant.next_partner_checkin_at),
        NUDGE: (CheckIn.id, CheckIn.next_nudge_at),
        MISS: (CheckIn.id, CheckIn.closes_at),
    }
    return {
        kind: list(session.exec(select(key).where(due <= now).order_by(due).limit(limit)))
        for kind, (key, due) in columns.items()
    }


def waiting_pages(services) -> dict[str, set[int]]:
    """The ids of each kind that a page waiting in the queue (or set for a retry) holds."""
    held: dict[str, set[int]] = {kind: set() for kind in KINDS}
    for kind, ids in services.dispatcher.waiting(PAGE_TASK):
        held.setdefault(kind, set()).update(ids)
    return held


def queue_due(services, *, page: int = PAGE, most: int = MOST) -> dict:
    """The cron's tick: find what is due (ids only) and queue one bulk job per page of it,
    leaving out ids a waiting page holds. A page that cannot be queued (Redis away) is
    found again by the next tick."""
    started = time.monotonic()
    now = services.now()
    with services.sessions() as session:
        found = find_due(session, now, most)
    report = {"pages": 0, "queued": dict.fromkeys(KINDS, 0), "held": 0, "not_queued": 0}
    waiting = waiting_pages(services) if any(found.values()) else {}
    for kind in KINDS:  # in the order they are done (one worker takes them in this order)
        ids = found[kind]
        if not ids:
            continue
        fresh = [i for i in ids if i not in waiting[kind]]
        report["held"] += len(ids) - len(fresh)
        for start in range(0, len(fresh), page):
            chunk = fresh[start : start + page]
            if services.dispatcher.enqueue(PAGE_TASK, kind, chunk, lane=Lane.BULK):
                report["pages"] += 1
                report["queued"][kind] += len(chunk)
            else:
                report["not_queued"] += len(chunk)
    if report["not_queued"]:
        log.warning("tick: %d due ids not queued (queue unavailable)", report["not_queued"])
    Metrics(services.redis).tick_done(time.monotonic() - started, 0)
    return report


def run_page(services, kind: str, ids: list[int]) -> dict:
    """One queued page: those of `ids` still due are done now, their texts queued on bulk
    as it commits."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of due work {kind!r}")
    with UnitOfWork(services, lane=Lane.BULK) as uow:
        result = _work(uow, {kind: ids})
        uow.send(*result.messages)
        uow.commit()
    Metrics(services.redis).count(CHECKINS_CREATED, result.created)
    return result.counts()


# Doing it at once (tests, scripts) ---------------------------------------------------------


def tick(services, *, limit: int = 1000) -> TickResult:
    """One batch of due check-ins, nudges and misses (at most `limit` of each), done now in
    one transaction; their texts are queued as it commits."""
    with UnitOfWork(services, lane=Lane.BULK) as uow:
        found = find_due(uow.session, uow.now, limit)
        result = _work(uow, found)
        result.more = any(len(ids) == limit for ids in found.values())
        uow.send(*result.messages)
        uow.commit()
    return result


def tick_until_done(services, *, limit: int = 1000, budget_s: float = 45.0) -> dict:
    """Tick in batches of `limit` until nothing due is left, each batch's texts queued as
    it commits. Past `budget_s` it stops; the next tick goes on."""
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


# The work ------------------------------------------------------------------------------


def _work(uow: UnitOfWork, ids: dict[str, Iterable[int]]) -> TickResult:
    """Do what is due among these ids (kind → ids), re-read and locked in this transaction:
    check-ins (with Sunday's summaries), partner questions, nudges, then misses, each for
    the rows still due now (a page run before took the others)."""
    result = TickResult()
    session, now = uow.session, uow.now
    wanted = {kind: set(ids.get(kind, ())) for kind in KINDS}

    # Check-ins first, then participants, each locked in id order, so that two pages'
    # transactions never wait on each other in a circle.
    rows = _still_due(
        session,
        CheckIn,
        wanted[NUDGE] | wanted[MISS],
        or_(CheckIn.next_nudge_at <= now, CheckIn.closes_at <= now),
    )
    misses = sorted(
        (c for c in rows if c.id in wanted[MISS] and _due(c.closes_at, now)),
        key=lambda c: (c.closes_at, c.id),
    )
    # Before a miss, what was due before it for the same person: their new check-in and
    # partner question (the miss may move the ladder), and this check-in's nudge.
    nudged = wanted[NUDGE] | {c.id for c in misses}
    before = {c.participant_id for c in misses if c.kind == CheckInKind.SELF}
    nudges = sorted(
        (c for c in rows if c.id in nudged and _due(c.next_nudge_at, now)),
        key=lambda c: (c.next_nudge_at, c.id),
    )
    selves, asked = wanted[CHECKIN] | before, wanted[PARTNER] | before
    people = _still_due(
        session,
        Participant,
        selves | asked,
        or_(Participant.next_checkin_at <= now, Participant.next_partner_checkin_at <= now),
    )
    due = sorted(
        (p for p in people if p.id in selves and _due(p.next_checkin_at, now)),
        key=lambda p: (p.next_checkin_at, p.id),
    )
    partners = sorted(
        (p for p in people if p.id in asked and _due(p.next_partner_checkin_at, now)),
        key=lambda p: (p.next_partner_checkin_at, p.id),
    )
    held = [rows, people]  # the session's identity map keeps weak references only

    programs = _programs(session, due)
    # What every text mentions (facilitator, partner), loaded once and held here.
    held += _load(session, Facilitator, {p.owner_id for p in programs.values()})
    held += _load(session, Participant, {p.partner_id for p in due} - {None})
    active = active_commitments_of(session, [p.id for p in due])
    pending = []
    for participant in due:
        program = programs[participant.program_id]
        commitment_ids = [c.id for c in active.get(participant.id, [])]
        following, plan = checkin_rules.due(program, participant, commitment_ids, now)
        participant.next_checkin_at = following
        if plan is None:
            result.skipped += 1
        else:
            pending.append((program, participant, plan))
    sent = _send(uow, pending, active, result)
    _weekly_summaries(uow, sent, result)

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
    _nudges(uow, nudges, result)
    _misses(uow, misses, result)
    return result


def _due(instant, now) -> bool:
    return instant is not None and instant <= now


def _still_due(session, model, ids: set, condition) -> list:
    """Those of these rows that are still due (`condition`), locked until this transaction
    ends (in id order; SQLite, which has one writer at a time, does not lock rows)."""
    if not ids:
        return []
    return session.exec(
        select(model)
        .where(model.id.in_(sorted(ids)), condition)
        .order_by(model.id)
        .with_for_update()
    ).all()


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
                values={"items": texts.format_items(label_of(c) for c in items)},
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
    """What they kept this week, by label; a week with nothing kept gets a fresh start."""
    week_rows = [
        row
        for row in scores.kept_by_commitment(uow.session, participant, uow.now, 7)
        if commitment_rules.still_asked(row[0].status)  # a retired one is not listed again
    ]
    if not week_rows:
        return None
    kept = texts.format_kept(
        [(label_of(c), kept, asked) for c, kept, asked in week_rows], participant.language
    )
    week = checkin_rules.local_date(due_at, participant.timezone).isocalendar()
    return outbox.compose_text(
        uow.session,
        participant,
        "weekly_summary" if kept else "weekly_summary_fresh",
        key=f"weekly:{participant.id}:{week.year}-{week.week}",
        now=uow.now,
        program=program,
        values={"kept": kept},
        allow_paused=False,
    )


def _nudges(uow: UnitOfWork, rows, result: TickResult) -> None:
    """A gentle reminder for each open check-in whose nudge is due."""
    session, now = uow.session, uow.now
    held = _load(session, Participant, {c.participant_id for c in rows})
    held += _load(session, Program, {p.program_id for p in held})
    listed = {i for c in rows for i in (c.commitment_ids or [])}
    by_id = {c.id: c for c in _load(session, Commitment, listed)}
    asked = {c.id: [by_id[i] for i in c.commitment_ids or [] if i in by_id] for c in rows}
    written = []
    for checkin in rows:
        checkin.next_nudge_at = None
        participant = session.get(Participant, checkin.participant_id)
        program = session.get(Program, participant.program_id)
        if checkin.status != CheckInStatus.OPEN or participant.status != ParticipantStatus.ACTIVE:
            continue
        items = texts.format_items(label_of(c) for c in asked.get(checkin.id, []))
        written.append(
            outbox.compose_text(
                session,
                participant,
                "checkin_nudge",
                key=f"nudge:{checkin.id}:{checkin.nudges_sent + 1}",
                now=now,
                program=program,
                values={"items": items},
                allow_paused=False,
            )
        )
        checkin.nudges_sent += 1
        result.nudged += 1
        checkin.next_nudge_at = checkin_rules.next_nudge(
            program, participant, checkin.nudges_sent, now
        )
    result.messages.extend(outbox.insert_all(session, written))


def _misses(uow: UnitOfWork, rows, result: TickResult) -> None:
    """Check-ins whose day closed unanswered are missed (the streak and ladder follow)."""
    session = uow.session
    people = {p.id: p for p in _load(session, Participant, {c.participant_id for c in rows})}
    for checkin in rows:
        checkin.closes_at = None
        checkin.next_nudge_at = None
        if checkin.status != CheckInStatus.OPEN:
            continue
        checkin.status = CheckInStatus.MISSED
        result.missed += 1
        webhooks.checkin_missed(uow, people[checkin.participant_id], checkin)
        if checkin.kind == CheckInKind.SELF:
            participant = people[checkin.participant_id]
            program = session.get(Program, participant.program_id)
            checkin_answers.after_result(uow, participant, program)
