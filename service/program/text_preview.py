"""Whose details fill in a program's texts in the texts editor: one of its participants
(never a test persona), or the longest sample names when it has nobody yet."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from service.core import texts
from service.core.commitment_labels import label_of
from service.core.enums import OPEN_COMMITMENTS
from service.core.personas import is_persona
from service.messaging.outbox import common_values
from service.models import Commitment, Facilitator, Participant, Program
from service.program.personas import real_people

MAX_CHOICES = 100  # people offered in the picker (by name)


def people(session: Session, program_id: int) -> list[tuple[int, str]]:
    """(id, name) of the program's real participants a preview may use, by name."""
    rows = session.execute(
        sa.select(Participant.id, Participant.name)
        .where(Participant.program_id == program_id, real_people())
        .order_by(Participant.name, Participant.id)
        .limit(MAX_CHOICES)
    )
    return [(pid, name) for pid, name in rows.all()]


def chosen(session: Session, program: Program, wanted: int | None) -> Participant | None:
    """The participant `wanted` when they are a real one of `program`, else its first by
    name; None when it has nobody."""
    if wanted is not None:
        person = session.get(Participant, wanted)
        if (
            person is not None
            and person.program_id == program.id
            and not is_persona(person.name, person.phone)
        ):
            return person
    return session.scalars(
        sa.select(Participant)
        .where(Participant.program_id == program.id, real_people())
        .order_by(Participant.name, Participant.id)
        .limit(1)
    ).first()


def values(session: Session, program: Program, person: Participant | None, lang: str) -> dict:
    """What their texts would be filled in with; without a person, only what the program
    knows (the samples stand in for the rest)."""
    if person is None:
        owner = session.get(Facilitator, program.owner_id)
        return {
            "program": program.name,
            "facilitator": owner.name if owner else program.name,
            "contact": (owner.contact or owner.email) if owner else "",
            "number": program.sender_number or "",
        }
    labels = [
        label_of(c)
        for c in session.scalars(
            sa.select(Commitment)
            .where(Commitment.participant_id == person.id, Commitment.status.in_(OPEN_COMMITMENTS))
            .order_by(Commitment.id)
        )
    ]
    found = {
        **common_values(session, person, program),
        "step": person.step,
        "streak": person.streak or "",
    }
    if labels:
        found["items"] = texts.format_items(labels)
        found["kept"] = texts.format_kept([(lb, 7, 7) for lb in labels], lang)
    return found
