"""Erasing a participant: their recordings (our files and Twilio's copies) and all their data.

Order matters, so that a failure never leaves audio behind unnoticed:
1. Twilio's copies are deleted first; if Twilio cannot be reached nothing is erased yet
   (`ErasureError`: try again later).
2. Every row about them goes in one transaction, and a marker is written.
3. Only after that commits are the audio files removed.

What stays is the marker: one AuditEvent `erase_participant` whose detail holds a keyed hash
(HMAC-SHA256 with the app's secret key) of their number, the program id and its owner's id.
It tells a facilitator re-enrolling that number in one of the same owner's programs that this
person asked to be erased (`was_erased`), and cannot be turned back into the number. Other
facilitators are never told: that would say who was someone else's participant. An
AuditEvent rather than a new table: erasures are rare, and "who erased whom, when" belongs
in the audit log anyway. Other audit events keep
their bare ids; their details never hold what anyone said.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from service.infra.gateway import ConsoleGateway, GatewayError
from service.models import (
    AttentionItem,
    AuditEvent,
    Call,
    CheckIn,
    CheckInAnswer,
    Commitment,
    Message,
    Participant,
    Program,
    Reflection,
    Statement,
    WebhookDelivery,
)
from service.records import audit

log = logging.getLogger(__name__)

ACTION = "erase_participant"


class ErasureError(RuntimeError):
    """Nothing was erased; the message says why (e.g. Twilio could not be reached)."""


@dataclass
class Erased:
    deleted_at_twilio: int = 0
    files_removed: int = 0
    rows: dict[str, int] = field(default_factory=dict)


def phone_marker(phone: str, secret: str) -> str:
    return hmac.new(secret.encode(), phone.encode(), hashlib.sha256).hexdigest()


def was_erased(session: Session, phone: str, secret: str, owner_id: int) -> bool:
    """True when this number belonged to someone who was erased from one of the programs of
    `owner_id` (the owner of the program they are being enrolled in)."""
    marker = phone_marker(phone, secret)
    details = session.exec(select(AuditEvent.detail).where(AuditEvent.action == ACTION)).all()
    erased = [
        d for d in details if hmac.compare_digest(str((d or {}).get("phone_hmac", "")), marker)
    ]
    if not erased:
        return False
    # Markers written before they named the owner: the program's owner tells.
    owners = dict(session.exec(select(Program.id, Program.owner_id)).all())
    return any(d.get("owner_id", owners.get(d.get("program_id"))) == owner_id for d in erased)


def erase_participant(services, participant_id: int, *, actor: str) -> Erased:
    """Erase one participant completely (see the module docstring for the order)."""
    now = services.now()
    result = Erased()
    with services.sessions() as session:
        participant = session.get(Participant, participant_id)
        if participant is None:
            raise ErasureError("there is no such participant")
        reflections = session.exec(
            select(Reflection).where(Reflection.participant_id == participant_id)
        ).all()
        session.commit()  # no transaction stays open while Twilio is asked
    for reflection in reflections:
        if reflection.recording_sid and reflection.deleted_at_twilio is None:
            result.deleted_at_twilio += _delete_at_twilio(services.gateway, reflection)
    files = [Path(r.storage_path) for r in reflections if r.storage_path]
    with services.sessions() as session:
        participant = session.get(Participant, participant_id, with_for_update=True)
        result.rows = _delete_rows(session, participant)
        audit(
            session,
            actor,
            ACTION,
            now=now,
            detail={
                "phone_hmac": phone_marker(
                    participant.phone, services.settings.effective_secret_key()
                ),
                "program_id": participant.program_id,
                "owner_id": session.get(Program, participant.program_id).owner_id,
            },
        )
        session.commit()
    for path in files:
        try:
            path.unlink(missing_ok=True)
            result.files_removed += 1
        except OSError as exc:
            log.error("erasure: could not remove a recording file (%s)", type(exc).__name__)
    log.info("erased participant %s (%d recordings)", participant_id, len(reflections))
    return result


def _delete_at_twilio(gateway, reflection: Reflection) -> int:
    if isinstance(gateway, ConsoleGateway):
        return 0  # no Twilio account: there is no copy anywhere else
    try:
        gateway.delete_recording(reflection.recording_sid)  # already gone counts as deleted
    except GatewayError as exc:
        raise ErasureError(
            f"Twilio's copy of a recording could not be deleted ({exc.message}); nothing was "
            "erased, please try again later"
        ) from exc
    return 1


def _delete_rows(session: Session, participant: Participant) -> dict[str, int]:
    pid = participant.id
    commitment_ids = select(Commitment.id).where(Commitment.participant_id == pid)
    # Their check-ins, and a partner's check-ins about them.
    checkin_ids = select(CheckIn.id).where(
        sa.or_(CheckIn.participant_id == pid, CheckIn.subject_id == pid)
    )
    counts = {}

    def delete(name, model, *where):
        counts[name] = session.execute(sa.delete(model).where(*where)).rowcount

    delete(
        "checkin_answers",
        CheckInAnswer,
        sa.or_(
            CheckInAnswer.checkin_id.in_(checkin_ids),
            CheckInAnswer.commitment_id.in_(commitment_ids),
        ),
    )
    delete("checkins", CheckIn, CheckIn.id.in_(checkin_ids))
    delete("statements", Statement, Statement.participant_id == pid)
    delete("reflections", Reflection, Reflection.participant_id == pid)
    delete("commitments", Commitment, Commitment.participant_id == pid)
    delete("calls", Call, Call.participant_id == pid)
    delete("attention_items", AttentionItem, AttentionItem.participant_id == pid)
    # Events about them waiting for (or kept after) delivery to a webhook receiver.
    delete("webhook_deliveries", WebhookDelivery, WebhookDelivery.participant_id == pid)
    # Their texts, and texts from their number this program kept before it knew them.
    delete(
        "messages",
        Message,
        sa.or_(
            Message.participant_id == pid,
            sa.and_(
                Message.participant_id.is_(None),
                Message.program_id == participant.program_id,
                sa.or_(
                    Message.from_number == participant.phone,
                    Message.to_number == participant.phone,
                ),
            ),
        ),
    )
    session.execute(
        sa.update(Participant).where(Participant.partner_id == pid).values(partner_id=None)
    )
    session.execute(sa.update(Participant).where(Participant.id == pid).values(partner_id=None))
    session.delete(participant)
    session.flush()
    counts["participants"] = 1
    return counts
