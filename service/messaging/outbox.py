"""The outbox: every outbound text is a row first, and sending it is idempotent.

A text is written in the same transaction as the state change that caused it, with a
unique idempotency key, so a retried webhook or job cannot write it twice. Sending
claims the row atomically (`pending` → `claimed`) before calling Twilio, so two
workers, or a job re-run after a crash, cannot send it twice. A send whose outcome is
unknown (timeout after the request left) is reconciled against Twilio's message list,
never blindly repeated.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core import schedule, texts
from service.core.options import quiet_hours
from service.core.redact import mask_phone
from service.infra.db import insert_new, is_unique_violation, row_values
from service.infra.gateway import GatewayError
from service.models import AttentionItem, Facilitator, Message, Participant, Program

log = logging.getLogger(__name__)

# Statuses only ever move forward; callbacks that arrive late or twice change nothing.
STATUS_RANK = {
    "pending": 0,
    "claimed": 1,
    "console": 2,
    "accepted": 2,
    "scheduled": 2,
    "queued": 3,
    "sending": 4,
    "sent": 5,
    "delivered": 6,
    "read": 7,
    "undelivered": 6,
    "failed": 6,
    "cancelled": 6,
    "canceled": 6,
}
FINAL = {"delivered", "read", "undelivered", "failed", "cancelled", "canceled", "console"}
NO_TEXT_STATUSES = {"opted_out", "undeliverable", "closed"}
MAX_ATTEMPTS = 6
BATCH = 100  # rows per send job: one job per text would cap throughput near 50/s
LEASE_SLACK_S = 1.0  # see send_deadline
NOT_STARTED = object()  # a send the claim's lease left no time for


def may_receive(participant: Participant, message: Message) -> bool:
    """Opted out, unreachable or closed: nothing leaves, except the closing text itself."""
    if participant.status == "closed":
        return (message.template or "").startswith("closing_")
    return participant.status not in NO_TEXT_STATUSES


def backoff(attempts: int) -> timedelta:
    """Growing gaps between retries: 10 s, 20 s, 40 s … capped at 10 minutes."""
    return timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), 600))


def queue_text(
    session: Session, participant: Participant, template: str, **kwargs
) -> Message | None:
    """Write one outbound text for `participant` into the caller's transaction.

    `reply=True` marks an answer to a text the participant just sent: it may leave at
    once. Anything we start ourselves waits for their local waking hours. Returns the
    existing row when `key` was already used, and None when they must not be texted.
    """
    message = compose_text(session, participant, template, **kwargs)
    return None if message is None else insert_once(session, message)


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
    if participant.status in NO_TEXT_STATUSES:
        return None
    if participant.status == "paused" and not allow_paused:
        return None
    program = program or session.get(Program, participant.program_id)
    if body is None:
        values = {**common_values(session, participant, program), **(values or {})}
        body = texts.render(template, participant.language, program.text_overrides or {}, **values)
    if not reply:
        quiet = quiet_hours(program)
        earliest = max(send_after or now, now)
        send_after = schedule.next_allowed(earliest, participant.timezone, quiet)
    return Message(
        direction="out",
        program_id=program.id,
        participant_id=participant.id,
        idempotency_key=key,
        to_number=participant.phone,
        from_number=program.sender_number or "",
        messaging_service_sid=program.messaging_service_sid,
        body=body,
        template=template,
        status="pending",
        send_after=send_after,
        created_at=now,
        updated_at=now,
    )


def common_values(session: Session, participant: Participant, program: Program) -> dict:
    """What any text may mention: the program, its facilitator, the person, their partner."""
    owner = session.get(Facilitator, program.owner_id)
    partner = session.get(Participant, participant.partner_id) if participant.partner_id else None
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
    """Insert, or return the row that already holds this idempotency key."""
    try:
        with session.begin_nested():
            session.add(message)
    except sa.exc.IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        existing = session.exec(
            select(Message).where(Message.idempotency_key == message.idempotency_key)
        ).one()
        return existing
    return message


def insert_all(session: Session, messages: list[Message | None]) -> list[Message | None]:
    """`insert_once` for a batch, in one INSERT: the rows as stored, in the same order
    (a key already used gives the existing row; None stays None)."""
    new = [m for m in messages if m is not None]
    stored = {
        m.idempotency_key: m
        for m in insert_new(session, Message, [row_values(m) for m in new], ("idempotency_key",))
    }
    taken = [m.idempotency_key for m in new if m.idempotency_key not in stored]
    if taken:
        stored.update(
            (m.idempotency_key, m)
            for m in session.exec(select(Message).where(Message.idempotency_key.in_(taken)))
        )
    return [None if m is None else stored[m.idempotency_key] for m in messages]


def cancel_pending(session: Session, participant: Participant, now: datetime) -> int:
    """Nothing queued for them may leave any more."""
    result = session.execute(
        sa.update(Message)
        .where(
            Message.participant_id == participant.id,
            Message.direction == "out",
            Message.status == "pending",
        )
        .values(status="cancelled", updated_at=now)
    )
    return result.rowcount


def enqueue_sends(services, messages) -> None:
    """After commit: hand new rows to the queue (the sweeper covers a queue that is down)."""
    now = services.now()
    pending = [m for m in messages if m is not None and m.status == "pending"]
    due = [m.id for m in pending if m.send_after is None or m.send_after <= now]
    for start in range(0, len(due), BATCH):
        services.dispatcher.enqueue("send_messages", due[start : start + BATCH])
    for m in pending:
        if m.id not in due:
            services.dispatcher.enqueue(
                "send_messages", [m.id], at=m.send_after, job_id=f"send-{m.id}"
            )


# Sending ------------------------------------------------------------------------------


def claim(session: Session, message_ids: list[int], now: datetime) -> list[Message]:
    """Atomically take the pending, due rows among these for this worker, in one UPDATE,
    and commit. Rows someone else has (or that are done) are not returned."""
    claimed = session.scalars(
        sa.update(Message)
        .where(
            Message.id.in_(set(message_ids)),
            Message.status == "pending",
            sa.or_(Message.send_after.is_(None), Message.send_after <= now),
        )
        .values(status="claimed", claimed_at=now, attempts=Message.attempts + 1, updated_at=now)
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
            Message.status == "claimed",
            Message.claimed_at == claimed_at,
        )
        .values(status="pending", send_after=now, attempts=Message.attempts - 1, updated_at=now)
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

    with services.sessions() as session:
        claimed = claim(session, message_ids, now)
        count("skipped", len(message_ids) - len(claimed))
        people = _participants(session, claimed)
        sends = []
        for message in claimed:
            participant = people.get(message.participant_id)
            if participant is not None and not may_receive(participant, message):
                message.status = "cancelled"
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
            message.status = answer.status if answer.status in STATUS_RANK else "queued"
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
            count(_failed_send(services, session, message, participant, exc, now))
        if late:
            released = release(session, late, now, services.now())
            count("released", len(released))
            log.warning("lease ran out before %d sends could start; queued again", len(late))
            if released:
                services.dispatcher.enqueue("send_messages", released)
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


def _failed_send(services, session, message, participant, exc: GatewayError, now) -> str:
    message.error_code = exc.code
    message.updated_at = now
    if exc.kind == "transient":
        if getattr(exc, "outcome_unknown", False):
            # The request may have reached Twilio: leave it claimed; reconcile() decides.
            session.commit()
            return "unknown"
        if message.attempts >= MAX_ATTEMPTS:
            _finish(session, message, "failed", now)
            return "failed"
        message.status = "pending"
        message.send_after = now + backoff(message.attempts)
        session.commit()
        services.dispatcher.enqueue("send_messages", [message.id], at=message.send_after)
        return "retry"
    _finish(session, message, "failed", now)
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
    if kind == "opted_out" and participant.status != "opted_out":
        participant.status = "opted_out"
        participant.opted_out_at = now
        flag(session, participant, "opted_out", f"carrier reports opt-out (error {code})", now)
    elif kind == "undeliverable" and participant.status not in ("opted_out", "undeliverable"):
        participant.status = "undeliverable"
        flag(session, participant, "undeliverable", f"texts cannot reach them (error {code})", now)
    session.add(participant)


def flag(session, participant: Participant, kind: str, detail: str, now) -> AttentionItem:
    """Add an item to the facilitator's needs-attention list."""
    item = AttentionItem(
        program_id=participant.program_id,
        participant_id=participant.id,
        kind=kind,
        detail=detail,
        created_at=now,
    )
    session.add(item)
    return item


def reconcile(services, message_id: int) -> str:
    """Settle a row whose send outcome is unknown by asking Twilio what it has."""
    now = services.now()
    with services.sessions() as session:
        message = session.get(Message, message_id)
        if message is None or message.status != "claimed":
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
            message.status = found.status if found.status in STATUS_RANK else "queued"
            message.sent_at = message.claimed_at
        else:
            message.status = "pending"
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
                Message.direction == "out",
                Message.status == "pending",
                sa.or_(Message.send_after.is_(None), Message.send_after <= now),
            )
            .order_by(Message.id)
            .limit(limit)
        ).all()
        stale = session.exec(
            select(Message.id)
            .where(Message.status == "claimed", Message.claimed_at < now - stale_after)
            .limit(limit)
        ).all()
    for message_id in stale:
        reconcile(services, message_id)
    for start in range(0, len(due), BATCH):
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
    if status in ("undelivered", "failed") and message.error_code and message.participant_id:
        from service.infra.gateway import classify_error_code

        kind = classify_error_code(message.error_code)
        participant = session.get(Participant, message.participant_id)
        if participant is not None and kind in ("opted_out", "undeliverable"):
            apply_delivery_error(session, participant, kind, message.error_code, now)
    session.add(message)
    return message
