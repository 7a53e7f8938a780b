"""Calls out (a participant texted CALL) and every call's status callbacks.

A pending `Call` row is placed at most once per attempt: the row is claimed with one
conditional UPDATE (`pending` → `claimed`, attempts + 1) before Twilio is asked, as the
outbox does for texts. Calls go out only inside the participant's waking hours. A call
that ends busy, unanswered or failed is tried again after a growing gap (`RETRY_GAPS`,
still only in waking hours) up to the program's `call_retries`, then the facilitator is
told. Status callbacks move a call forward only, so a duplicate or late one changes nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core import schedule
from service.core.attention_rules import Cause
from service.core.enums import AttentionKind, CallDirection, CallStatus, ParticipantStatus
from service.core.options import option, quiet_hours
from service.core.redact import mask_phone
from service.infra.db import insert_or_get
from service.infra.gateway import GatewayError
from service.models import Call, Participant, Program
from service.program import attention
from service.records import flag
from service.unit_of_work import UnitOfWork
from service.voice.keeping import keep_undecided

log = logging.getLogger(__name__)

RETRY_GAPS = (timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4))
RANK = {m.value: m.rank for m in CallStatus if m.rank is not None}
IN_FLIGHT = tuple(sorted(RANK, key=RANK.get))
ENDED = (
    CallStatus.COMPLETED,
    CallStatus.BUSY,
    CallStatus.NO_ANSWER,
    CallStatus.FAILED,
    CallStatus.CANCELED,
)
RETRYABLE = (CallStatus.BUSY, CallStatus.NO_ANSWER, CallStatus.FAILED)
# Nobody is called who has not said yes, asked for a break, opted out or finished.
NOT_CALLED = (
    ParticipantStatus.INVITED,
    ParticipantStatus.PAUSED,
    ParticipantStatus.OPTED_OUT,
    ParticipantStatus.CLOSED,
)
CLAIM_STALE_AFTER = timedelta(minutes=10)
PLACED_STALE_AFTER = timedelta(hours=2)


def retry_gap(failed_attempts: int) -> timedelta:
    return RETRY_GAPS[min(max(failed_attempts, 1), len(RETRY_GAPS)) - 1]


def answer_url(settings, call_id: int) -> str:
    return f"{settings.public_base_url}/twilio/voice?{urlencode({'call': call_id})}"


def status_url(settings, call_id: int, attempt: int) -> str:
    """Names the row and the attempt: a late callback of an earlier attempt is ignored, and
    one that beats our own record of the new CallSid is still matched."""
    query = urlencode({"call": call_id, "attempt": attempt})
    return f"{settings.public_base_url}/twilio/voice/status?{query}"


# Placing -------------------------------------------------------------------------------


def place(services, call_id: int) -> str:
    """Place one due outbound call, at most once per attempt. Returns what happened."""
    now = services.now()
    with UnitOfWork(services) as uow:
        session = uow.session
        call = session.get(Call, call_id)
        if call is None or call.direction != CallDirection.OUT or call.status != CallStatus.PENDING:
            return "skipped"
        if call.next_attempt_at is not None and call.next_attempt_at > now:
            return "not_due"
        participant = session.get(Participant, call.participant_id)
        program = session.get(Program, participant.program_id)
        if participant.status in NOT_CALLED:
            _set(session, call, CallStatus.PENDING, status=CallStatus.CANCELLED, updated_at=now)
            uow.commit()
            return "cancelled"
        quiet = quiet_hours(program)
        if not schedule.is_allowed(now, participant.timezone, quiet):
            later = schedule.next_allowed(now, participant.timezone, quiet)
            _set(session, call, CallStatus.PENDING, next_attempt_at=later, updated_at=now)
            uow.later("place_call", call_id, at=later)
            uow.commit()
            return "later"
        if not _set(
            session,
            call,
            "pending",
            status=CallStatus.CLAIMED,
            attempts=Call.attempts + 1,
            updated_at=now,
        ):
            return "skipped"  # another worker has it
        uow.commit()
        attempt = session.get(Call, call_id, populate_existing=True).attempts
        to, from_ = participant.phone, program.sender_number or services.settings.twilio_from_number
    try:
        if not from_:
            raise GatewayError(21213, None, "permanent", "no number to call from")
        result = services.gateway_for(to).place_call(
            to,
            from_,
            url=answer_url(services.settings, call_id),
            status_callback=status_url(services.settings, call_id, attempt),
        )
    except GatewayError as exc:
        return _place_failed(services, call_id, exc, now)
    with services.sessions() as session:
        # A status callback may already have moved the row on; it then holds the sid.
        session.execute(
            sa.update(Call)
            .where(Call.id == call_id, Call.status == CallStatus.CLAIMED)
            .values(call_sid=result.sid, status=_status_after_create(result.status), updated_at=now)
        )
        session.commit()
    log.info("placed call %s to %s (%s)", call_id, mask_phone(to), result.status)
    return "placed"


def _status_after_create(status: str) -> str:
    status = (status or "queued").lower()
    return status if status in IN_FLIGHT or status == "console" else "queued"


def _set(session: Session, call: Call, expected: str, **values) -> bool:
    result = session.execute(
        sa.update(Call).where(Call.id == call.id, Call.status == expected).values(**values)
    )
    return result.rowcount == 1


def _place_failed(services, call_id: int, exc: GatewayError, now) -> str:
    if exc.outcome_unknown:
        # The call may be ringing: never dial again blindly. The row stays claimed; if no
        # status callback settles it, the sweeper counts it as a failed attempt.
        log.warning("call %s: outcome unknown (%s)", call_id, exc.message)
        return "unknown"
    with UnitOfWork(services) as uow:
        session = uow.session
        call = session.get(Call, call_id)
        if exc.kind == "transient":
            outcome = _attempt_failed(
                uow, call, "Twilio was unavailable", final_status=CallStatus.FAILED
            )
        else:
            _set(session, call, CallStatus.CLAIMED, status=CallStatus.FAILED, updated_at=now)
            participant = session.get(Participant, call.participant_id)
            detail = f"the call could not be placed: {exc.message}"
            flag(session, participant, AttentionKind.CALL_FAILED, detail, now)
            outcome = "failed"
        uow.commit()
    return outcome


def _attempt_failed(uow: UnitOfWork, call: Call, why: str, final_status: str | None = None) -> str:
    """Another try after a growing gap (waking hours only), or tell the facilitator.

    `final_status` replaces the row's status when giving up (a status callback has already
    written Twilio's own: busy, no-answer, failed)."""
    session, now = uow.session, uow.now
    participant = session.get(Participant, call.participant_id)
    program = session.get(Program, participant.program_id)
    retries = int(option(program, "call_retries"))
    call.updated_at = now
    session.add(call)
    if participant.status in NOT_CALLED:  # they opted out (say) since: no more calls
        call.status = CallStatus.CANCELLED
        return "cancelled"
    if call.attempts <= retries:
        later = schedule.next_allowed(
            now + retry_gap(call.attempts), participant.timezone, quiet_hours(program)
        )
        call.status = CallStatus.PENDING
        call.next_attempt_at = later
        uow.later("place_call", call.id, at=later)
        return "retry"
    call.status = final_status or call.status
    tries = "once" if call.attempts == 1 else f"{call.attempts} times"
    detail = f"we tried to call {tries}: {why}"
    flag(session, participant, AttentionKind.CALL_FAILED, detail, now)
    return "gave_up"


# Status callbacks ----------------------------------------------------------------------


def apply_status(
    services,
    *,
    call_sid: str,
    status: str,
    call_id: int | None = None,
    attempt: int | None = None,
) -> str:
    """A call status callback. Forward only; the end of a call is acted on once."""
    now = services.now()
    status = (status or "").lower()
    with UnitOfWork(services) as uow:
        session = uow.session
        call = _find(session, call_sid, call_id, attempt)
        if call is None:
            return "unknown"
        if call_id is not None and attempt is not None:
            this_attempt = Call.attempts == attempt
        else:
            this_attempt = sa.or_(Call.call_sid.is_(None), Call.call_sid == call_sid)
        if status not in ENDED:
            if status in RANK and call.status in RANK and RANK[status] > RANK[call.status]:
                _set(session, call, call.status, status=status, call_sid=call_sid, updated_at=now)
                uow.commit()
                return "progress"
            return "ignored"
        ended = session.execute(
            sa.update(Call)
            .where(
                Call.id == call.id,
                Call.status.in_(IN_FLIGHT),
                this_attempt,
            )
            .values(status=status, call_sid=call_sid, updated_at=now)
        )
        if ended.rowcount != 1:
            return "duplicate"  # already ended, or a late callback of an earlier attempt
        session.refresh(call)
        outcome = status
        if call.direction == CallDirection.OUT and status in RETRYABLE:
            outcome = _attempt_failed(uow, call, _why(status))
        uow.commit()
    if status == CallStatus.COMPLETED:
        keep_undecided(services, call_sid=call_sid)  # they hung up before choosing
    return outcome


def _find(session: Session, call_sid: str, call_id: int | None, attempt: int | None):
    if call_id is None:
        return session.exec(select(Call).where(Call.call_sid == call_sid)).first()
    call = session.get(Call, call_id)
    if call is None:
        return None
    if attempt is not None:
        return call if call.attempts == attempt else None  # an earlier attempt's: ignored
    return call if call.call_sid in (None, call_sid) else None


def _why(status: str) -> str:
    return {"busy": "the line was busy", "no-answer": "no answer", "failed": "the call failed"}[
        status
    ]


def answered(session: Session, *, call_id: int | None, call_sid: str, participant, now) -> None:
    """The call is live: remember its sid (outbound) or store it once (inbound)."""
    if call_id is not None:
        picked_up = session.execute(
            sa.update(Call)
            .where(Call.id == call_id, Call.status.in_(IN_FLIGHT))
            .values(call_sid=call_sid, status=CallStatus.IN_PROGRESS, updated_at=now)
        ).rowcount
        if picked_up and participant is not None:
            # The call they asked for got through: its attention items need nobody now.
            attention.settle(session, participant, [Cause.CALLED], now)
        return
    call = Call(
        participant_id=participant.id,
        direction=CallDirection.IN,
        call_sid=call_sid,
        purpose="inbound",
        status=CallStatus.IN_PROGRESS,
        attempts=1,
        created_at=now,
        updated_at=now,
    )
    insert_or_get(session, call, lambda: None)  # a retried webhook: it is stored already


# The sweeper ---------------------------------------------------------------------------


def sweep(services, limit: int = 100) -> dict:
    """Place due calls; settle claims and calls whose callbacks never came."""
    now = services.now()
    with UnitOfWork(services) as uow:
        session = uow.session
        due = session.exec(
            select(Call.id)
            .where(
                Call.direction == CallDirection.OUT,
                Call.status == CallStatus.PENDING,
                sa.or_(Call.next_attempt_at.is_(None), Call.next_attempt_at <= now),
            )
            .order_by(Call.next_attempt_at)
            .limit(limit)
        ).all()
        stale_claims = session.exec(
            select(Call)
            .where(Call.status == CallStatus.CLAIMED, Call.updated_at < now - CLAIM_STALE_AFTER)
            .limit(limit)
        ).all()
        for call in stale_claims:
            _attempt_failed(
                uow, call, "the call's outcome never came", final_status=CallStatus.UNKNOWN
            )
        lost = session.execute(
            sa.update(Call)
            .where(
                Call.direction == CallDirection.OUT,
                Call.status.in_(IN_FLIGHT[1:]),
                Call.updated_at < now - PLACED_STALE_AFTER,
            )
            .values(status=CallStatus.UNKNOWN, updated_at=now)
        )
        uow.commit()
    placed = [place(services, call_id) for call_id in due]
    return {
        "due": len(due),
        "placed": placed.count("placed"),
        "stale": len(stale_claims),
        "lost": lost.rowcount,
    }
