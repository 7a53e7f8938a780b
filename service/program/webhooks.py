"""Event webhooks: endpoints a facilitator registers, the outbox of deliveries written in
the same transaction as the event, and the delivery job (signed, retried with backoff).

Each try of a delivery goes through three commits, so that a worker killed at any point
never makes a receiver get the event twice:
1. claim: a conditional UPDATE takes the row (and counts the try), so two workers never
   send it at once; the try number fences every later write of this try;
2. sending: once connected to the receiver, and only while the claim is still its own, the
   worker records `sending_at`: from here on the request may reach the receiver;
3. outcome: delivered, another try later, or failed.
A claim older than `webhook_claim_stale_seconds` belongs to a dead worker. If it never
reached step 2, no byte of its request left and the delivery is simply sent (by the
sweep's job or the next); if it did, the outcome is "unknown": it stays in the delivery
log, in words, with Resend, and is never sent again by itself. The POST happens outside any
transaction."""

from __future__ import annotations

import functools
import itertools
import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from service.core import webhook_addresses, webhook_signing
from service.core.enums import AttentionKind, DeliveryStatus, ParticipantStatus, WebhookEvent
from service.core.personas import is_persona_number
from service.core.redact import mask_url
from service.infra import webhook_http
from service.models import (
    AttentionItem,
    CheckIn,
    Commitment,
    Facilitator,
    Participant,
    Reflection,
    Statement,
    WebhookDelivery,
    WebhookEndpoint,
)
from service.program import accounts, reads
from service.program.shapes import (
    AttentionOut,
    CheckInOut,
    CommitmentOut,
    ParticipantOut,
    ReflectionOut,
    StatementOut,
)
from service.records import audit, flag

log = logging.getLogger(__name__)

TASK = "deliver_webhook"
TIMEOUT_SECONDS = 10
EARLY = timedelta(seconds=5)
# Answers that are worth another try (the receiver is away or busy); others fail at once.
RETRIED = {408, 425, 429}
UNSURE = (
    "Its worker stopped while sending: the receiver may have it. Not sent again by itself; "
    "Resend it if it did not arrive."
)


class WebhookError(ValueError):
    """A plain-language reason an endpoint cannot be registered."""


def check_url(url: str, *, allow_local=False, production=False, resolve=None) -> str:
    """An https:// address (in production, one on the public internet: `resolve` finds its
    host's addresses); plain http only to this machine, and only outside production (a
    local receiver while developing)."""
    url = (url or "").strip()
    _, why = webhook_addresses.check(
        url, production=production, allow_local=allow_local, resolve=resolve
    )
    if why:
        raise WebhookError(why)
    return url


def register(
    session,
    facilitator: Facilitator,
    url: str,
    events,
    *,
    now: datetime,
    allow_local=False,
    production=False,
    resolve=None,
):
    """A new endpoint (flushed) and its signing secret."""
    url = check_url(url, allow_local=allow_local, production=production, resolve=resolve)
    chosen = sorted(set(events or ()))
    unknown = [e for e in chosen if e not in WebhookEvent.values()]
    if not chosen or unknown:
        known = ", ".join(WebhookEvent.values())
        raise WebhookError(f"Choose events among: {known}.")
    endpoint = WebhookEndpoint(
        facilitator_id=facilitator.id,
        url=url,
        secret="whsec_" + secrets.token_urlsafe(32),
        events=chosen,
        created_at=now,
    )
    session.add(endpoint)
    session.flush()
    audit(session, f"facilitator:{facilitator.id}", "webhook.register", endpoint, now=now,
          detail={"events": chosen})  # fmt: skip
    return endpoint


@dataclass(frozen=True)
class Before:
    """What a participant's events are read from: their state before a decision."""

    step: int
    status: str
    consented: bool
    seq: int = 0  # when it was read: the later of two readings is the one that counts

    @classmethod
    def of(cls, p: Participant) -> Before:
        return cls(p.step, p.status, p.consent_at is not None, next(_readings))


def changes(before: Before, p: Participant) -> list[WebhookEvent]:
    """The events a decision made of a participant's state before and after it."""
    events = []
    if not before.consented and p.consent_at is not None:
        events.append(WebhookEvent.PARTICIPANT_CONSENTED)
    if p.step != before.step:
        events.append(WebhookEvent.PARTICIPANT_STEP_CHANGED)
    if p.status != before.status and p.status == ParticipantStatus.OPTED_OUT:
        events.append(WebhookEvent.PARTICIPANT_OPTED_OUT)
    if p.status != before.status and p.status == ParticipantStatus.CLOSED:
        events.append(WebhookEvent.PARTICIPANT_CLOSED)
    return events


_readings = itertools.count(1)


def emit_changes(uow, before: Before, participant: Participant) -> None:
    """The events of a decision. A decision carried out inside another (agreeing moves
    them on a step) has told its own: what it told is the outer one's starting point."""
    told = uow.told.get(participant.id)
    if told is not None and told.seq > before.seq:
        before = told
    uow.told[participant.id] = Before.of(participant)
    found = changes(before, participant)
    if found:
        uow.session.flush()  # the resource as it now is (updated_at included)
    for event in found:
        emit(uow, event, participant)


def statement_recorded(uow, participant: Participant, statement: Statement) -> None:
    def data():
        uow.session.flush()
        shown = StatementOut.of(statement, participant.timezone).model_dump()
        return {**shown, "participant_id": participant.id}

    emit(uow, WebhookEvent.STATEMENT_RECORDED, participant, data)


def checkin_answered(uow, participant: Participant, checkin: CheckIn) -> None:
    def data():
        uow.session.flush()
        answers = reads.answers_of(uow.session, [checkin.id]).get(checkin.id, [])
        return CheckInOut.of(checkin, participant, answers).model_dump()

    emit(uow, WebhookEvent.CHECKIN_ANSWERED, participant, data)


def checkin_missed(uow, participant: Participant, checkin: CheckIn) -> None:
    emit(uow, WebhookEvent.CHECKIN_MISSED, participant,
         lambda: CheckInOut.of(checkin, participant, []).model_dump())  # fmt: skip


def reflection_recorded(uow, participant: Participant, reflection: Reflection) -> None:
    """A recording they kept (its audio is fetched from the API's signed link)."""

    def data():
        shown = ReflectionOut.of(reflection, participant.timezone, None).model_dump()
        return {**shown, "participant_id": participant.id}

    emit(uow, WebhookEvent.REFLECTION_RECORDED, participant, data)


def commitments_agreed(uow, participant: Participant, now: datetime) -> None:
    """One event per commitment the participant agreed to just now."""
    if not wanted(uow, WebhookEvent.COMMITMENT_AGREED, participant):
        return
    uow.session.flush()
    for commitment in uow.session.scalars(
        sa.select(Commitment).where(
            Commitment.participant_id == participant.id, Commitment.agreed_at == now
        )
    ):
        shown = CommitmentOut.of(commitment, participant.timezone).model_dump()
        emit(uow, WebhookEvent.COMMITMENT_AGREED, participant,
             lambda shown=shown: {**shown, "participant_id": participant.id})  # fmt: skip


def attention_raised(uow, item: AttentionItem, participant: Participant) -> None:
    """A new item on the needs-attention list (a unit of work's attention hook)."""

    def data():
        uow.session.flush()  # the item's id
        return AttentionOut.of(item, participant, None).model_dump()

    emit(uow, WebhookEvent.ATTENTION_RAISED, participant, data)


@dataclass(frozen=True)
class LiveEndpoint:
    """A live endpoint as read (plain values: it outlives the session it was read in)."""

    id: int
    events: frozenset[str]
    visible: frozenset[int] | None  # the programs its facilitator sees; None: all of them


@functools.cache
def _live_query():
    return sa.select(
        WebhookEndpoint.id, WebhookEndpoint.facilitator_id, WebhookEndpoint.events
    ).where(WebhookEndpoint.disabled_at.is_(None))


def _live(uow) -> list[LiveEndpoint]:
    """The live endpoints with the programs each may hear about, read once per unit of work,
    or once per batch of them when the caller shares one memo (a tick's page of a thousand
    misses, a batch of turns, asks once, not a thousand times). Read without flushing: no
    change pending in the transaction says which endpoints are live."""
    if "webhook_endpoints" not in uow.memo:
        session, live = uow.session, []
        rows = session.connection().execute(_live_query()).all()
        for endpoint_id, facilitator_id, events in rows:
            owner = session.get(Facilitator, facilitator_id)
            visible = accounts.visible_program_ids(session, owner) if owner.is_active else set()
            live.append(
                LiveEndpoint(
                    endpoint_id,
                    frozenset(events or ()),
                    None if visible is None else frozenset(visible),
                )
            )
        uow.memo["webhook_endpoints"] = live
    return uow.memo["webhook_endpoints"]


def wanted(uow, event: WebhookEvent, participant: Participant) -> list[LiveEndpoint]:
    """The live endpoints that want `event` about this participant: their facilitator sees
    the program. Test personas (the simulator's fictional numbers) are nobody's event."""
    if is_persona_number(participant.phone):
        return []
    return [
        endpoint
        for endpoint in _live(uow)
        if event in endpoint.events
        and (endpoint.visible is None or participant.program_id in endpoint.visible)
    ]


def emit(uow, event: WebhookEvent, participant: Participant, data=None) -> list[WebhookDelivery]:
    """Outbox rows for every endpoint that wants `event` about `participant`, in the caller's
    transaction; their jobs go after the commit. `data()` makes the resource (by default the
    participant as the API shows them), only when some endpoint wants it."""
    session, now = uow.session, uow.now
    rows = []
    endpoints = wanted(uow, event, participant)
    if not endpoints:
        return rows
    event_id = f"evt_{uuid.uuid4().hex}"
    resource = data() if data else ParticipantOut.of(participant, phones=False).model_dump()
    body = json.dumps(
        {
            "id": event_id,
            "type": str(event),
            "created": now.isoformat().replace("+00:00", "Z"),
            "data": resource,
        },
        ensure_ascii=False,
    )
    for endpoint in endpoints:
        row = WebhookDelivery(
            endpoint_id=endpoint.id,
            event_id=event_id,
            event_type=str(event),
            body=body,
            participant_id=participant.id,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(row)
        rows.append(row)
    if rows:
        session.flush()
        for row in rows:
            uow.later(TASK, row.id)
    return rows


def _stale(services, now: datetime) -> datetime:
    return now - timedelta(seconds=services.settings.webhook_claim_stale_seconds)


def _mark_unsure(session, now: datetime, stale: datetime, delivery_id: int | None = None) -> int:
    """Tries whose worker died after their request may have left: outcome unknown."""
    stmt = sa.update(WebhookDelivery).where(
        WebhookDelivery.status == DeliveryStatus.PENDING,
        WebhookDelivery.sending_at.is_not(None),
        WebhookDelivery.claimed_at < stale,
    )
    if delivery_id is not None:
        stmt = stmt.where(WebhookDelivery.id == delivery_id)
    found = session.execute(
        stmt.values(
            status=DeliveryStatus.UNKNOWN,
            claimed_at=None,
            next_attempt_at=None,
            last_status_code=None,
            last_error=UNSURE,
        )
    ).rowcount
    if found:
        log.warning("%d webhook deliveries' outcome is unknown (their worker stopped)", found)
    return found


@dataclass(frozen=True)
class _Try:
    """One claimed try: which, and what it sends."""

    delivery_id: int
    number: int  # the row's attempts when claimed: fences this try's later writes
    url: str
    secret: str
    body: bytes
    event_type: str
    event_id: str
    disabled: bool


def _claim(services, delivery_id: int, now: datetime) -> _Try | None:
    stale = _stale(services, now)
    with services.sessions() as session:
        _mark_unsure(session, now, stale, delivery_id)
        claimed = session.execute(
            sa.update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
                # Not before its time (a scheduled job may start a little early).
                sa.or_(
                    WebhookDelivery.next_attempt_at.is_(None),
                    WebhookDelivery.next_attempt_at <= now + EARLY,
                ),
                # Free, or claimed by a worker long gone before its request could leave.
                WebhookDelivery.sending_at.is_(None),
                sa.or_(WebhookDelivery.claimed_at.is_(None), WebhookDelivery.claimed_at < stale),
            )
            .values(claimed_at=now, attempts=WebhookDelivery.attempts + 1)
        ).rowcount
        session.commit()
        if not claimed:
            return None
        row = session.get(WebhookDelivery, delivery_id)
        endpoint = session.get(WebhookEndpoint, row.endpoint_id)
        return _Try(
            delivery_id, row.attempts, endpoint.url, endpoint.secret, row.body.encode(),
            row.event_type, row.event_id, endpoint.disabled_at is not None,
        )  # fmt: skip


def _mark_sending(services, one: _Try, now: datetime) -> str | None:
    """Record that the request is about to leave, if the try is still this worker's and
    the endpoint still live: None, or why it is not sent. The endpoint's row is read under
    a share lock, so a Disable being committed right now is waited for."""
    with services.sessions() as session:
        endpoint = session.scalars(
            sa.select(WebhookEndpoint)
            .join(WebhookDelivery, WebhookDelivery.endpoint_id == WebhookEndpoint.id)
            .where(WebhookDelivery.id == one.delivery_id)
            .with_for_update(read=True, of=WebhookEndpoint)
        ).one()
        if endpoint.disabled_at is not None:
            return "endpoint disabled"
        marked = session.execute(
            sa.update(WebhookDelivery)
            .where(
                WebhookDelivery.id == one.delivery_id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.attempts == one.number,
                WebhookDelivery.claimed_at.is_not(None),
                WebhookDelivery.sending_at.is_(None),
            )
            .values(sending_at=services.now())
        ).rowcount
        session.commit()
        return None if marked else "taken over"


def deliver(services, delivery_id: int) -> str:
    """One try of one delivery; what happened ("delivered", "retry", "failed", "skipped")."""
    now = services.now()
    one = _claim(services, delivery_id, now)
    if one is None:
        return "skipped"
    if one.disabled:
        return _settle(services, one, None, "endpoint disabled", True, now)
    production = services.settings.env == "production"
    # Checked again now, not only when it was registered: a name that resolves to a
    # private address today (DNS rebinding) is refused, and the connection is pinned to
    # the address checked.
    target, problem = webhook_addresses.check(
        one.url, production=production, allow_local=not production, resolve=services.resolve
    )
    conn = None
    if target is not None:
        try:
            conn = webhook_http.connect(target, TIMEOUT_SECONDS)
        except webhook_http.PostFailed as exc:
            problem = str(exc)
    if conn is not None:
        problem = _mark_sending(services, one, now)
        if problem == "taken over":  # another worker owns the delivery now
            conn.close()
            return "skipped"
        if problem is not None:
            conn.close()
            return _settle(services, one, None, problem, True, now)
    if conn is None:
        return _settle(services, one, None, problem, False, now)
    headers = {
        "Content-Type": "application/json",
        webhook_signing.HEADER: webhook_signing.header(one.secret, int(now.timestamp()), one.body),
        "Realign-Event": one.event_type,
        "Realign-Delivery": one.event_id,
        "User-Agent": "Realign-Webhooks",
    }
    code = None
    try:
        code = webhook_http.send(conn, one.url, one.body, headers, TIMEOUT_SECONDS)
    except webhook_http.PostFailed as exc:
        problem = str(exc)
    return _settle(services, one, code, problem, False, now)


def _settle(services, one: _Try, code, problem, disabled, now) -> str:
    """Record a try's outcome, unless the delivery is no longer this try's (resent and
    claimed again since): then the newer try records its own."""
    with services.sessions() as session:
        row = session.get(WebhookDelivery, one.delivery_id, with_for_update=True)
        # (An unknown outcome that its worker, alive after all, now knows, is recorded.)
        open_ = (DeliveryStatus.PENDING, DeliveryStatus.UNKNOWN)
        if row is None or row.attempts != one.number or row.status not in open_:
            return "skipped"
        row.claimed_at = None
        row.sending_at = None
        row.last_status_code = code
        row.last_error = problem
        if code is not None and 200 <= code < 300:
            row.status, row.delivered_at, outcome = DeliveryStatus.DELIVERED, now, "delivered"
        else:
            retry = not disabled and (code is None or code >= 500 or code in RETRIED)
            next_at = now + timedelta(seconds=webhook_signing.retry_delay(row.attempts))
            if retry and not webhook_signing.gives_up(
                row.created_at.timestamp(), next_at.timestamp()
            ):
                row.status, row.next_attempt_at, outcome = DeliveryStatus.PENDING, next_at, "retry"
            else:
                row.status, row.next_attempt_at, outcome = DeliveryStatus.FAILED, None, "failed"
                if retry:  # a day of failures, not a refusal
                    _disable_if_failing(session, row, now)
        session.commit()
        log.info(
            "webhook delivery %s to %s: %s (%s)",
            one.delivery_id,
            mask_url(session.get(WebhookEndpoint, row.endpoint_id).url),
            outcome,
            code or problem,
        )
        if outcome == "retry":
            services.dispatcher.enqueue(TASK, one.delivery_id, at=row.next_attempt_at)
        return outcome


def _disable_if_failing(session, row: WebhookDelivery, now: datetime) -> None:
    """An endpoint that has delivered nothing for a day is disabled, and its facilitator
    told on the needs-attention list (about the participant of the event that gave up)."""
    endpoint = session.get(WebhookEndpoint, row.endpoint_id)
    since = now - timedelta(hours=webhook_signing.RETRY_HOURS)
    delivered = session.scalars(
        sa.select(WebhookDelivery.id).where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status == DeliveryStatus.DELIVERED,
            WebhookDelivery.delivered_at >= since,
        )
    ).first()
    if delivered is not None or endpoint.disabled_at is not None:
        return
    endpoint.disabled_at = now
    audit(session, "system", "webhook.disable", endpoint, now=now, detail={"why": "failing"})
    participant = session.get(Participant, row.participant_id) if row.participant_id else None
    detail = f"{mask_url(endpoint.url)} has not taken an event for a day: it is disabled"
    if participant is not None:
        flag(session, participant, AttentionKind.WEBHOOK_FAILING, detail, now)


def sweep(services, limit: int = 500) -> int:
    """Queue again deliveries whose job was lost (Redis away at the commit, a worker that
    died before its request left): due, not being sent (or claimed by a worker long gone),
    and not held by a job that still waits. A dead worker's try whose request may have
    left is marked unknown instead. Returns how many were queued."""
    now = services.now()
    stale = _stale(services, now)
    with services.sessions() as session:
        _mark_unsure(session, now, stale)
        session.commit()
        due = list(
            session.scalars(
                sa.select(WebhookDelivery.id)
                .where(
                    WebhookDelivery.status == DeliveryStatus.PENDING,
                    WebhookDelivery.next_attempt_at <= now,
                    WebhookDelivery.sending_at.is_(None),
                    sa.or_(
                        WebhookDelivery.claimed_at.is_(None),
                        WebhookDelivery.claimed_at < stale,
                    ),
                )
                .order_by(WebhookDelivery.id)
                .limit(limit)
            )
        )
    held = {args[0] for args in services.dispatcher.waiting(TASK)}
    found = [i for i in due if i not in held]
    for delivery_id in found:
        services.dispatcher.enqueue(TASK, delivery_id)
    return len(found)


# A facilitator's own endpoints (the admin) -------------------------------------------


class EndpointNotFound(LookupError):
    """No such endpoint or delivery among this facilitator's own."""


def owned(session, facilitator: Facilitator) -> list[WebhookEndpoint]:
    stmt = (
        sa.select(WebhookEndpoint)
        .where(WebhookEndpoint.facilitator_id == facilitator.id)
        .order_by(WebhookEndpoint.id.desc())
    )
    return list(session.scalars(stmt))


def own_endpoint(session, facilitator: Facilitator, endpoint_id: int | None) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id) if endpoint_id else None
    if endpoint is None or endpoint.facilitator_id != facilitator.id:
        raise EndpointNotFound(endpoint_id)
    return endpoint


def recent(session, endpoint: WebhookEndpoint, limit: int = 50) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first (its delivery log)."""
    stmt = (
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def disable(session, facilitator: Facilitator, endpoint_id: int, *, now: datetime):
    endpoint = own_endpoint(session, facilitator, endpoint_id)
    if endpoint.disabled_at is None:
        endpoint.disabled_at = now
        audit(session, f"facilitator:{facilitator.id}", "webhook.disable", endpoint, now=now)
    return endpoint


def resend(uow, facilitator: Facilitator, delivery_id: int | None) -> WebhookDelivery:
    """Send one of the facilitator's deliveries again (a failed one, one whose outcome is
    unknown, or one the receiver lost), as a new series of tries; refused while it is
    being sent."""
    session, now = uow.session, uow.now
    row = session.get(WebhookDelivery, delivery_id) if delivery_id else None
    if row is None:
        raise EndpointNotFound(delivery_id)
    endpoint = own_endpoint(session, facilitator, row.endpoint_id)
    if endpoint.disabled_at is not None:
        raise WebhookError("This endpoint is disabled: register it again to send to it.")
    if row.status == DeliveryStatus.PENDING and row.claimed_at is not None:
        raise WebhookError("This delivery is being sent right now.")
    row.status, row.next_attempt_at, row.created_at = DeliveryStatus.PENDING, now, now
    row.claimed_at = row.sending_at = None
    audit(session, f"facilitator:{facilitator.id}", "webhook.resend", row, now=now)
    uow.later(TASK, row.id)
    return row
