"""Finding who a text or a call is from, by the one rule of core/matching.py."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core import matching
from service.core.enums import ParticipantStatus
from service.infra.db import keep, lock_for
from service.models import Facilitator, Participant, Program

# Said when a phone cannot be enrolled on a line: nothing about who else has it, or where.
ON_ANOTHER_PROGRAM = (
    "this phone number can't be enrolled in this program: it is already in an open program "
    "on the same texting number, and a text must reach exactly one. Give this program its own "
    "number, or ask an admin"
)


def defaults_of(settings) -> matching.Defaults:
    return matching.Defaults(
        settings.twilio_from_number or None, settings.twilio_messaging_service_sid or None
    )


def find_participant(
    session: Session, phone: str, to_number: str, service_sid: str | None, defaults
) -> Participant | None:
    """The enrolment `phone` speaks in when it writes or calls `to_number`, locked for
    the rest of the transaction (two texts of one person are turned one at a time)."""
    reached = find_enrolments(session, phone, to_number, service_sid, defaults)
    return reached[0] if reached else None


def find_enrolments(
    session: Session, phone: str, to_number: str, service_sid: str | None, defaults
) -> list[Participant]:
    """Every enrolment of `phone` on a program `to_number` reaches, the one its texts are
    for first (see `find_participant`); all of the phone's enrolments are locked."""
    if not phone:
        return []
    # One statement: every enrolment of the phone (a few at most), locked, with their
    # programs and owners. These stay in the session for the rest of the transaction, so
    # the turn that follows finds the chosen one's without asking again.
    rows = session.execute(_enrolments_of(), {"phone": phone}).all()
    keep(session, rows)
    enrolments = [(participant, program) for participant, program, _owner in rows]
    return matching.reached(enrolments, to_number, service_sid, defaults)


@functools.cache
def _enrolments_of():
    """Built once: a turn asks it for every text."""
    return (
        select(Participant, Program, Facilitator)
        .join(Program, Program.id == Participant.program_id)
        .outerjoin(Facilitator, Facilitator.id == Program.owner_id)
        .where(Participant.phone == sa.bindparam("phone"))
        .with_for_update(of=Participant)
        .execution_options(populate_existing=True)
    )


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


def phone_clashes(session: Session, program: Program, phone: str, defaults) -> bool:
    """Whether `phone` has an open enrolment in another program sharing `program`'s line
    (enrolling it here too would make its texts ambiguous). Holds a lock on the phone until
    the transaction ends, so two enrolments of one phone are checked one after the other."""
    lock_for(session, f"phone:{phone}")
    rows = session.execute(
        select(Participant, Program)
        .join(Program, Program.id == Participant.program_id)
        .where(Participant.phone == phone, Participant.program_id != program.id)
    ).all()
    line = matching.line_of(program, defaults)
    return matching.clashes(line, rows, defaults, besides=program.id)


def line_taken(session: Session, program: Program, owner_id: int, defaults) -> str | None:
    """ "number" or "service" when `program`'s own number or Messaging Service belongs to
    another owner's programs (see core/matching.py)."""
    number, service = program.sender_number, program.messaging_service_sid
    if not number and not service:
        return None
    others = session.execute(
        select(Program, Program.owner_id).where(
            sa.or_(
                sa.and_(Program.sender_number.is_not(None), Program.sender_number == number),
                sa.and_(
                    Program.messaging_service_sid.is_not(None),
                    Program.messaging_service_sid == service,
                ),
            )
        )
    ).all()
    return matching.taken_part(program, owner_id, others, defaults)


def movers_clash(session: Session, program: Program, defaults) -> int:
    """How many of `program`'s open participants have an open enrolment in another program
    on the line `program` now has (a new number or service must not make texts ambiguous)."""
    mine = sa.select(Participant.phone).where(
        Participant.program_id == program.id, Participant.status != ParticipantStatus.CLOSED
    )
    rows = session.execute(
        select(Participant, Program)
        .join(Program, Program.id == Participant.program_id)
        .where(Participant.phone.in_(mine), Participant.program_id != program.id)
    ).all()
    line = matching.line_of(program, defaults)
    by_phone: dict[str, list] = {}
    for participant, other in rows:
        by_phone.setdefault(participant.phone, []).append((participant, other))
    return sum(
        matching.clashes(line, pairs, defaults, besides=program.id) for pairs in by_phone.values()
    )
