"""Step 4: commitments, written by a facilitator or texted in, agreed by text.

A shared commitment exists once per partner (same `shared_key`) and goes live only when
both have agreed to the same wording; any edit needs fresh agreement from both.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core import commitment_rules, texts
from service.core.commitment_labels import label_of, label_problems, suggest_label
from service.core.commitment_rules import Revision
from service.core.enums import OPEN_COMMITMENTS, CommitmentStatus, ProposedBy, Step
from service.messaging import outbox
from service.models import Commitment, Participant
from service.records import actor_of, audit
from service.unit_of_work import UnitOfWork

# What a participant may ask to change (a change already asked for waits for the coach).
CHANGEABLE = (CommitmentStatus.PROPOSED, CommitmentStatus.AGREED, CommitmentStatus.ACTIVE)


def in_order(session: Session, participant_ids, statuses) -> dict[int, list[Commitment]]:
    """These participants' commitments in these statuses, in the order their facilitator
    put them (then oldest first), in one query."""
    found: dict[int, list[Commitment]] = {}
    if participant_ids:
        rows = session.exec(
            select(Commitment)
            .where(
                Commitment.participant_id.in_(set(participant_ids)),
                Commitment.status.in_([str(s) for s in statuses]),
            )
            .order_by(Commitment.position, Commitment.id)
        )
        for commitment in rows:
            found.setdefault(commitment.participant_id, []).append(commitment)
    return found


def open_commitments(session: Session, participant: Participant) -> list[Commitment]:
    return in_order(session, [participant.id], OPEN_COMMITMENTS).get(participant.id, [])


def active_commitments_of(session: Session, participant_ids) -> dict[int, list[Commitment]]:
    """Each of these participants' active commitments, oldest first, in one query."""
    return in_order(session, participant_ids, [CommitmentStatus.ACTIVE])


def active_commitments(session: Session, participant: Participant) -> list[Commitment]:
    return active_commitments_of(session, [participant.id]).get(participant.id, [])


def waiting_for(session: Session, participant: Participant) -> list[Commitment]:
    """Commitments waiting for this participant's agreement."""
    return [c for c in open_commitments(session, participant) if c.status == "proposed"]


def all_live(commitments: list[Commitment]) -> bool:
    return bool(commitments) and all(c.status == CommitmentStatus.ACTIVE for c in commitments)


def add_commitment(
    session: Session,
    participant: Participant,
    text: str,
    *,
    now: datetime,
    sign: str = "",
    proposed_by: str = ProposedBy.FACILITATOR,
    shared: bool = False,
    actor: str = "system",
    label: str = "",
) -> list[Commitment]:
    """Write a proposed commitment (for both partners when shared), with its short label
    (suggested from the wording when none is given)."""
    text = (text or "").strip()
    if not text:
        raise ValueError("a commitment needs some words")
    label = (label or "").strip() or suggest_label(text)
    people = [participant]
    key = None
    if shared:
        if participant.partner_id is None:
            raise ValueError("a shared commitment needs linked partners")
        people.append(session.get(Participant, participant.partner_id))
        key = uuid.uuid4().hex
    made = []
    for person in people:
        commitment = Commitment(
            participant_id=person.id,
            position=next_position(session, person.id),
            text=text,
            label=label,
            sign=(sign or "").strip(),
            proposed_by=proposed_by,
            shared_key=key,
            created_at=now,
            updated_at=now,
        )
        session.add(commitment)
        made.append(commitment)
    session.flush()
    for commitment in made:
        audit(session, actor, "add_commitment", commitment, now=now)
    return made


def edit_commitment(
    uow: UnitOfWork,
    commitment: Commitment,
    text: str,
    *,
    sign=None,
    label=None,
    actor: str = "system",
) -> None:
    """New wording: it (and a partner's copy) must be agreed again; both are asked. A label
    that was only the suggestion for the old wording follows the new one."""
    session, now = uow.session, uow.now
    text = (text or "").strip()
    if not text:
        raise ValueError("a commitment needs some words")
    label = (label or "").strip()
    if not label or (label == suggest_label(commitment.text) and commitment.label in ("", label)):
        label = suggest_label(text)
    for copy in copies(session, commitment):
        copy.text = text
        copy.label = label
        if sign is not None:
            copy.sign = sign.strip()
        copy.status = CommitmentStatus.PROPOSED
        copy.agreed_text = None
        copy.agreed_at = None
        copy.live_at = None
        copy.updated_at = now
        session.add(copy)
    audit(session, actor, "edit_commitment", commitment, now=now)
    for copy in copies(session, commitment):
        person = session.get(Participant, copy.participant_id)
        if person.step >= Step.COMMITMENTS:
            send_for_agreement(uow, person, key=f"edit:{copy.id}:{now.isoformat()}")


def next_position(session: Session, participant_id: int) -> int:
    """A new commitment goes last in their list."""
    last = session.exec(
        select(sa.func.max(Commitment.position)).where(Commitment.participant_id == participant_id)
    ).one()
    return 0 if last is None else last + 1


def revise(
    uow: UnitOfWork,
    commitment: Commitment,
    *,
    text: str,
    label: str,
    sign: str,
    actor: str,
    check_labels: bool = True,
) -> Revision:
    """A facilitator's edit of one commitment (core/commitment_rules.revision says what it
    means for them): new wording is agreed again; a new label or sign keeps the agreement.
    The labels must still let the check-in fit one text message."""
    text, label, sign = (text or "").strip(), (label or "").strip(), (sign or "").strip()
    if not text:
        raise ValueError("a commitment needs some words")
    if commitment.status == CommitmentStatus.RETIRED:
        raise ValueError("a retired commitment cannot be changed")
    owner = uow.session.get(Participant, commitment.participant_id)
    new_label = label or suggest_label(text)
    listed = [
        new_label if c.id == commitment.id else label_of(c)
        for c in open_commitments(uow.session, owner)
    ]
    problems = label_problems(listed, owner.language) if check_labels else []
    if problems:
        raise ValueError(" ".join(problems))
    relabelled = bool(label) and label != label_of(commitment)
    change = commitment_rules.revision(commitment.text, text, relabelled, sign != commitment.sign)
    if change == Revision.NEEDS_AGREEMENT:
        edit_commitment(uow, commitment, text, sign=sign, label=label, actor=actor)
    elif change == Revision.KEEPS_AGREEMENT:
        for copy in copies(uow.session, commitment):
            copy.sign = sign
            uow.session.add(copy)
        relabel(uow.session, commitment, label, now=uow.now, actor=actor)
    return change


def retire(session: Session, commitment: Commitment, *, now: datetime, actor: str) -> None:
    """No longer asked about (nor its partner's copy of a shared one); its answers stay."""
    for copy in copies(session, commitment):
        copy.status = CommitmentStatus.RETIRED
        copy.updated_at = now
        session.add(copy)
    audit(session, actor, "retire_commitment", commitment, now=now)


def move(session: Session, commitment: Commitment, offset: int, *, now, actor) -> None:
    """Up (-1) or down (1) in their list: the check-in lists them in this order."""
    owner = session.get(Participant, commitment.participant_id)
    listed = open_commitments(session, owner)
    order = commitment_rules.moved([c.id for c in listed], commitment.id, offset)
    by_id = {c.id: c for c in listed}
    for place, cid in enumerate(order):
        if by_id[cid].position != place:
            by_id[cid].position = place
            session.add(by_id[cid])
    audit(session, actor, "move_commitment", commitment, now=now, detail={"offset": offset})


def relabel(session: Session, commitment: Commitment, label: str, *, now, actor) -> None:
    """A new short label (for it and a partner's copy); the wording, and so the agreement,
    stay as they are."""
    label = (label or "").strip() or suggest_label(commitment.text)
    for copy in copies(session, commitment):
        copy.label = label
        copy.updated_at = now
        session.add(copy)
    audit(session, actor, "relabel_commitment", commitment, now=now)


def copies(session: Session, commitment: Commitment) -> list[Commitment]:
    """The commitment and, when shared, the partner's copy."""
    if not commitment.shared_key:
        return [commitment]
    return list(
        session.exec(select(Commitment).where(Commitment.shared_key == commitment.shared_key))
    )


@dataclass
class Agreement:
    agreed: int = 0
    waiting: int = 0  # agreed by them, waiting for the partner's agreement
    live: list[Commitment] = field(default_factory=list)  # went live now (either partner)


def agree(session: Session, participant: Participant, *, now: datetime) -> Agreement:
    """The participant agrees to every commitment waiting for them."""
    result = Agreement()
    for commitment in open_commitments(session, participant):
        if commitment.status != CommitmentStatus.PROPOSED:
            continue
        commitment.status = CommitmentStatus.AGREED
        commitment.agreed_text = commitment.text
        commitment.agreed_at = now
        commitment.updated_at = now
        result.agreed += 1
        both = copies(session, commitment)
        if commitment_rules.goes_live(both, commitment.text):
            for c in both:
                c.status = CommitmentStatus.ACTIVE
                c.live_at = now
                result.live.append(c)
        else:
            result.waiting += 1
    audit(session, actor_of(participant), "agree_commitments", participant, now=now)
    return result


def request_change(session: Session, participant: Participant, index: int, now) -> Commitment:
    """They ask for other wording of the `index`-th changeable commitment (see
    `commitment_rules.change_target`): it waits for the facilitator."""
    changeable = [c for c in open_commitments(session, participant) if c.status in CHANGEABLE]
    target = changeable[min(index, len(changeable) - 1)]
    target.status = CommitmentStatus.CHANGE_REQUESTED
    target.updated_at = now
    session.add(target)
    return target


def send_for_agreement(uow: UnitOfWork, participant: Participant, *, key: str, reply=False):
    """List what is waiting for their agreement and ask for AGREE or CHANGE."""
    waiting = waiting_for(uow.session, participant)
    if not waiting:
        return []
    participant.prompt = "agree"
    uow.session.add(participant)
    listed = outbox.queue_text(
        uow,
        participant,
        "commitments_list",
        key=f"{key}:list",
        reply=reply,
        values={"items": texts.format_items(c.text for c in waiting)},
    )
    ask = outbox.queue_text(
        uow, participant, "commitment_agree_prompt", key=f"{key}:ask", reply=reply
    )
    return [listed, ask]
