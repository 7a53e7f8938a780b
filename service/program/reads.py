"""What the read API returns, always within what a facilitator sees in the admin:
`visible` is `accounts.visible_program_ids` (None: an admin, every program).

Lists are keyset pages in id order: rows after a given id, one more than the page so the
caller knows a next page exists. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from service.core.enums import RecordingStatus
from service.models import (
    AttentionItem,
    CheckIn,
    CheckInAnswer,
    Commitment,
    Message,
    Participant,
    Program,
    Reflection,
    Statement,
)


def _scoped(stmt, program_column, visible: set[int] | None):
    return stmt if visible is None else stmt.where(program_column.in_(visible))


def _page(session, stmt, id_column, after: int | None, limit: int):
    if after is not None:
        stmt = stmt.where(id_column > after)
    return session.execute(stmt.order_by(id_column).limit(limit + 1)).all()


# Programs ------------------------------------------------------------------------------


def programs(session, visible, *, after: int | None, limit: int) -> list[Program]:
    stmt = _scoped(sa.select(Program), Program.id, visible)
    return [row[0] for row in _page(session, stmt, Program.id, after, limit)]


def program(session, visible, program_id: int) -> Program | None:
    stmt = _scoped(sa.select(Program).where(Program.id == program_id), Program.id, visible)
    return session.scalars(stmt).first()


# Participants --------------------------------------------------------------------------


def participants(
    session,
    visible,
    *,
    program_id: int | None = None,
    step: int | None = None,
    status: str | None = None,
    updated_since: datetime | None = None,
    after: int | None = None,
    limit: int,
) -> list[Participant]:
    stmt = _scoped(sa.select(Participant), Participant.program_id, visible)
    if program_id is not None:
        stmt = stmt.where(Participant.program_id == program_id)
    if step is not None:
        stmt = stmt.where(Participant.step == step)
    if status is not None:
        stmt = stmt.where(Participant.status == status)
    if updated_since is not None:
        stmt = stmt.where(Participant.updated_at >= updated_since)
    return [row[0] for row in _page(session, stmt, Participant.id, after, limit)]


def participant(session, visible, participant_id: int) -> Participant | None:
    stmt = _scoped(
        sa.select(Participant).where(Participant.id == participant_id),
        Participant.program_id,
        visible,
    )
    return session.scalars(stmt).first()


@dataclass
class Record:
    """One participant's story: what they said, recorded, agreed, answered and were sent."""

    statements: list[Statement]
    reflections: list[Reflection]
    commitments: list[Commitment]
    checkins: list[CheckIn]
    answers: dict[int, list[CheckInAnswer]]
    messages: list[Message]


def record(session, p: Participant) -> Record:
    def rows(model, *where, order):
        return list(session.scalars(sa.select(model).where(*where).order_by(*order)))

    checkins = rows(CheckIn, CheckIn.participant_id == p.id, order=(CheckIn.due_at, CheckIn.id))
    return Record(
        statements=rows(Statement, Statement.participant_id == p.id, order=(Statement.id,)),
        reflections=rows(
            Reflection,
            Reflection.participant_id == p.id,
            Reflection.status.notin_((RecordingStatus.DISCARDED, RecordingStatus.EMPTY)),
            order=(Reflection.id,),
        ),
        commitments=rows(Commitment, Commitment.participant_id == p.id, order=(Commitment.id,)),
        checkins=checkins,
        answers=answers_of(session, [c.id for c in checkins]),
        messages=rows(Message, Message.participant_id == p.id, order=(Message.id,)),
    )


def answers_of(session, checkin_ids: list[int]) -> dict[int, list[CheckInAnswer]]:
    found: dict[int, list[CheckInAnswer]] = {}
    for start in range(0, len(checkin_ids), 500):
        chunk = checkin_ids[start : start + 500]
        stmt = (
            sa.select(CheckInAnswer)
            .where(CheckInAnswer.checkin_id.in_(chunk))
            .order_by(CheckInAnswer.id)
        )
        for answer in session.scalars(stmt):
            found.setdefault(answer.checkin_id, []).append(answer)
    return found


# Check-ins -----------------------------------------------------------------------------


def checkins(
    session,
    visible,
    *,
    program_id: int | None = None,
    participant_id: int | None = None,
    due_from: datetime | None = None,
    due_to: datetime | None = None,
    status: str | None = None,
    result: str | None = None,
    after: int | None = None,
    limit: int,
) -> list[tuple[CheckIn, Participant]]:
    stmt = _scoped(
        sa.select(CheckIn, Participant).join(Participant, Participant.id == CheckIn.participant_id),
        Participant.program_id,
        visible,
    )
    if program_id is not None:
        stmt = stmt.where(Participant.program_id == program_id)
    if participant_id is not None:
        stmt = stmt.where(CheckIn.participant_id == participant_id)
    if due_from is not None:
        stmt = stmt.where(CheckIn.due_at >= due_from)
    if due_to is not None:
        stmt = stmt.where(CheckIn.due_at < due_to)
    if status is not None:
        stmt = stmt.where(CheckIn.status == status)
    if result is not None:
        stmt = stmt.where(
            sa.exists().where(
                CheckInAnswer.checkin_id == CheckIn.id, CheckInAnswer.result == result
            )
        )
    return [(row[0], row[1]) for row in _page(session, stmt, CheckIn.id, after, limit)]


# Needs attention -----------------------------------------------------------------------


def attention(
    session,
    visible,
    *,
    program_id: int | None = None,
    participant_id: int | None = None,
    open_only: bool | None = True,
    after: int | None = None,
    limit: int,
) -> list[tuple[AttentionItem, Participant | None, Program | None]]:
    """Items about the visible programs (an item tied to no program: admins only).
    `open_only`: True unresolved, False resolved, None both."""
    stmt = _scoped(
        sa.select(AttentionItem, Participant, Program)
        .outerjoin(Participant, Participant.id == AttentionItem.participant_id)
        .outerjoin(Program, Program.id == AttentionItem.program_id),
        AttentionItem.program_id,
        visible,
    )
    if program_id is not None:
        stmt = stmt.where(AttentionItem.program_id == program_id)
    if participant_id is not None:
        stmt = stmt.where(AttentionItem.participant_id == participant_id)
    if open_only is True:
        stmt = stmt.where(AttentionItem.resolved_at.is_(None))
    elif open_only is False:
        stmt = stmt.where(AttentionItem.resolved_at.is_not(None))
    return [(r[0], r[1], r[2]) for r in _page(session, stmt, AttentionItem.id, after, limit)]


def reflection_of(session, visible, reflection_id: int) -> Reflection | None:
    """A recording, only when its participant is visible."""
    stmt = _scoped(
        sa.select(Reflection)
        .join(Participant, Participant.id == Reflection.participant_id)
        .where(Reflection.id == reflection_id),
        Participant.program_id,
        visible,
    )
    return session.scalars(stmt).first()
