"""When Twilio says no: retry what may work later (capped backoff with jitter, in the
recipient's waking hours, for up to SEND_RETRY_HOURS), give up loudly on the rest.

Every text that finally fails raises an attention item saying what could not be sent and
why; nothing ends silent. A check-in that could only leave after its day is over is not
sent late: the text is marked expired and the check-in unsent (it counts as neither kept
nor missed).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa

from service.core import delivery_rules, schedule, steps
from service.core.enums import AttentionKind, CheckInStatus, MessageStatus, ParticipantStatus
from service.core.options import quiet_hours
from service.infra.db import UNAVAILABLE
from service.infra.gateway import GatewayError
from service.models import CheckIn, Message, Participant, Program
from service.records import audit, flag
from service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# A permanent delivery error, as the step machine's event.
DELIVERY_EVENT = {
    "opted_out": steps.Event.CARRIER_OPT_OUT,
    "undeliverable": steps.Event.UNREACHABLE,
}


def apply_delivery_error(session, participant: Participant, kind: str, code, now) -> bool:
    """A permanent error about the recipient changes what we may send them. Returns True
    when it was such an error (the participant is marked, the facilitator told)."""
    event = DELIVERY_EVENT.get(kind)
    if event is None:
        return False
    state = steps.State(status=ParticipantStatus(participant.status))
    decision = steps.decide(state, event, now=now, code=code)
    if decision.status is not None:
        participant.status = decision.status
    for name, value in decision.sets.items():
        setattr(participant, name, value)
    for item in decision.flags:
        flag(session, participant, item.kind, item.detail, now)
    for action in decision.audit:
        audit(session, "twilio", action, participant, now=now)
    session.add(participant)
    return True


def not_delivered(session, message: Message, participant, kind: str, code, now, why: str):
    """A text that will not arrive: the participant is marked when it is about them,
    and the facilitator is told in every case."""
    if participant is None:
        return
    if not apply_delivery_error(session, participant, kind, code, now):
        what = (message.template or "text").replace("_", " ")
        flag(session, participant, AttentionKind.SEND_FAILED, f"the {what} {why}", now)


def failed_send(uow: UnitOfWork, message: Message, participant, exc: GatewayError, now) -> str:
    """Twilio refused or could not take one text: retry it, or settle its fate."""
    session = uow.session
    message.error_code = exc.code
    message.updated_at = now
    if exc.kind == "transient":
        uow.services.twilio_outage.happened(exc.message)
        if exc.outcome_unknown:
            # The request may have reached Twilio: leave it claimed; the sweeper asks.
            uow.commit()
            return "unknown"
        return _retry(uow, message, participant, exc, now)
    message.status = MessageStatus.FAILED
    not_delivered(session, message, participant, exc.kind, exc.code, now,
                  f"could not be sent: Twilio answered {exc.message}")  # fmt: skip
    uow.commit()
    return exc.kind


def _retry(uow: UnitOfWork, message: Message, participant, exc: GatewayError, now) -> str:
    session = uow.session
    message.failing_since = message.failing_since or now
    window = timedelta(hours=uow.services.settings.send_retry_hours)
    if delivery_rules.gives_up(message.failing_since, now, window):
        message.status = MessageStatus.FAILED
        hours = f"{uow.services.settings.send_retry_hours:g}"
        why = f"could not be sent: Twilio was unavailable for {hours} hours ({exc.message})"
        not_delivered(session, message, participant, "permanent", exc.code, now, why)
        uow.commit()
        return "failed"
    leaves_at = now + delivery_rules.retry_gap(message.attempts, message.id)
    day_ends_at = None
    if participant is not None:
        # Only ever inside the recipient's waking hours.
        program = session.get(Program, participant.program_id)
        quiet = quiet_hours(program)
        leaves_at = schedule.next_allowed(leaves_at, participant.timezone, quiet)
        day_ends_at = schedule.local_end_of_day(message.created_at, participant.timezone, quiet)
    if delivery_rules.too_late(message.template, leaves_at, day_ends_at):
        _expire(session, message, now)
        uow.commit()
        return "expired"
    message.status = MessageStatus.PENDING
    message.send_after = leaves_at
    uow.later("send_messages", [message.id], at=leaves_at)
    uow.commit()
    return "retry"


def _expire(session, message: Message, now: datetime) -> None:
    """Its day is over: not sent late. The check-in it asked is unsent, not missed."""
    message.status = MessageStatus.EXPIRED
    session.execute(
        sa.update(CheckIn)
        .where(CheckIn.message_id == message.id, CheckIn.status == CheckInStatus.OPEN)
        .values(status=CheckInStatus.UNSENT, next_nudge_at=None, closes_at=None)
    )


def waiting_on_twilio(session) -> int:
    """Texts waiting to be retried because Twilio failed them (for /healthz)."""
    return session.scalar(
        sa.select(sa.func.count(Message.id)).where(
            Message.status == MessageStatus.PENDING, Message.failing_since.is_not(None)
        )
    )


def twilio_health(services) -> dict:
    """/healthz's word on Twilio: "degraded", with a count, while texts wait on it to come
    back; the service itself is up (`ok` is about the database and Redis)."""
    if services.settings.twilio_console_mode:
        return {"twilio": "console"}
    try:
        with services.sessions() as session:
            waiting = waiting_on_twilio(session)
    except UNAVAILABLE:
        return {"twilio": "unknown"}
    return {"twilio": "degraded" if waiting else "ok", "waiting_on_twilio": waiting}
