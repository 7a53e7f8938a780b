"""Every participant-facing text of a program, as its participants would get it, with what
each costs: for the `realign texts` report."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, select

from service.core import texts
from service.core.commitment_labels import label_of
from service.core.enums import OPEN_COMMITMENTS
from service.models import Commitment, Facilitator, Participant, Program


def _longest(words: list[str]) -> str:
    return max(words, key=len) if words else ""


def _first_name(person: Participant) -> str:
    return (person.name or "").split(" ")[0]


def program_report(
    session: Session, program: Program | None, labels: Sequence[str] | None = None
) -> list[texts.TextReport]:
    """The texts of `program` (the longest names for anything it lacks), the ones that list
    commitments rendered with `labels`, or else with the longest labels its participants
    have (at least three of the longest a label may be)."""
    if program is None:
        return texts.report({}, None, labels or texts.SAMPLE_LABELS)
    owner = session.get(Facilitator, program.owner_id)
    people = session.exec(select(Participant).where(Participant.program_id == program.id)).all()
    by_id = {p.id: p for p in people}
    values = {
        "program": program.name,
        "facilitator": owner.name if owner else program.name,
        "contact": (owner.contact or owner.email) if owner else "",
        "number": program.sender_number or "",
        "first_name": _longest([_first_name(p) for p in people]),
        "partner": _longest(
            [_first_name(by_id[p.partner_id]) for p in people if p.partner_id in by_id]
        ),
    }
    if labels is None:
        lists: dict[int, list[str]] = {}
        for c in session.exec(
            select(Commitment)
            .where(
                Commitment.participant_id.in_(list(by_id)),
                Commitment.status.in_(OPEN_COMMITMENTS),
            )
            .order_by(Commitment.id)
        ):
            lists.setdefault(c.participant_id, []).append(label_of(c))
        labels = max(
            [list(texts.SAMPLE_LABELS), *lists.values()], key=lambda ls: len(texts.format_items(ls))
        )
    return texts.report(values, program.text_overrides or {}, labels)
