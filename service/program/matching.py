"""Finding who a text or a call is from, by the one rule of core/matching.py."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core import matching
from service.models import Participant, Program


def defaults_of(settings) -> matching.Defaults:
    return matching.Defaults(
        settings.twilio_from_number or None, settings.twilio_messaging_service_sid or None
    )


def find_participant(
    session: Session, phone: str, to_number: str, service_sid: str | None, defaults
) -> Participant | None:
    """The enrolment `phone` speaks in when it writes or calls `to_number`, locked for
    the rest of the transaction (two texts of one person are turned one at a time)."""
    if not phone:
        return None
    enrolments = session.exec(
        select(Participant, Program)
        .join(Program, Program.id == Participant.program_id)
        .where(Participant.phone == phone)
    ).all()
    chosen = matching.choose(enrolments, to_number, service_sid, defaults)
    if chosen is None:
        return None
    return session.get(Participant, chosen.id, with_for_update=True, populate_existing=True)


def program_reached(session: Session, to_number: str, service_sid: str | None, defaults):
    """The program a text or call from someone unknown was sent to, if one."""
    candidates = session.exec(
        select(Program)
        .where(
            sa.or_(
                Program.sender_number == to_number,
                Program.messaging_service_sid == service_sid,
                Program.sender_number.is_(None),
            )
        )
        .order_by(Program.id)
    ).all()
    return next(
        (p for p in candidates if matching.reaches(p, to_number, service_sid, defaults)), None
    )
