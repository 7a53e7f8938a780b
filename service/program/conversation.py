"""The SMS conversation: one stored inbound text through the step machine, exactly once.

`handle_inbound` claims the message first (`received` → `processed`), so a duplicate job
changes nothing; finds who sent it (core/matching.py), asks the step machine
(core/steps.py) and carries out its decision, every reply written into the outbox in the
same transaction as the state change. Replies to a text the participant just sent leave at
once (they are awake and asked); prompts and anything else we start ourselves wait for
their local waking hours.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core import steps, texts
from service.core.enums import Direction, MessageStatus
from service.core.keywords import KeywordKind, parse_keyword
from service.core.phones import is_e164
from service.infra.metrics import Metrics
from service.messaging import outbox
from service.models import Message, Participant
from service.program import apply
from service.program.matching import defaults_of, find_participant, program_reached
from service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

MAX_INBOUND_ATTEMPTS = 5
INBOUND_STALE_AFTER = timedelta(minutes=1)


def handle_inbound(services, message_id: int) -> str:
    """Process one stored inbound text exactly once. Returns what happened."""
    with UnitOfWork(services) as uow:
        session, now = uow.session, uow.now
        # Counted in its own commit, so a text that keeps failing stops being retried.
        session.execute(
            sa.update(Message)
            .where(Message.id == message_id, Message.status == MessageStatus.RECEIVED)
            .values(attempts=Message.attempts + 1)
        )
        uow.commit()
        claimed = session.execute(
            sa.update(Message)
            .where(Message.id == message_id, Message.status == MessageStatus.RECEIVED)
            .values(status=MessageStatus.PROCESSED, updated_at=now)
        )
        if claimed.rowcount != 1:
            return "duplicate"
        message = session.get(Message, message_id)
        defaults = defaults_of(services.settings)
        participant = find_participant(
            session,
            message.from_number,
            message.to_number,
            message.messaging_service_sid,
            defaults,
        )
        if participant is None:
            outcome = unknown_sender(uow, message, defaults)
        else:
            outcome = turn(uow, participant, message)
        uow.commit()
    Metrics(services.redis).turn_done(message.created_at, services.now())
    return outcome


def turn(uow: UnitOfWork, participant: Participant, message: Message) -> str:
    """One text from a known participant, and everything it causes."""
    message.participant_id = participant.id
    message.program_id = participant.program_id
    participant.last_inbound_at = uow.now
    loaded = apply.load(uow.session, participant, uow.now, asked_by=message.created_at)
    text = steps.Text(
        body=message.body, keyword=parse_keyword(message.body), media=bool(message.media_urls)
    )
    decision = steps.decide(loaded.state, text.event, now=uow.now, text=text)
    apply.carry_out(uow, loaded, decision, key=f"in:{message.id}", message=message)
    return decision.outcome


def unknown_sender(uow: UnitOfWork, message: Message, defaults) -> str:
    """Keep the text for facilitators; answer politely at most once a day per number."""
    session, now = uow.session, uow.now
    program = program_reached(session, message.to_number, message.messaging_service_sid, defaults)
    if program is not None:
        message.program_id = program.id
    session.add(message)
    keyword = parse_keyword(message.body)
    if keyword is not None and keyword.kind == KeywordKind.OPT_OUT:
        return "unknown_sender"  # Twilio confirms the opt-out itself
    if not is_e164(message.from_number):
        return "unknown_sender"  # nobody we could answer
    reply = Message(
        direction=Direction.OUT,
        program_id=message.program_id,
        idempotency_key=f"unknown:{message.from_number}:{now.date().isoformat()}",
        to_number=message.from_number,
        from_number=message.to_number,
        messaging_service_sid=message.messaging_service_sid,
        body=texts.render("unknown_sender", program.language if program else "en"),
        template="unknown_sender",
        created_at=now,
        updated_at=now,
    )
    uow.send(outbox.insert_once(session, reply))
    return "unknown_sender"


def sweep_inbound(services, limit: int = 200) -> int:
    """Queue inbound texts that were stored but never processed (the queue was down)."""
    now = services.now()
    with services.sessions() as session:
        ids = _unprocessed(session, now, limit)
    for message_id in ids:
        services.dispatcher.enqueue("handle_inbound", message_id)
    return len(ids)


def _unprocessed(session: Session, now, limit: int) -> list[int]:
    return session.exec(
        select(Message.id)
        .where(
            Message.direction == Direction.IN,
            Message.status == MessageStatus.RECEIVED,
            Message.created_at < now - INBOUND_STALE_AFTER,
            Message.attempts < MAX_INBOUND_ATTEMPTS,
        )
        .order_by(Message.id)
        .limit(limit)
    ).all()
