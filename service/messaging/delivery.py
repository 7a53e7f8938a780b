"""Sending the outbox: each row at most once, its fate always known.

Sending claims the rows atomically (`pending` → `claimed`) before Twilio is asked, so two
workers, or a job re-run after a crash, cannot send one twice. A send whose outcome is
unknown (a timeout after the request left) is reconciled against Twilio's message list,
never blindly repeated. Status callbacks move a row forward only.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core import steps
from service.core.enums import NOT_TEXTED, Direction, MessageStatus, ParticipantStatus
from service.core.redact import mask_phone
from service.infra.gateway import GatewayError, classify_error_code
from service.models import Message, Participant
from service.records import audit, flag
from service.unit_of_work import BATCH, UnitOfWork

log = logging.getLogger(__name__)

# Statuses only ever move forward; callbacks that arrive late or twice change nothing.
STATUS_RANK = {m.value: m.rank for m in MessageStatus if m.rank is not None}
MAX_ATTEMPTS = 6
LEASE_SLACK_S = 1.0  # see send_deadline
NOT_STARTED = object()  # a send the claim's lease left no time for
# A permanent delivery error, as the step machine's event.
DELIVERY_EVENT = {
    "opted_out": steps.Event.CARRIER_OPT_OUT,
    "undeliverable": steps.Event.UNREACHABLE,
}


def may_receive(participant: Participant, message: Message) -> bool:
    """Opted out, unreachable or closed: nothing leaves, except the closing text itself."""
    if participant.status == ParticipantStatus.CLOSED:
        return (message.template or "").startswith("closing_")
    return participant.status not in NOT_TEXTED


def backoff(attempts: int) -> timedelta:
    """Growing gaps between retries: 10 s, 20 s, 40 s … capped at 10 minutes."""
    return timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), 600))


# Sending ------------------------------------------------------------------------------


def claim(session: Session, message_ids: list[int], now: datetime) -> list[Message]:
    """Atomically take the pending, due rows among these for this worker, in one UPDATE,
    and commit. Rows someone else has (or that are done) are not returned."""
    claimed = session.scalars(
        sa.update(Message)
        .where(
            Message.id.in_(set(message_ids)),
            Message.status == MessageStatus.PENDING,
            sa.or_(Message.send_after.is_(None), Message.send_after <= now),
        )
        .values(
            status=MessageStatus.CLAIMED,
            claimed_at=now,
            attempts=Message.attempts + 1,
            updated_at=now,
        )
        .returning(Message)
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    return sorted(claimed, key=lambda m: m.id)


def deliver(services, message_id: int) -> str:
    """Send one outbox row at most once. Returns what happened (for logs and tests)."""
    [(outcome, _count)] = deliver_many(services, [message_id], concurrency=1).items()
    return outcome


def send_deadline(settings, claimed_at: datetime) -> datetime:
    """The last moment a worker may start a request for a row it claimed at `claimed_at`.

    A claim is a lease: after `claim_stale_seconds` the sweeper takes it for abandoned and
    settles it against Twilio. Every request must be over before then, so none may start
    later than the lease minus the longest a request can take (the timeout applies to the
    connect and to the read, so twice over) and a second of slack for clocks and threads.
    Without this, a batch held back by a sender's MPS cap or a slow API outlives its lease,
    the sweeper requeues rows not yet sent, and two workers send them.
    """
    reserve = 2 * settings.twilio_timeout + LEASE_SLACK_S
    return claimed_at + timedelta(seconds=settings.claim_stale_seconds - reserve)


def release(session: Session, message_ids: list[int], claimed_at: datetime, now) -> list[int]:
    """Give back rows this worker claimed at `claimed_at` but did not send in time, so
    they go out at once; a row the sweeper has already settled is no longer ours and is
    left alone. Returns the ids given back."""
    if not message_ids:
        return []
    released = session.scalars(
        sa.update(Message)
        .where(
            Message.id.in_(message_ids),
            Message.status == MessageStatus.CLAIMED,
            Message.claimed_at == claimed_at,
        )
        .values(
            status=MessageStatus.PENDING,
            send_after=now,
            attempts=Message.attempts - 1,
            updated_at=now,
        )
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    return sorted(released)


def deliver_many(services, message_ids: list[int], *, concurrency: int | None = None) -> dict:
    """Send a batch, each row at most once; returns how many ended which way.

    The database is touched a few times per batch, not per text: one UPDATE claims every
    row (committed before any request leaves, so a crash can only leave rows claimed,
    for `reconcile`), then only the Twilio requests run concurrently over the pooled
    client, then one flush records what Twilio answered. Rows whose lease ran out before
    their request could start are given back and queued again.
    """
    concurrency = concurrency or services.settings.send_concurrency
    now = services.now()
    results: dict[str, int] = {}

    def count(outcome: str, k: int = 1) -> None:
        if k:
            results[outcome] = results.get(outcome, 0) + k

    with UnitOfWork(services) as uow:
        session = uow.session
        claimed = claim(session, message_ids, now)
        count("skipped", len(message_ids) - len(claimed))
        people = _participants(session, claimed)
        sends = []
        for message in claimed:
            participant = people.get(message.participant_id)
            if participant is not None and not may_receive(participant, message):
                message.status = MessageStatus.CANCELLED
                message.updated_at = now
                count("cancelled")
            else:
                sends.append((message, participant))
        session.commit()

        callback = (
            None
            if services.settings.twilio_console_mode
            else services.settings.public_base_url + "/twilio/sms/status"
        )
        deadline = send_deadline(services.settings, now)
        answers = _send_all(services, [m for m, _ in sends], callback, concurrency, deadline)
        failures, late = [], []
        for (message, participant), answer in zip(sends, answers, strict=True):
            if answer is NOT_STARTED:
                late.append(message.id)
                continue
            if isinstance(answer, GatewayError):
                failures.append((message, participant, answer))
                continue
            message.twilio_sid = answer.sid
            message.status = answer.status if answer.status in STATUS_RANK else MessageStatus.QUEUED
            message.error_code = answer.error_code  # not an earlier, retried attempt's error
            message.sent_at = now
            message.updated_at = now
            count(message.status)
            log.info(
                "sent message %s to %s (%s)",
                message.id,
                mask_phone(message.to_number),
                message.status,
            )
        session.commit()
        for message, participant, exc in failures:
            count(_failed_send(uow, message, participant, exc, now))
        if late:
            released = release(session, late, now, services.now())
            count("released", len(released))
            log.warning("lease ran out before %d sends could start; queued again", len(late))
            if released:
                uow.later("send_messages", released)
        uow.commit()
    return results


def _participants(session, messages) -> dict[int, Participant]:
    ids = {m.participant_id for m in messages if m.participant_id}
    if not ids:
        return {}
    return {p.id: p for p in session.exec(select(Participant).where(Participant.id.in_(ids)))}


def _send_all(services, messages: list[Message], callback, concurrency: int, deadline) -> list:
    """One Twilio request per row, `concurrency` at a time; each answer, its error, or
    NOT_STARTED when its turn (behind the sender's MPS cap or a slow API) came after the
    claim's `deadline`.
    The threads get plain values, never the session's objects."""
    limiter = services.rate_limit
    settings = services.settings
    requests = [
        (
            m.from_number or m.messaging_service_sid or "default",  # whose MPS cap
            dict(
                to=m.to_number,
                body=m.body,
                from_=m.from_number or settings.twilio_from_number or None,
                messaging_service_sid=m.messaging_service_sid
                or settings.twilio_messaging_service_sid
                or None,
                status_callback=callback,
            ),
        )
        for m in messages
    ]

    def send(request: tuple[str, dict]):
        sender, options = request
        if limiter is not None:
            limiter.acquire(sender)
        if services.now() > deadline:
            return NOT_STARTED
        try:
            return services.gateway.send_message(**options)
        except GatewayError as exc:
            return exc

    if len(requests) <= 1 or concurrency <= 1:
        return [send(r) for r in requests]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(requests))) as pool:
        return list(pool.map(send, requests))


def _failed_send(uow: UnitOfWork, message, participant, exc: GatewayError, now) -> str:
    session = uow.session
    message.error_code = exc.code
    message.updated_at = now
    if exc.kind == "transient":
        if getattr(exc, "outcome_unknown", False):
            # The request may have reached Twilio: leave it claimed; reconcile() decides.
            session.commit()
            return "unknown"
        if message.attempts >= MAX_ATTEMPTS:
            _finish(session, message, MessageStatus.FAILED, now)
            return "failed"
        message.status = MessageStatus.PENDING
        message.send_after = now + backoff(message.attempts)
        uow.later("send_messages", [message.id], at=message.send_after)
        uow.commit()
        return "retry"
    _finish(session, message, MessageStatus.FAILED, now)
    if participant is not None:
        apply_delivery_error(session, participant, exc.kind, exc.code, now)
        session.commit()
    return exc.kind


def _finish(session, message, status, now) -> None:
    message.status = status
    message.updated_at = now
    session.commit()


def apply_delivery_error(session, participant: Participant, kind: str, code, now) -> None:
    """A permanent delivery error changes what we may send to this person."""
    event = DELIVERY_EVENT.get(kind)
    if event is None:
        return
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


def reconcile(services, message_id: int) -> str:
    """Settle a row whose send outcome is unknown by asking Twilio what it has."""
    now = services.now()
    with services.sessions() as session:
        message = session.get(Message, message_id)
        if message is None or message.status != MessageStatus.CLAIMED:
            return "nothing"
        try:
            found = services.gateway.find_sent_message(
                to=message.to_number,
                from_=message.from_number or None,
                body=message.body,
                sent_after=(message.claimed_at or now) - timedelta(minutes=5),
            )
        except GatewayError:
            return "later"  # Twilio still unreachable: the sweeper tries again
        if found is not None:
            message.twilio_sid = found.sid
            message.status = found.status if found.status in STATUS_RANK else MessageStatus.QUEUED
            message.sent_at = message.claimed_at
        else:
            message.status = MessageStatus.PENDING
            message.send_after = now
        message.updated_at = now
        session.commit()
        return "found" if found is not None else "requeued"


def sweep(services, limit: int = 500) -> dict:
    """Find work the queue may have lost: due pending rows and stale claims."""
    now = services.now()
    stale_after = timedelta(seconds=services.settings.claim_stale_seconds)
    with services.sessions() as session:
        due = session.exec(
            select(Message.id)
            .where(
                Message.direction == Direction.OUT,
                Message.status == MessageStatus.PENDING,
                sa.or_(Message.send_after.is_(None), Message.send_after <= now),
            )
            .order_by(Message.id)
            .limit(limit)
        ).all()
        stale = session.exec(
            select(Message.id)
            .where(Message.status == MessageStatus.CLAIMED, Message.claimed_at < now - stale_after)
            .limit(limit)
        ).all()
    for message_id in stale:
        reconcile(services, message_id)
    for start in range(0, len(due), BATCH):
        # Found in the database, committed long ago: nothing to wait for.
        services.dispatcher.enqueue("send_messages", list(due[start : start + BATCH]))
    return {"due": len(due), "stale": len(stale)}


def apply_status(session: Session, sid: str, status: str, error_code, now) -> Message | None:
    """A delivery status callback: move forward only, keep the error code."""
    message = session.exec(select(Message).where(Message.twilio_sid == sid)).first()
    if message is None:
        return None
    status = (status or "").lower()
    if STATUS_RANK.get(status, -1) <= STATUS_RANK.get(message.status, -1):
        return message  # late, duplicate or out-of-order: nothing moves backwards
    message.status = status
    if error_code:
        message.error_code = int(error_code)
    message.updated_at = now
    if (
        status in (MessageStatus.UNDELIVERED, MessageStatus.FAILED)
        and message.error_code
        and message.participant_id
    ):
        kind = classify_error_code(message.error_code)
        participant = session.get(Participant, message.participant_id)
        if participant is not None and kind in ("opted_out", "undeliverable"):
            apply_delivery_error(session, participant, kind, message.error_code, now)
    session.add(message)
    return message
