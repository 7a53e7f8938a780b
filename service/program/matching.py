"""Finding who a text or a call is from, by the one rule of core/matching.py."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core import matching
from service.infra.db import keep
from service.models import Facilitator, Participant, Program


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
    # One statement: every enrolment of the phone (a few at most), locked, with their
    # programs and owners. These stay in the session for the rest of the transaction, so
    # the turn that follows finds the chosen one's without asking again.
    rows = session.exec(
        select(Participant, Program, Facilitator)
        .join(Program, Program.id == Participant.program_id)
        .outerjoin(Facilitator, Facilitator.id == Program.owner_id)
        .where(Participant.phone == phone)
        .with_for_update(of=Participant)
        .execution_options(populate_existing=True)
    ).all()
    keep(session, rows)
    enrolments = [(participant, program) for participant, program, _owner in rows]
    return matching.choose(enrolments, to_number, service_sid, defaults)


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
