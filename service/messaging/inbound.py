"""Inbound texts and delivery statuses: stored first, processed in the background."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from service.core.numbers import whole_number
from service.core.personas import is_persona_number
from service.core.redact import mask_phone
from service.infra.db import insert_ignoring
from service.infra.nudge import Nudge
from service.messaging import statuses
from service.models import Message
from service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

TURNS_NUDGE = "realign:turns:nudged"


def turns_nudge(services) -> Nudge:
    """Raised while a `turn_inbound` job is queued (see program/conversation.py)."""
    return Nudge(services.redis, TURNS_NUDGE)


def nudge_turns(services) -> None:
    """Texts are waiting: make sure one `turn_inbound` job is queued for them."""
    flag = turns_nudge(services)
    if flag.take() and not services.dispatcher.enqueue("turn_inbound"):
        flag.lower()  # nothing was queued: let the next text (or the sweeper) try


@dataclass(frozen=True)
class InboundSms:
    sid: str
    from_number: str
    to_number: str
    body: str
    media_urls: tuple[str, ...] = ()
    messaging_service_sid: str | None = None


@functools.cache
def _insert_inbound(dialect: str):
    table = Message.__table__
    return insert_ignoring(dialect, table, ("twilio_sid",)).returning(table.c.id)


def receive_sms(services, sms: InboundSms, *, at: datetime | None = None) -> int:
    """Store an inbound text once (the database enforces one row per MessageSid), then
    see that a turn job is queued; returns the stored row's id. A retried delivery
    queues nothing more. `at`: when it arrived (a text spooled while the database was
    away is stored later, as of then)."""
    now = at or services.now()
    row = dict(
        direction="in",
        twilio_sid=sms.sid or None,
        from_number=sms.from_number,
        to_number=sms.to_number,
        messaging_service_sid=sms.messaging_service_sid,
        body=sms.body,
        media_urls=list(sms.media_urls),
        status="received",
        attempts=0,
        simulated=is_persona_number(sms.from_number),  # a test persona's, from the simulator
        created_at=now,
        updated_at=now,
    )
    table = Message.__table__
    # Core, one statement built once, no exception on a duplicate: this runs for every text.
    with UnitOfWork(services) as uow:
        conn = uow.connection
        message_id = conn.execute(_insert_inbound(conn.dialect.name), row).scalar()
        if message_id is None:
            message_id = conn.execute(
                sa.select(table.c.id).where(table.c.twilio_sid == sms.sid)
            ).scalar_one()
            log.info("duplicate delivery of inbound message %s", message_id)
            return message_id
        uow.commit()
    nudge_turns(services)
    log.info("inbound message %s from %s", message_id, mask_phone(sms.from_number))
    return message_id


def receive_status(services, *, sid: str, status: str, error_code) -> Message | None:
    """A delivery status callback; unknown sids and bad codes are ignored, not errors."""
    code = whole_number(error_code)
    with UnitOfWork(services) as uow:
        message = statuses.apply_status(uow.session, sid[:64], status[:16], code, services.now())
        uow.commit()
    return message
