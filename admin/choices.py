"""The programs and partners a facilitator may pick in a form: only their own."""

from __future__ import annotations

import sqlalchemy as sa
from wtforms.fields import SelectChoice

from admin.base import visible_program_ids
from service.models import Participant, Program


def program_choices(db, active_only: bool = True) -> list[tuple[int, str]]:
    stmt = sa.select(Program.id, Program.name)
    if active_only:
        stmt = stmt.where(Program.status == "active")
    ids = visible_program_ids(db)
    if ids is not None:
        stmt = stmt.where(Program.id.in_(ids))
    return [(pid, name) for pid, name in db.execute(stmt.order_by(Program.name, Program.id))]


def as_choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def partner_choices(db, exclude: int | None = None) -> list[tuple[int, str]]:
    stmt = (
        sa.select(Participant.id, Participant.name, Program.name)
        .join(Program, Program.id == Participant.program_id)
        .order_by(Program.name, Participant.name)
    )
    ids = visible_program_ids(db)
    if ids is not None:
        stmt = stmt.where(Participant.program_id.in_(ids))
    if exclude is not None:
        stmt = stmt.where(Participant.id != exclude)
    return [(0, "— no partner —")] + [
        (pid, f"{name} ({program})") for pid, name, program in db.execute(stmt)
    ]
