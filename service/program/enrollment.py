"""Enrolling participants (and the invitation, the only text before consent), partners."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from service.core import schedule
from service.core.enums import Language, ProgramStatus, WebhookEvent
from service.core.phones import normalize_phone
from service.messaging import outbox
from service.models import Participant, Program
from service.program import webhooks
from service.program.matching import ON_ANOTHER_PROGRAM, defaults_of, phone_clashes
from service.records import audit
from service.unit_of_work import UnitOfWork


class EnrollmentError(ValueError):
    """A plain-language reason the enrolment cannot happen."""


def enroll(
    uow: UnitOfWork,
    program: Program,
    *,
    name: str,
    phone: str,
    timezone: str | None = None,
    language: str | None = None,
    actor: str = "system",
    invite: bool = True,
) -> Participant:
    """Add a participant to a program and queue their invitation (the consent request).
    Nothing else is sent before they answer YES."""
    session, now = uow.session, uow.now
    name = (name or "").strip()
    if not name:
        raise EnrollmentError("a name is required")
    try:
        phone = normalize_phone(phone, program.country)
    except ValueError as exc:
        raise EnrollmentError(str(exc)) from None
    try:
        timezone = schedule.validate_tz(timezone or program.timezone)
    except ValueError as exc:
        raise EnrollmentError(str(exc)) from None
    language = (language or program.language or Language.EN).lower()
    if language not in Language.values():
        raise EnrollmentError(f"language must be one of {', '.join(Language.values())}")
    if program.status != ProgramStatus.ACTIVE:
        raise EnrollmentError("the program is closed")
    existing = session.exec(
        select(Participant).where(Participant.program_id == program.id, Participant.phone == phone)
    ).first()
    if existing is not None:
        raise EnrollmentError(f"{existing.name} already uses that number in this program")
    if phone_clashes(session, program, phone, defaults_of(uow.services.settings)):
        raise EnrollmentError(ON_ANOTHER_PROGRAM)
    participant = Participant(
        program_id=program.id,
        name=name,
        phone=phone,
        timezone=timezone,
        language=language,
        created_at=now,
    )
    session.add(participant)
    session.flush()
    audit(session, actor, "enroll", participant, now=now)
    webhooks.emit(uow, WebhookEvent.PARTICIPANT_ENROLLED, participant)
    if invite:
        send_invitation(uow, participant, program)
    return participant


def invitation_key(participant: Participant, now: datetime) -> str:
    """At most one invitation a day."""
    return f"invite:{participant.id}:{now.date().isoformat()}"


def send_invitation(uow: UnitOfWork, participant: Participant, program: Program):
    return outbox.queue_text(
        uow, participant, "invite", key=invitation_key(participant, uow.now), program=program
    )


def link_partners(session: Session, a: Participant, b: Participant, *, now, actor="system"):
    """Link two participants of the same program as the two sides of one breach."""
    if a.id == b.id:
        raise EnrollmentError("a participant cannot be their own partner")
    if a.program_id != b.program_id:
        raise EnrollmentError("partners must be in the same program")
    for person in (a, b):
        if person.partner_id not in (None, a.id, b.id):
            raise EnrollmentError(f"{person.name} is already linked to someone else")
    a.partner_id, b.partner_id = b.id, a.id
    session.add_all([a, b])
    audit(session, actor, "link_partners", a, now=now, detail={"partner_id": b.id})


def unlink_partners(session: Session, participant: Participant) -> None:
    """They are no longer linked (either side may be chosen)."""
    if participant.partner_id:
        other = session.get(Participant, participant.partner_id)
        if other is not None and other.partner_id == participant.id:
            other.partner_id = None
            session.add(other)
        participant.partner_id = None
        session.add(participant)
        session.flush()
