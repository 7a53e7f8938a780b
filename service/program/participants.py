"""A facilitator enrols or edits one participant: their details, partner and commitments.

The admin's participant form is a door into these two calls; what they check and change
is here, in one unit of work (nothing is half saved).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from service.core.commitment_labels import LABEL_MAX, label_problems, suggest_label
from service.core.enums import AttentionKind
from service.core.matching import is_open
from service.models import Commitment, Participant, Program
from service.program import actions, commitments, enrollment
from service.program.erasure import was_erased
from service.program.matching import ON_ANOTHER_PROGRAM, defaults_of, phone_clashes
from service.records import audit, flag
from service.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class CommitmentRow:
    """One commitment row of the form: an existing one (`id`) or a new one."""

    id: int | None
    text: str
    sign: str = ""
    label: str = ""


class RowError(ValueError):
    """A refusal about one commitment row (the form shows it beside that row's `field`)."""

    def __init__(self, index: int, message: str, field: str = "text"):
        super().__init__(message)
        self.index = index
        self.field = field


class ErasedNumber(ValueError):
    """This number belonged to someone who asked to be erased."""


def enrol(
    uow: UnitOfWork,
    program: Program,
    *,
    name: str,
    phone: str,
    timezone: str,
    language: str,
    partner_id: int | None,
    rows: list[CommitmentRow],
    rejoin: bool,
    secret: str,
    visible: set[int] | None,
    actor: str,
) -> Participant:
    """Enrol someone (their invitation is queued) with a partner and commitments."""
    session, now = uow.session, uow.now
    erased = was_erased(session, phone, secret, program.owner_id)
    if erased and not rejoin:
        raise ErasedNumber(
            "this number belonged to someone who asked to be erased; tick the box below "
            "only if they asked to join again"
        )
    participant = enrollment.enroll(
        uow, program, name=name, phone=phone, timezone=timezone, language=language, actor=actor
    )
    if erased:
        audit(session, actor, "rejoin_after_erasure", participant, now=now)
        detail = "this number was erased before; re-enrolled on request"
        flag(session, participant, AttentionKind.REJOINED, detail, now)
    _partner(uow, participant, partner_id, visible, actor)
    _commitments(uow, participant, rows, actor)
    return participant


def update(
    uow: UnitOfWork,
    participant: Participant,
    *,
    name: str,
    phone: str,
    timezone: str,
    language: str,
    partner_id: int | None,
    rows: list[CommitmentRow],
    visible: set[int] | None,
    actor: str,
) -> list[str]:
    """Edit someone's details, partner and commitments; returns the fields changed."""
    session, now = uow.session, uow.now
    p = participant
    if phone != p.phone:
        other = session.exec(
            select(Participant).where(
                Participant.program_id == p.program_id,
                Participant.phone == phone,
                Participant.id != p.id,
            )
        ).first()
        if other is not None:
            taken = f"{other.name} already uses that number in this program"
            raise enrollment.EnrollmentError(taken)
        program = session.get(Program, p.program_id)
        defaults = defaults_of(uow.services.settings)
        if is_open(p) and phone_clashes(session, program, phone, defaults):
            raise enrollment.EnrollmentError(ON_ANOTHER_PROGRAM)
    changed = []
    wanted = {"name": name, "phone": phone, "timezone": timezone, "language": language}
    for field, value in wanted.items():
        if getattr(p, field) != value.strip():
            setattr(p, field, value.strip())
            changed.append(field)
    if "timezone" in changed:
        actions.moved_time_zone(uow, p, session.get(Program, p.program_id))
    if (p.partner_id or None) != (partner_id or None):
        _partner(uow, p, partner_id, visible, actor)
        changed.append("partner_id")
    _commitments(uow, p, rows, actor)
    session.add(p)
    audit(session, actor, "participant.update", p, now=now, detail={"fields": changed})
    return changed


def _partner(uow: UnitOfWork, participant, partner_id, visible, actor) -> None:
    if partner_id:
        partner = uow.session.get(Participant, partner_id)
        if partner is None or (visible is not None and partner.program_id not in visible):
            raise enrollment.EnrollmentError("choose a partner from your programs")
    actions.set_partner(uow, participant, partner_id or None, actor=actor)


def _labels_fit(participant, rows: list[CommitmentRow]) -> None:
    """The labels must let the texts that list them fit one text message."""
    listed = [
        (index, (row.label or "").strip() or suggest_label(row.text))
        for index, row in enumerate(rows)
        if (row.text or "").strip()
    ]
    problems = label_problems([label for _, label in listed], participant.language)
    if problems:
        too_long = [i for i, label in listed if len(label) > LABEL_MAX]
        raise RowError((too_long or [listed[-1][0]])[0], " ".join(problems), field="label")


def _commitments(uow: UnitOfWork, participant, rows: list[CommitmentRow], actor) -> None:
    session, now = uow.session, uow.now
    _labels_fit(participant, rows)
    for index, row in enumerate(rows):
        text, sign = (row.text or "").strip(), (row.sign or "").strip()
        label = (row.label or "").strip()
        try:
            if row.id is not None:
                commitment = session.get(Commitment, row.id)
                if commitment is None or commitment.participant_id != participant.id:
                    raise ValueError("that commitment belongs to someone else")
                # Only new wording needs their agreement again (commitment_rules.revision).
                commitments.revise(
                    uow, commitment, text=text, label=label, sign=sign, actor=actor,
                    check_labels=False,
                )  # fmt: skip
            elif text:
                commitments.add_commitment(
                    session, participant, text, sign=sign, label=label, now=now, actor=actor
                )
            elif sign:
                raise ValueError("a commitment needs some words, not only a sign of progress")
        except ValueError as exc:
            raise RowError(index, str(exc)) from None
