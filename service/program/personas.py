"""Test personas: made-up participants a facilitator walks through the program in the
admin's simulator, their texts never reaching a carrier (see service/core/personas.py for
who is one; `Services.gateway_for` sends their texts and calls to the console).

A persona is always awake: what waits for waking hours leaves at once, so consent and
steps 1-2 take a minute.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from service.core import matching
from service.core import personas as rules
from service.core.enums import Direction, MessageStatus
from service.messaging import delivery
from service.models import Message, Participant, Program
from service.program import enrollment, erasure
from service.program.matching import defaults_of
from service.records import audit
from service.unit_of_work import UnitOfWork

MAX_PERSONAS = rules.LAST - rules.FIRST + 1


def is_persona(participant: Participant) -> bool:
    return rules.is_persona(participant.name, participant.phone)


def _personas():
    """`rules.is_persona` in SQL: a persona's name and a number in the fictional range."""
    first = rules.number(rules.FIRST)
    return sa.and_(
        Participant.phone.between(first, rules.number(rules.LAST)),
        sa.func.length(Participant.phone) == len(first),
        sa.func.substr(Participant.name, 1, len(rules.NAME)) == rules.NAME,
    )


def real_people():
    """A WHERE clause for participants who are not test personas, so counts can leave them
    out in the database."""
    return sa.not_(_personas())


def persona_ids():
    """The ids of the test personas, as a subquery: a few rows found through the phone
    index, where `real_people()` on a join reads every participant."""
    # Its own scan, even inside a query of participants.
    return sa.select(Participant.id).where(_personas()).correlate(None)


class NoRoom(ValueError):
    """The program already has every test persona it can have."""


def enrol(uow: UnitOfWork, program: Program, *, language: str | None, actor: str) -> Participant:
    """A new persona in `program`, invited like anyone."""
    used = _numbers_in_use(uow, program)
    free = [n for n in range(rules.FIRST, rules.LAST + 1) if rules.number(n) not in used]
    if not free:
        raise NoRoom(f"This program already has {MAX_PERSONAS} test personas.")
    participant = enrollment.enroll(
        uow,
        program,
        name=f"{rules.NAME} {free[0] - rules.FIRST + 1}",
        phone=rules.number(free[0]),
        actor=actor,
        language=language,
    )
    audit(uow.session, actor, "simulator.persona", participant, now=uow.now)
    return participant


class NotAPersona(ValueError):
    """Only a test persona can be reset or deleted here: a real participant is erased."""


def delete(uow: UnitOfWork, participant: Participant, *, actor: str) -> list[str]:
    """Remove a test persona and everything it did (texts, statements, recordings,
    commitments, check-ins, calls, attention items). Returns its audio files' paths, for
    `remove_files` once the unit of work has committed."""
    if not is_persona(participant):
        raise NotAPersona(participant.id)
    paths = erasure.remove_rows(uow.session, participant)
    audit(
        uow.session, actor, "simulator.persona_deleted", now=uow.now,
        detail={"program_id": participant.program_id, "name": participant.name},
    )  # fmt: skip
    uow.session.flush()
    return paths


def reset(uow: UnitOfWork, participant: Participant, *, actor: str):
    """A test persona back at the start: its records cleared, enrolled and invited again
    under the same name and number. Returns (the new persona, audio paths to remove)."""
    if not is_persona(participant):
        raise NotAPersona(participant.id)
    program = uow.session.get(Program, participant.program_id)
    name, phone, language = participant.name, participant.phone, participant.language
    paths = erasure.remove_rows(uow.session, participant)
    uow.session.flush()
    again = enrollment.enroll(uow, program, name=name, phone=phone, actor=actor, language=language)
    audit(uow.session, actor, "simulator.persona_reset", again, now=uow.now)
    return again, paths


def remove_files(paths: list[str]) -> None:
    for path in paths:
        Path(path).unlink(missing_ok=True)


def _numbers_in_use(uow: UnitOfWork, program: Program) -> set[str]:
    """Persona numbers this program has, and those open in programs on the same line (a
    persona's simulated texts must reach exactly one enrolment, like anyone's)."""
    defaults = defaults_of(uow.services.settings)
    line = matching.line_of(program, defaults)
    rows = uow.session.execute(
        select(Participant, Program)
        .join(Program, Program.id == Participant.program_id)
        .where(Participant.phone.startswith(rules.PREFIX + "01"))
    ).all()
    return {
        p.phone
        for p, other in rows
        if other.id == program.id
        or (matching.is_open(p) and matching.share(line, matching.line_of(other, defaults)))
    }


def deliver_now(services, participant_id: int) -> int:
    """Send what is due for this persona, in this process, without waiting for waking
    hours (their texts go to the console wherever they are sent from). Sends claim their
    rows, so a worker that picks up the same jobs later finds nothing left to do."""
    with UnitOfWork(services) as uow:
        session, now = uow.session, uow.now
        participant = session.get(Participant, participant_id)
        if participant is None or not is_persona(participant):
            return 0  # a real participant's texts keep their own hours, sent by the worker
        session.execute(
            sa.update(Message)
            .where(
                Message.participant_id == participant_id,
                Message.direction == Direction.OUT,
                Message.status == MessageStatus.PENDING,
                Message.send_after > now,
            )
            .values(send_after=now)
        )
        session.execute(  # the prompt counts as asked once it is delivered
            sa.update(Participant)
            .where(Participant.id == participant_id, Participant.prompt_due_at > now)
            .values(prompt_due_at=now)
        )
        uow.commit()
        ids = list(
            session.exec(
                select(Message.id)
                .where(
                    Message.participant_id == participant_id,
                    Message.direction == Direction.OUT,
                    Message.status == MessageStatus.PENDING,
                    sa.or_(Message.send_after.is_(None), Message.send_after <= now),
                )
                .order_by(Message.id)
            )
        )
    for message_id in ids:
        delivery.deliver(services, message_id)
    return len(ids)
