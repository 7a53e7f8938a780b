"""The outbox: every outbound text is a row first, written in the same transaction as the
state change that caused it, under a unique idempotency key, so a retried webhook or job
cannot write it twice. Sending it is messaging/delivery.py's work.
"""

from __future__ import annotations

import functools
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core import rotation, schedule, texts
from service.core.enums import NOT_TEXTED, Direction, MessageStatus, ParticipantStatus
from service.core.options import quiet_hours
from service.core.personas import is_persona_number
from service.infra.db import insert_ignoring, keep, new_row, row_values
from service.models import Facilitator, Message, Participant, Program
from service.unit_of_work import UnitOfWork

KEY = ("idempotency_key",)  # the outbox's unique key: one row per text meant


def queue_text(uow: UnitOfWork, participant: Participant, template: str, **kwargs):
    """Write one outbound text for `participant`, sent once the unit of work commits.

    `reply=True` marks an answer to a text the participant just sent: it may leave at
    once. Anything we start ourselves waits for their local waking hours. Returns the
    existing row when `key` was already used, and None when they must not be texted.
    """
    [stored] = queue_texts(uow, participant, [(template, kwargs)])
    return stored


def queue_texts(uow: UnitOfWork, participant: Participant, wanted: list[tuple[str, dict]]):
    """`queue_text` for several texts to one person, (template, keyword arguments) each, in
    one INSERT: a turn's reply and its next question. Returns the rows in the same order."""
    composed = []
    for template, kwargs in wanted:
        kwargs.setdefault("now", uow.now)
        composed.append(compose_text(uow.session, participant, template, **kwargs))
    stored = insert_all(uow.session, composed)
    uow.send(*stored)
    return stored


def compose_text(
    session: Session,
    participant: Participant,
    template: str,
    *,
    key: str,
    now: datetime,
    program: Program | None = None,
    body: str | None = None,
    reply: bool = False,
    send_after: datetime | None = None,
    allow_paused: bool = True,
    values: dict | None = None,
) -> Message | None:
    """The row `queue_text` writes, not yet added (None when they must not be texted)."""
    closing = participant.status == ParticipantStatus.CLOSED and template.startswith("closing_")
    if participant.status in NOT_TEXTED and not closing:
        return None
    if participant.status == ParticipantStatus.PAUSED and not allow_paused:
        return None
    program = program or session.get(Program, participant.program_id)
    if body is None:
        values = {**common_values(session, participant, program), **(values or {})}
        wording, turns = rotation.next_variant(template, participant.text_turns)
        if wording != template or turns != (participant.text_turns or {}):
            participant.text_turns = turns  # the next one of this family takes the next wording
        body = texts.render(wording, participant.language, program.text_overrides or {}, **values)
    if not reply:
        quiet = quiet_hours(program)
        earliest = max(send_after or now, now)
        send_after = schedule.next_allowed(earliest, participant.timezone, quiet)
    return new_row(
        Message,
        direction=Direction.OUT,
        program_id=program.id,
        participant_id=participant.id,
        idempotency_key=key,
        to_number=participant.phone,
        from_number=program.sender_number or "",
        messaging_service_sid=program.messaging_service_sid,
        body=body,
        template=template,
        status=MessageStatus.PENDING,
        send_after=send_after,
        created_at=now,
        updated_at=now,
    )


def common_values(session: Session, participant: Participant, program: Program) -> dict:
    """What any text may mention: the program, its facilitator, the person, their partner."""
    owner = session.get(Facilitator, program.owner_id)
    partner = session.get(Participant, participant.partner_id) if participant.partner_id else None
    keep(session, (owner, partner))  # a turn's second text asks nothing again
    return {
        "program": program.name,
        "facilitator": owner.name if owner else program.name,
        "contact": (owner.contact or owner.email) if owner else "",
        "first_name": _first_name(participant),
        "partner": _first_name(partner) if partner else "",
        "number": program.sender_number or "this number",
    }


def _first_name(participant: Participant) -> str:
    return (participant.name or "").split(" ")[0]


def insert_once(session: Session, message: Message) -> Message:
    """Insert, or return the row that already holds this idempotency key (one INSERT …
    ON CONFLICT DO NOTHING RETURNING, where a savepoint would cost two more round trips)."""
    [stored] = insert_all(session, [message])
    return stored


def insert_all(session: Session, messages: list[Message | None]) -> list[Message | None]:
    """`insert_once` for a batch, in one INSERT: the rows as stored, in the same order
    (a key already used gives the existing row; None stays None).

    A Core INSERT, not an ORM one: it neither flushes the session first nor builds a
    second object per row (on a turn's path that was most of its time); a new row comes
    back as the composed object with its id set."""
    new = [m for m in messages if m is not None]
    for m in new:  # a test persona's text is marked here, once: never for the real gateway
        m.simulated = is_persona_number(m.to_number)
    ids: dict[str, int] = {}
    if new:
        statement = _insert_keyed(session.get_bind().dialect.name)
        # On the session's connection: session.execute would flush first, even for Core
        # (sqlalchemy#9809), and what is pending is flushed at the commit anyway.
        ids = dict(session.connection().execute(statement, [row_values(m) for m in new]).all())
    stored = {}
    for m in new:
        if m.idempotency_key in ids:
            m.id = ids[m.idempotency_key]
            stored[m.idempotency_key] = m
    taken = [m.idempotency_key for m in new if m.idempotency_key not in stored]
    if taken:
        stored.update(
            (m.idempotency_key, m)
            for m in session.exec(select(Message).where(Message.idempotency_key.in_(taken)))
        )
    return [None if m is None else stored[m.idempotency_key] for m in messages]


@functools.cache
def _insert_keyed(dialect: str):
    """INSERT … ON CONFLICT (idempotency_key) DO NOTHING RETURNING the key and id: built
    once per dialect, not once per text."""
    table = Message.__table__
    return insert_ignoring(dialect, table, KEY).returning(table.c.idempotency_key, table.c.id)


def cancel_pending(session: Session, participant: Participant, now: datetime) -> int:
    """Nothing queued for them may leave any more."""
    result = session.execute(
        sa.update(Message)
        .where(
            Message.participant_id == participant.id,
            Message.direction == Direction.OUT,
            Message.status == MessageStatus.PENDING,
        )
        .values(status=MessageStatus.CANCELLED, updated_at=now)
    )
    return result.rowcount


def cancel_keyed(session: Session, key: str, now: datetime) -> int:
    """A text not yet sent (a prompt answered meanwhile, by voice say) stays unsent."""
    result = session.execute(
        sa.update(Message)
        .where(Message.idempotency_key == key, Message.status == MessageStatus.PENDING)
        .values(status=MessageStatus.CANCELLED, updated_at=now)
    )
    return result.rowcount
