"""Step 4: commitments, written by a facilitator or texted in, agreed by text.

A shared commitment exists once per partner (same `shared_key`) and goes live only
when both have agreed to the same wording; any edit needs fresh agreement from both.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session, select

from service.core import texts
from service.messaging import outbox
from service.models import Commitment, Participant
from service.program.audit import record

OPEN = ("proposed", "agreed", "active", "change_requested")


def open_commitments(session: Session, participant: Participant) -> list[Commitment]:
    return list(
        session.exec(
            select(Commitment)
            .where(Commitment.participant_id == participant.id, Commitment.status.in_(OPEN))
            .order_by(Commitment.id)
        ).all()
    )


def active_commitments(session: Session, participant: Participant) -> list[Commitment]:
    return active_commitments_of(session, [participant.id]).get(participant.id, [])


def active_commitments_of(session: Session, participant_ids) -> dict[int, list[Commitment]]:
    """Each of these participants' active commitments, oldest first, in one query."""
    found: dict[int, list[Commitment]] = {}
    if participant_ids:
        rows = session.exec(
            select(Commitment)
            .where(
                Commitment.participant_id.in_(set(participant_ids)),
                Commitment.status == "active",
            )
            .order_by(Commitment.id)
        )
        for commitment in rows:
            found.setdefault(commitment.participant_id, []).append(commitment)
    return found


def add_commitment(
    session: Session,
    participant: Participant,
    text: str,
    *,
    now: datetime,
    sign: str = "",
    proposed_by: str = "facilitator",
    shared: bool = False,
    actor: str = "system",
) -> list[Commitment]:
    """Write a proposed commitment (for both partners when shared)."""
    text = (text or "").strip()
    if not text:
        raise ValueError("a commitment needs some words")
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
            text=text,
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
        record(session, actor, "add_commitment", commitment, now=now)
    return made


def edit_commitment(
    session: Session, commitment: Commitment, text: str, *, now: datetime, sign=None, actor="system"
) -> list:
    """New wording: it (and a partner's copy) must be agreed again; both are asked.

    Returns the outbox rows asking for agreement (to hand to the queue after commit).
    """
    text = (text or "").strip()
    if not text:
        raise ValueError("a commitment needs some words")
    for copy in _copies(session, commitment):
        copy.text = text
        if sign is not None:
            copy.sign = sign.strip()
        copy.status = "proposed"
        copy.agreed_text = None
        copy.agreed_at = None
        copy.live_at = None
        copy.updated_at = now
        session.add(copy)
    record(session, actor, "edit_commitment", commitment, now=now)
    asked = []
    for copy in _copies(session, commitment):
        person = session.get(Participant, copy.participant_id)
        if person.step >= 4:
            key = f"edit:{copy.id}:{now.isoformat()}"
            asked += send_for_agreement(session, person, now=now, key=key)
    return asked


def waiting_for(session: Session, participant: Participant) -> list[Commitment]:
    """Commitments waiting for this participant's agreement."""
    return [c for c in open_commitments(session, participant) if c.status == "proposed"]


def _copies(session: Session, commitment: Commitment) -> list[Commitment]:
    if not commitment.shared_key:
        return [commitment]
    return list(
        session.exec(select(Commitment).where(Commitment.shared_key == commitment.shared_key))
    )


def numbered(commitments: list[Commitment]) -> str:
    return texts.format_items(c.text for c in commitments)


def agree(session: Session, participant: Participant, *, now: datetime) -> dict:
    """The participant agrees to every commitment waiting for them.

    Returns {"agreed": n, "waiting": n, "live": [Commitment...]} where `live` lists
    commitments that went live now (for either partner).
    """
    agreed = waiting = 0
    live: list[Commitment] = []
    for commitment in open_commitments(session, participant):
        if commitment.status != "proposed":
            continue
        commitment.status = "agreed"
        commitment.agreed_text = commitment.text
        commitment.agreed_at = now
        commitment.updated_at = now
        agreed += 1
        copies = _copies(session, commitment)
        if all(c.status == "agreed" and c.agreed_text == commitment.text for c in copies):
            for c in copies:
                c.status = "active"
                c.live_at = now
                live.append(c)
        else:
            waiting += 1
    record(session, f"participant:{participant.id}", "agree_commitments", participant, now=now)
    return {"agreed": agreed, "waiting": waiting, "live": live}


def all_live(session: Session, participant: Participant) -> bool:
    commitments = open_commitments(session, participant)
    return bool(commitments) and all(c.status == "active" for c in commitments)


def send_for_agreement(
    session: Session, participant: Participant, *, now: datetime, key: str, reply: bool = False
):
    """List what is waiting for their agreement and ask for AGREE or CHANGE."""
    waiting = waiting_for(session, participant)
    if not waiting:
        return []
    participant.prompt = "agree"
    session.add(participant)
    listed = outbox.queue_text(
        session,
        participant,
        "commitments_list",
        key=f"{key}:list",
        now=now,
        reply=reply,
        values={"items": numbered(waiting)},
    )
    ask = outbox.queue_text(
        session, participant, "commitment_agree_prompt", key=f"{key}:ask", now=now, reply=reply
    )
    return [listed, ask]
