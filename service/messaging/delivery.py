"""Sending the outbox: each row at most once, its fate always known.

Sending claims the rows atomically (`pending` → `claimed`) before Twilio is asked, so two
workers, or a job re-run after a crash, cannot send one twice. Each row's SID is stored as
soon as its own create returns, so a status callback racing it is applied (or parked and
applied right after: messaging/statuses.py). What Twilio refuses is retried or settled by
messaging/failures.py; a send whose outcome is unknown is reconciled, never repeated.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core import delivery_rules
from service.core.enums import Direction, MessageStatus
from service.core.erasure_rules import twilio_leftovers
from service.core.redact import mask_phone
from service.infra.db import insert_new
from service.infra.gateway import GatewayError
from service.infra.metrics import SEND_SECONDS, Metrics
from service.infra.queue import Lane
from service.messaging import failures, statuses
from service.models import Message, Participant, PendingDeletion
from service.unit_of_work import BATCH, PURGE_TASK, SEND_TASK, UnitOfWork

log = logging.getLogger(__name__)

LEASE_SLACK_S = 1.0  # see send_deadline
NOT_STARTED = object()  # a send the claim's lease left no time for


@dataclass(frozen=True)
class Held:
    """A send whose slot under its sender's MPS cap is `wait` seconds away: it is given
    back and queued for then, instead of a worker sleeping on it."""

    wait: float


# Sending ------------------------------------------------------------------------------


def claim(
    session: Session, message_ids: list[int], now: datetime, *, simulated: bool = False
) -> list[Message]:
    """Atomically take the pending, due rows among these for this worker, in one UPDATE,
    and commit. Rows someone else has (or that are done) are not returned. A test
    persona's rows (marked `simulated` when written) are never taken for the real
    gateway: only a claim for the console (`simulated=True`) takes them."""
    claimed = session.scalars(
        sa.update(Message)
        .where(
            Message.id.in_(set(message_ids)),
            Message.status == MessageStatus.PENDING,
            sa.or_(Message.send_after.is_(None), Message.send_after <= now),
            Message.simulated.is_(simulated),
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


def release(
    session: Session, message_ids: list[int], claimed_at: datetime, now, send_after=None
) -> list[int]:
    """Give back rows this worker claimed at `claimed_at` but did not send, to go out at
    once (or at `send_after`); a row the sweeper has already settled is no longer ours and
    is left alone. Returns the ids given back."""
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
            send_after=send_after or now,
            attempts=Message.attempts - 1,
            updated_at=now,
        )
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    return sorted(released)


def deliver_many(
    services,
    message_ids: list[int],
    *,
    concurrency: int | None = None,
    lane: Lane | None = None,
    paced: bool = False,
) -> dict:
    """Send a batch, each row at most once; returns how many ended which way.

    The database is touched a few times per batch, not per text: one UPDATE claims every
    row (committed before any request leaves, so a crash can only leave rows claimed,
    for `reconcile`), then only the Twilio requests run concurrently over the pooled
    client, then one flush records what Twilio answered. Rows whose lease ran out before
    their request could start are given back and queued again; rows whose sender's MPS
    slot is later are given back and queued (on `lane`) for their slots, `paced`: their
    slots are already taken, so they go at once.
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
        if len(claimed) < len(message_ids):  # a test persona's rows: for the console only
            rest = sorted(set(message_ids) - {m.id for m in claimed})
            claimed += claim(session, rest, now, simulated=True)
        count("skipped", len(message_ids) - len(claimed))
        people = _participants(session, claimed)
        sends = []
        for message in claimed:
            participant = people.get(message.participant_id)
            if participant is not None and not delivery_rules.may_receive(
                participant.status, message.template
            ):
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
        answers = _send_all(
            services, [m for m, _ in sends], callback, concurrency, deadline, now, paced
        )
        refused, late, held, sids = [], [], [], []
        sent: dict[int, str] = {}  # message id: SID, read before the rows are expired
        for (message, participant), answer in zip(sends, answers, strict=True):
            if answer is NOT_STARTED:
                late.append(message.id)
            elif isinstance(answer, Held):
                held.append((message.id, answer.wait))
            elif isinstance(answer, GatewayError):
                refused.append((message, participant, answer))
            else:  # stored as it returned (see _SidWriter)
                sids.append(answer.sid)
                sent[message.id] = answer.sid
                count(delivery_rules.known_status(answer.status))
                log.info("sent message %s to %s (%s)", message.id,
                         mask_phone(message.to_number), answer.status)  # fmt: skip
        session.expire_all()  # the threads wrote these rows: read them afresh
        statuses.apply_parked(session, sids, now)
        _erased_meanwhile(uow, sent, now)
        session.commit()
        for message, participant, exc in refused:
            count(failures.failed_send(uow, message, participant, exc, now))
        if late:
            released = release(session, late, now, services.now())
            count("released", len(released))
            log.warning("lease ran out before %d sends could start; queued again", len(late))
            if released:
                uow.later("send_messages", released, lane=lane)
        for at, ids in _slot_jobs(held, services.now()):
            released = release(session, ids, now, services.now(), send_after=at)
            count("held", len(released))
            if released:
                uow.later("send_messages", released, True, at=at, lane=lane)
        uow.commit()
    return results


def _erased_meanwhile(uow, sent: dict[int, str], now: datetime) -> None:
    """Texts (id: SID) whose row was erased while Twilio was taking them: their copy at
    Twilio is queued for deletion like the rest of the erasure's (program/leftovers.py)."""
    if not sent:
        return
    session = uow.session
    kept = set(session.scalars(sa.select(Message.id).where(Message.id.in_(list(sent)))))
    copies = twilio_leftovers([sid for i, sid in sent.items() if i not in kept], [], [])
    if copies:
        rows = [dict(kind=str(c.kind), ref=c.ref, attempts=0, created_at=now) for c in copies]
        pending = insert_new(session, PendingDeletion, rows, ("kind", "ref"))
        uow.later(PURGE_TASK, [row.id for row in pending])
        log.info("%d texts were erased while being sent; Twilio's copies go too", len(copies))


def _slot_jobs(held: list[tuple[int, float]], now: datetime) -> list[tuple[datetime, list]]:
    """Rows held back by their senders' caps, as one job per second of slots, each due at
    the whole second after the last slot it holds: none of its rows goes before its own
    slot, and RQ's scheduler, which keeps times to the whole second, never starts the job
    before its rows are due (it would find them not yet due and leave them to the sweep)."""
    seconds: dict[int, list[tuple[int, float]]] = {}
    for message_id, wait in held:
        seconds.setdefault(int(wait), []).append((message_id, wait))
    jobs = []
    for _, rows in sorted(seconds.items()):
        last = now + timedelta(seconds=max(w for _, w in rows))
        due = last.replace(microsecond=0) + timedelta(seconds=1 if last.microsecond else 0)
        jobs.append((due, [i for i, _ in rows]))
    return jobs


class _SidWriter:
    """Stores each SID as its create returns, many to a transaction (group commit): the
    thread that finds no write under way writes everything waiting, so a status callback
    finds its SID within one write's time (until then it is parked), and a crash mid-batch
    leaves at most that write's rows to be settled against Twilio's list."""

    STATEMENT = (
        sa.update(Message)
        .where(Message.id == sa.bindparam("mid"), Message.status == MessageStatus.CLAIMED)
        .values(
            twilio_sid=sa.bindparam("sid"),
            status=sa.bindparam("new_status"),
            error_code=sa.bindparam("code"),  # not an earlier, retried attempt's error
            sent_at=sa.bindparam("at"),
            failing_since=None,
            updated_at=sa.bindparam("at"),
        )
    )

    def __init__(self, engine: sa.Engine, now: datetime):
        self.engine, self.now = engine, now
        self._waiting: list[dict] = []
        self._lock = threading.Lock()  # guards _waiting
        self._writing = threading.Lock()  # one write at a time

    def add(self, message_id: int, answer) -> None:
        row = {
            "mid": message_id,
            "sid": answer.sid,
            "new_status": delivery_rules.known_status(answer.status),
            "code": answer.error_code,
            "at": self.now,
        }
        with self._lock:
            self._waiting.append(row)
        self.write(wait=False)

    def write(self, *, wait: bool = True) -> None:
        """Write what is waiting; without `wait`, leave it to a write already under way
        (which looks again before it ends)."""
        while True:
            if not self._writing.acquire(blocking=wait):
                return
            try:
                with self._lock:
                    rows, self._waiting = self._waiting, []
                if rows:
                    with self.engine.begin() as conn:
                        conn.execute(
                            self.STATEMENT.execution_options(synchronize_session=False), rows
                        )
            finally:
                self._writing.release()
            with self._lock:
                if not self._waiting:
                    return


def _participants(session, messages) -> dict[int, Participant]:
    ids = {m.participant_id for m in messages if m.participant_id}
    if not ids:
        return {}
    return {p.id: p for p in session.exec(select(Participant).where(Participant.id.in_(ids)))}


def _send_all(
    services, messages: list[Message], callback, concurrency: int, deadline, now, paced: bool
) -> list:
    """One Twilio request per row, `concurrency` at a time; each answer, its error,
    NOT_STARTED when its turn (behind a slow API) came after the claim's `deadline`, or
    Held when its sender's next slot is not now (unless `paced`: its slot was taken when it
    was held). Each answer's SID is stored at once, by the thread that got it. The threads
    get plain values, never the session's objects."""
    limiter = services.rate_limit
    settings = services.settings
    requests = [
        (
            m.id,
            None if m.simulated else m.from_number or m.messaging_service_sid or "default",
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

    writer = _SidWriter(services.engine, now)
    took: list[float] = []  # each create's seconds (list.append is thread-safe)

    def send(request: tuple[int, str, dict]):
        message_id, sender, options = request  # sender: whose MPS cap; None: a persona's
        if sender is not None and not paced and (wait := limiter.reserve(sender)):
            return Held(wait)
        if services.now() > deadline:
            return NOT_STARTED
        gateway = services.console if sender is None else services.gateway_for(options["to"])
        started = time.monotonic()
        try:
            answer = gateway.send_message(**options)
        except GatewayError as exc:
            return exc
        finally:
            took.append(time.monotonic() - started)
        writer.add(message_id, answer)
        return answer

    try:
        if len(requests) <= 1 or concurrency <= 1:
            return [send(r) for r in requests]
        return services.send_threads.map(send, requests, width=concurrency)
    finally:
        writer.write()  # anything still waiting
        Metrics(services.redis).observe_many(SEND_SECONDS, took)


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
        statuses.reconcile(services, message_id)
    # Rows a job waiting in a lane (behind a wave, say) or set for later already holds
    # are that job's to send: queued again they would only make work. A job lost with a
    # worker that died holding it is no longer waiting, so its rows are found again.
    held = {i for args in services.dispatcher.waiting(SEND_TASK) for i in args[0]} & set(due)
    due = [i for i in due if i not in held]
    for start in range(0, len(due), BATCH):
        # Found in the database, committed long ago: nothing to wait for.
        batch = list(due[start : start + BATCH])
        services.dispatcher.enqueue(SEND_TASK, batch, lane=Lane.BULK)
    with services.sessions() as session:
        parked = statuses.settle_parked(session, now)
        session.commit()
    checked = statuses.check_unfinished(services)
    return {
        "due": len(due), "held": len(held), "stale": len(stale), "parked": parked, **checked
    }  # fmt: skip
