"""What Twilio says became of a text, heard however it comes.

- A status callback moves a row forward only (a late `sent` never overwrites `delivered`).
  One that arrives before its message's SID is stored (the callback can beat the create's
  own answer) is parked, and applied as soon as the SID is.
- A row whose send outcome is unknown (claimed, its worker gone) is settled against
  Twilio's message list, never blindly resent.
- A row handed to Twilio whose final word never came is asked about by its SID until it is
  final (or a day has passed: some carriers never report delivery).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core import delivery_rules
from service.core.enums import Direction, MessageStatus
from service.infra.db import insert_ignoring
from service.infra.gateway import GatewayError, classify_error_code
from service.messaging import failures
from service.models import Message, ParkedStatus, Participant

PARKED_FOR = timedelta(days=1)  # a status for a SID we never stored is dropped after this


def apply_status(session: Session, sid: str, status: str, error_code, now) -> Message | None:
    """A delivery status for `sid`: applied (forward only), or parked until the SID is
    stored. Returns the message, or None when it was parked."""
    status = (status or "").lower()
    message = session.exec(select(Message).where(Message.twilio_sid == sid)).first()
    if message is None:
        park(session, sid, status, error_code, now)
        return None
    if not delivery_rules.moves_forward(message.status, status):
        return message  # late, duplicate or out of order: nothing moves backwards
    message.status = status
    if error_code:
        message.error_code = int(error_code)
    message.updated_at = now
    session.add(message)
    if status in (MessageStatus.UNDELIVERED, MessageStatus.FAILED) and message.participant_id:
        participant = session.get(Participant, message.participant_id)
        kind = classify_error_code(message.error_code)
        why = f"was not delivered (error {message.error_code or 'unknown'})"
        failures.not_delivered(session, message, participant, kind, message.error_code, now, why)
    return message


def park(session: Session, sid: str, status: str, error_code, now: datetime) -> None:
    """Keep a status whose SID is not stored yet (the furthest one, if several come)."""
    if status not in delivery_rules.RANK:
        return
    row = {"sid": sid, "status": status, "error_code": error_code, "arrived_at": now}
    dialect = session.get_bind().dialect.name
    # RETURNING, not rowcount: on PostgreSQL this INSERT … ON CONFLICT reports -1 rows.
    statement = insert_ignoring(dialect, ParkedStatus, ("sid",)).values(**row)
    if session.scalar(statement.returning(ParkedStatus.sid)) is not None:
        return
    parked = session.get(ParkedStatus, sid)
    if parked is not None and delivery_rules.moves_forward(parked.status, status):
        parked.status, parked.error_code = status, error_code or parked.error_code
        session.add(parked)


def apply_parked(session: Session, sids, now: datetime) -> int:
    """Statuses parked for these (now stored) SIDs, applied and cleared."""
    sids = [s for s in sids if s]
    if not sids:
        return 0
    parked = session.exec(select(ParkedStatus).where(ParkedStatus.sid.in_(sids))).all()
    for row in parked:
        if apply_status(session, row.sid, row.status, row.error_code, now) is not None:
            session.delete(row)
    return len(parked)


def settle_parked(session: Session, now: datetime, limit: int = 500) -> int:
    """Parked statuses whose SID has been stored since (a callback that raced the store),
    applied; those for SIDs never stored, dropped after a day."""
    known = session.exec(
        select(ParkedStatus.sid).join(Message, Message.twilio_sid == ParkedStatus.sid).limit(limit)
    ).all()
    applied = apply_parked(session, known, now)
    session.execute(sa.delete(ParkedStatus).where(ParkedStatus.arrived_at < now - PARKED_FOR))
    return applied


def reconcile(services, message_id: int) -> str:
    """Settle a row whose send outcome is unknown by asking Twilio what it has."""
    now = services.now()
    with services.sessions() as session:
        message = session.get(Message, message_id)
        if message is None or message.status != MessageStatus.CLAIMED:
            return "nothing"
        try:
            found = services.gateway_for(message.to_number).find_sent_message(
                to=message.to_number,
                from_=message.from_number or None,
                body=message.body,
                sent_after=(message.claimed_at or now) - timedelta(minutes=5),
            )
        except GatewayError:
            return "later"  # Twilio still unreachable: the sweeper tries again
        if found is not None:
            message.twilio_sid = found.sid
            message.status = delivery_rules.known_status(found.status)
            message.sent_at = message.claimed_at
        else:
            message.status = MessageStatus.PENDING
            message.send_after = now
        message.updated_at = now
        apply_parked(session, [message.twilio_sid], now)
        session.commit()
        return "found" if found is not None else "requeued"


def check_unfinished(services, limit: int = 100) -> dict:
    """Ask Twilio about rows handed over whose final status never came."""
    now = services.now()
    asked = settled = 0
    with services.sessions() as session:
        rows = session.exec(
            select(Message)
            .where(
                Message.direction == Direction.OUT,
                Message.status.in_(sorted(delivery_rules.UNFINISHED)),
                Message.twilio_sid.is_not(None),
                Message.sent_at < now - delivery_rules.FIRST_CHECK,
                Message.sent_at > now - delivery_rules.STOP_CHECKING,
            )
            .order_by(Message.checked_at.is_not(None), Message.checked_at, Message.id)
            .limit(limit)
        ).all()
        session.commit()  # no transaction stays open while Twilio is asked
        for message in rows:
            if not delivery_rules.due_for_check(message.sent_at, message.checked_at, now):
                continue
            try:
                found = services.gateway_for(message.to_number).fetch_message(message.twilio_sid)
            except GatewayError:
                break  # Twilio unreachable: the next sweep asks again
            asked += 1
            message.checked_at = now
            session.add(message)
            if found is not None:
                before = message.status
                code = found.error_code if found.error_code else None
                apply_status(session, message.twilio_sid, found.status, code, now)
                settled += message.status != before
            session.commit()
    return {"asked": asked, "moved": settled}
