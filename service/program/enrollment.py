"""Enrolling participants, linking partners and exporting a participant's record."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from service.core import schedule
from service.core.phones import normalize_phone
from service.messaging import outbox
from service.models import (
    Call,
    CheckIn,
    CheckInAnswer,
    Commitment,
    Message,
    Participant,
    Program,
    Reflection,
    Statement,
)
from service.program.audit import record

LANGUAGES = ("en", "es")


class EnrollmentError(ValueError):
    """A plain-language reason the enrolment cannot happen."""


def enroll(
    session: Session,
    program: Program,
    *,
    name: str,
    phone: str,
    timezone: str | None = None,
    language: str | None = None,
    now: datetime,
    actor: str = "system",
    invite: bool = True,
) -> tuple[Participant, object]:
    """Add a participant to a program and queue their invitation (the consent request).

    Returns (participant, invitation message or None). Nothing else is sent before they
    answer YES.
    """
    name = (name or "").strip()
    if not name:
        raise EnrollmentError("a name is required")
    try:
        phone = normalize_phone(phone)
    except ValueError as exc:
        raise EnrollmentError(str(exc)) from None
    try:
        timezone = schedule.validate_tz(timezone or program.timezone)
    except ValueError as exc:
        raise EnrollmentError(str(exc)) from None
    language = (language or program.language or "en").lower()
    if language not in LANGUAGES:
        raise EnrollmentError(f"language must be one of {', '.join(LANGUAGES)}")
    if program.status != "active":
        raise EnrollmentError("the program is closed")
    existing = session.exec(
        select(Participant).where(Participant.program_id == program.id, Participant.phone == phone)
    ).first()
    if existing is not None:
        raise EnrollmentError(f"{existing.name} already uses that number in this program")
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
    record(session, actor, "enroll", participant, now=now)
    message = send_invitation(session, participant, program, now=now) if invite else None
    return participant, message


def send_invitation(session: Session, participant: Participant, program: Program, *, now):
    return outbox.queue_text(
        session,
        participant,
        "invite",
        key=f"invite:{participant.id}:{now.date().isoformat()}",
        now=now,
        program=program,
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
    record(session, actor, "link_partners", a, now=now, detail={"partner_id": b.id})


def export_participant(session: Session, participant: Participant) -> dict:
    """Everything stored about one participant, as plain JSON-ready data."""

    def rows(model, *where, order=None):
        query = select(model).where(*where)
        if order is not None:
            query = query.order_by(order)
        return [_plain(r) for r in session.exec(query).all()]

    pid = participant.id
    checkins = rows(CheckIn, CheckIn.participant_id == pid, order=CheckIn.due_at)
    for checkin in checkins:
        checkin["answers"] = rows(CheckInAnswer, CheckInAnswer.checkin_id == checkin["id"])
    return {
        "participant": _plain(participant),
        "program": _plain(session.get(Program, participant.program_id)),
        "statements": rows(Statement, Statement.participant_id == pid, order=Statement.id),
        "reflections": [
            {**r, "audio": audio_name(r) if r["storage_path"] else None}
            for r in rows(Reflection, Reflection.participant_id == pid, order=Reflection.id)
        ],
        "commitments": rows(Commitment, Commitment.participant_id == pid, order=Commitment.id),
        "checkins": checkins,
        "messages": rows(Message, Message.participant_id == pid, order=Message.id),
        "calls": rows(Call, Call.participant_id == pid, order=Call.id),
    }


def audio_name(reflection: dict) -> str:
    """Where a recording's audio sits inside the export archive."""
    return f"recordings/{reflection['id']}-{reflection['purpose']}.wav"


def export_archive(session: Session, participant: Participant, extra_files=None) -> bytes:
    """The export as a zip: `participant.json` plus every stored recording's audio.

    A recording not downloaded yet (or whose file is gone) is listed with `"audio": null`.
    `extra_files(data) -> {name: text}` adds more files made from the same data (the
    admin's CSV files).
    """
    data = export_participant(session, participant)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for reflection in data["reflections"]:
            path = Path(reflection["storage_path"]) if reflection["storage_path"] else None
            if path is None or not path.is_file():
                reflection["audio"] = None
                continue
            archive.write(path, reflection["audio"])
        archive.writestr("participant.json", json.dumps(data, indent=2, ensure_ascii=False))
        for name, text in (extra_files(data) if extra_files else {}).items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _plain(obj) -> dict:
    data = obj.model_dump()
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}
