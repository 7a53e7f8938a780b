"""Inbound texts and delivery statuses: stored first, processed in the background."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import sqlalchemy as sa

from service.core.redact import mask_phone
from service.infra.db import insert_ignoring
from service.messaging import outbox
from service.models import Message

log = logging.getLogger(__name__)

MAX_MEDIA = 10


@dataclass(frozen=True)
class InboundSms:
    sid: str
    from_number: str
    to_number: str
    body: str
    media_urls: tuple[str, ...] = ()
    messaging_service_sid: str | None = None

    @classmethod
    def from_form(cls, form) -> InboundSms:
        """Whatever arrives is kept; only what a database column cannot hold is trimmed."""
        try:
            num_media = max(0, min(int(form.get("NumMedia") or 0), MAX_MEDIA))
        except ValueError:
            num_media = 0
        media = tuple(
            _clean(form.get(f"MediaUrl{i}"), 2000)
            for i in range(num_media)
            if form.get(f"MediaUrl{i}")
        )
        return cls(
            sid=_clean(form.get("MessageSid") or form.get("SmsSid"), 64),
            from_number=_clean(form.get("From"), 32),
            to_number=_clean(form.get("To"), 32),
            # PostgreSQL text cannot hold NUL; everything else is stored verbatim.
            body=_clean(form.get("Body"), None),
            media_urls=media,
            messaging_service_sid=_clean(form.get("MessagingServiceSid"), 34) or None,
        )


def _clean(value, limit: int | None) -> str:
    text = (value or "").replace("\x00", "\ufffd")
    return text[:limit] if limit else text


@functools.cache
def _insert_inbound(dialect: str):
    table = Message.__table__
    return insert_ignoring(dialect, table, ("twilio_sid",)).returning(table.c.id)


def receive_sms(services, sms: InboundSms) -> int:
    """Store an inbound text once (the database enforces one row per MessageSid), then
    queue the conversation turn; returns the stored row's id. A retried delivery
    queues nothing more."""
    now = services.now()
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
        created_at=now,
        updated_at=now,
    )
    table = Message.__table__
    # Core, one statement built once, no exception on a duplicate: this runs for every text.
    with services.engine.begin() as conn:
        message_id = conn.execute(_insert_inbound(conn.dialect.name), row).scalar()
        if message_id is None:
            message_id = conn.execute(
                sa.select(table.c.id).where(table.c.twilio_sid == sms.sid)
            ).scalar_one()
            log.info("duplicate delivery of inbound message %s", message_id)
            return message_id
    log.info("inbound message %s from %s", message_id, mask_phone(sms.from_number))
    services.dispatcher.enqueue("handle_inbound", message_id)
    return message_id


def receive_status(services, *, sid: str, status: str, error_code) -> Message | None:
    """A delivery status callback; unknown sids and bad codes are ignored, not errors."""
    try:
        code = int(error_code) if error_code not in (None, "") else None
    except ValueError:
        code = None
    with services.sessions() as session:
        message = outbox.apply_status(session, sid[:64], status[:16], code, services.now())
        session.commit()
    return message
