"""The facilitators' inbox, outbox and failed list: what came in and nobody has read yet,
what waits for someone's waking hours, and what could not be delivered (and, where a
second try could reach them, sending it again).

Every query takes `program_ids`, the programs the signed-in facilitator sees (None: an
admin, who sees everything, texts to numbers no program owns included).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from service.core import compose_rules, delivery_reasons
from service.core.enums import NOT_TEXTED, Direction, MessageStatus
from service.messaging import outbox
from service.models import Message, Participant, Program
from service.records import audit
from service.unit_of_work import UnitOfWork

LIMIT = 100
NOT_DELIVERED = (MessageStatus.FAILED, MessageStatus.UNDELIVERED, MessageStatus.EXPIRED)
RETRY_ACTION = "retry_text"


@dataclass
class Row:
    """One text as a list shows it."""

    message: Message
    participant: Participant | None
    program_name: str
    retry: bool = False  # failed list: "send again" is offered


def retry_key(message_id: int) -> str:
    """At most one second try of each text, however often the button is pressed."""
    return f"retry:{message_id}"


def _scoped(query, program_ids: set[int] | None):
    return query if program_ids is None else query.where(Message.program_id.in_(program_ids))


def _rows(session: Session, query) -> list[Row]:
    query = (
        query.add_columns(Participant, Program.name)
        .outerjoin(Participant, Participant.id == Message.participant_id)
        .outerjoin(Program, Program.id == Message.program_id)
    )
    return [Row(m, p, name or "") for m, p, name in session.execute(query)]


BADGE_MAX = 99  # the menu says "99+" past this: counting further would read every row


def _unread(program_ids):
    query = sa.select(Message).where(
        Message.direction == Direction.IN,
        Message.seen_at.is_(None),
        Message.simulated.is_(False),  # a test persona's texts are nobody's to read
    )
    return _scoped(query, program_ids)


def unread(session: Session, program_ids, *, limit: int = LIMIT) -> list[Row]:
    """Inbound texts no facilitator has marked read, newest first."""
    query = _unread(program_ids).order_by(Message.created_at.desc(), Message.id.desc())
    return _rows(session, query.limit(limit))


def unread_count(session: Session, program_ids) -> int:
    """How many are unread, counted up to BADGE_MAX + 1 (a badge reads "99+" beyond)."""
    some = _unread(program_ids).with_only_columns(Message.id).order_by(None).limit(BADGE_MAX + 1)
    return session.execute(sa.select(sa.func.count()).select_from(some.subquery())).scalar_one()


def badge(count: int) -> str:
    return f"{BADGE_MAX}+" if count > BADGE_MAX else str(count)


def mark_read(uow: UnitOfWork, message_ids: list[int], *, program_ids, facilitator_id) -> int:
    """Mark these inbound texts read (those in scope and unread); returns how many."""
    if not message_ids:
        return 0
    query = sa.update(Message).where(
        Message.id.in_(message_ids), Message.direction == Direction.IN, Message.seen_at.is_(None)
    )
    if program_ids is not None:
        query = query.where(Message.program_id.in_(program_ids))
    now = uow.now
    result = uow.session.execute(query.values(seen_at=now, seen_by_id=facilitator_id))
    return result.rowcount


def waiting(session: Session, program_ids, now: datetime, *, limit: int = LIMIT) -> list[Row]:
    """Texts written but held for the recipient's waking hours (or a later slot), soonest
    first."""
    query = sa.select(Message).where(
        Message.direction == Direction.OUT,
        Message.status == MessageStatus.PENDING,
        Message.send_after > now,
    )
    return _rows(session, _scoped(query, program_ids).order_by(Message.send_after).limit(limit))


def not_delivered(session: Session, program_ids, now: datetime, *, limit=LIMIT) -> list[Row]:
    """Texts that failed or were not delivered and have not been sent again, newest first;
    each says whether a second try is offered."""
    query = sa.select(Message).where(
        Message.direction == Direction.OUT, Message.status.in_(NOT_DELIVERED)
    )
    query = _scoped(query, program_ids).order_by(Message.updated_at.desc(), Message.id.desc())
    rows = _rows(session, query.limit(limit))
    retried = set(
        session.scalars(
            sa.select(Message.idempotency_key).where(
                Message.idempotency_key.in_([retry_key(r.message.id) for r in rows])
            )
        )
    )
    kept = [r for r in rows if retry_key(r.message.id) not in retried]
    for row in kept:
        row.retry = _may_retry(row, now)
    return kept


def _may_retry(row: Row, now: datetime) -> bool:
    m, p = row.message, row.participant
    if p is None or p.status in NOT_TEXTED or m.status == MessageStatus.EXPIRED:
        return False
    age_hours = (now - m.created_at).total_seconds() / 3600
    return delivery_reasons.may_retry(m.error_code, m.template, age_hours)


class NotRetried(Exception):
    """The text cannot be sent again; the message says why, in words."""


def retry(uow: UnitOfWork, message_id: int, *, program_ids, actor: str) -> Message:
    """Send a text that did not arrive once more (as a new outbox row, in their waking
    hours), audited under the facilitator's name. Pressing it twice sends it once."""
    session, now = uow.session, uow.now
    query = _scoped(sa.select(Message).where(Message.id == message_id), program_ids)
    row = next(iter(_rows(session, query)), None)
    if row is None or row.message.direction != Direction.OUT:
        raise LookupError(message_id)
    if row.message.status not in NOT_DELIVERED or not _may_retry(row, now):
        raise NotRetried("This text cannot be sent again.")
    original, participant = row.message, row.participant
    if session.scalar(
        sa.select(Message.id).where(Message.idempotency_key == retry_key(message_id))
    ):
        raise NotRetried("It was sent again already.")
    again = outbox.compose_text(
        session,
        participant,
        original.template or compose_rules.FACILITATOR_TEXT,
        key=retry_key(original.id),
        now=now,
        body=original.body,
    )
    if again is None:
        raise NotRetried("They can no longer be texted (opted out, closed or undeliverable).")
    stored = outbox.insert_once(session, again)
    uow.send(stored)
    audit(session, actor, RETRY_ACTION, participant, now=now, detail={"message_id": original.id})
    return stored
