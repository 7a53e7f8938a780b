"""Closing: a participant's program, or a whole program, with its outcome.

Not every repair ends in reconciliation: the outcome is restored or a clear ending. The
closing text goes once (the program's standard one, or the facilitator's own words), and
every schedule for them stops, the queue's timed sends included.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select

from service.core import steps
from service.core.enums import Direction, MessageStatus, Outcome, ParticipantStatus, ProgramStatus
from service.models import Message, Participant, Program
from service.program import apply
from service.records import audit
from service.unit_of_work import UnitOfWork


class ClosureError(ValueError):
    """Nothing was closed; the message says why."""


def close_participant(
    uow: UnitOfWork, participant: Participant, *, outcome: str, actor: str, message=None
) -> bool:
    """Close one participant (False: they were closed already). Their closing text, if
    they may still get one, is in `uow.queued`."""
    session, now = uow.session, uow.now
    try:
        outcome = Outcome(outcome)
    except ValueError:
        raise ClosureError("the outcome must be restored or a clear ending") from None
    loaded = apply.load(session, participant, now)
    decision = steps.decide(loaded.state, steps.Event.CLOSE, now=now, outcome=outcome)
    if decision.refused:
        return False
    # Their timed sends are cancelled here and dropped from the queue after the commit.
    pending = session.exec(
        select(Message.id).where(
            Message.participant_id == participant.id,
            Message.direction == Direction.OUT,
            Message.status == MessageStatus.PENDING,
        )
    ).all()
    uow.drop_jobs([f"send-{i}" for i in pending])
    words = {f"closing_{outcome.value}": message} if message else None
    apply.carry_out(
        uow, loaded, decision, key=f"closing:{participant.id}", actor=actor, reply=False,
        texts_of=words,
    )  # fmt: skip
    return True


def close(services, participant_id: int, *, outcome: str, actor: str, message=None):
    """Close one participant, in a unit of work of its own. Returns the closing text (None
    when none goes: closed already, or opted out)."""
    with UnitOfWork(services) as uow:
        participant = uow.session.get(Participant, participant_id, with_for_update=True)
        close_participant(uow, participant, outcome=outcome, actor=actor, message=message)
        uow.commit()
    return next((m for m in uow.queued if (m.template or "").startswith("closing_")), None)


def close_program(services, program_id: int, *, outcome: str, actor: str, message=None) -> int:
    """Close every open participant of a program (each in its own unit of work, so one
    slow closing never holds the rest), then the program. Returns how many were closed."""
    with services.sessions() as session:
        program = session.get(Program, program_id)
        if program is None or program.status == ProgramStatus.CLOSED:
            raise ClosureError("this program is already closed")
        ids = session.exec(
            select(Participant.id).where(
                Participant.program_id == program_id,
                Participant.status != ParticipantStatus.CLOSED,
            )
        ).all()
    closed = 0
    for pid in ids:
        with UnitOfWork(services) as uow:
            participant = uow.session.get(Participant, pid, with_for_update=True)
            closed += close_participant(
                uow, participant, outcome=outcome, actor=actor, message=message
            )
            uow.commit()
    with UnitOfWork(services) as uow:
        now = uow.now
        uow.session.execute(
            sa.update(Program)
            .where(Program.id == program_id)
            .values(
                status=ProgramStatus.CLOSED,
                outcome=Outcome(outcome),
                closing_message=message,
                closed_at=now,
            )
        )
        program = uow.session.get(Program, program_id)
        detail = {"outcome": str(outcome), "participants": len(ids)}
        audit(uow.session, actor, "program.close", program, now=now, detail=detail)
        uow.commit()
    return closed
