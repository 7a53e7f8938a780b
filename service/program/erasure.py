"""Erasing a participant: every row about them, every audit row that names them, and every
copy elsewhere (their texts, media, calls and recordings at Twilio; their audio on disk).

One transaction does it all, so a failure anywhere erases nothing and an erasure is never
half done:
1. every row about them goes: their texts (and texts from their number that a program kept
   before it knew them, or that reached a number no program owns), statements, recordings,
   commitments, check-ins, calls and attention items;
2. every audit row naming them goes (`names_person` in service/core/erasure_rules.py says
   which), and a marker is written;
3. each copy still to delete elsewhere becomes a `PendingDeletion` row.
After the commit the audio files are removed at once, and a `purge_leftovers` job deletes
Twilio's copies (service/program/leftovers.py): a Twilio outage delays that, never the
erasure, and the 30-second sweep retries until every copy is gone.

What stays is the marker: one AuditEvent `erase_participant` whose detail holds a keyed hash
(HMAC-SHA256 with the app's secret key) of their number, the program id and its owner's id.
It tells a facilitator re-enrolling that number in one of the same owner's programs that this
person asked to be erased (`was_erased`), and cannot be turned back into the number. Other
facilitators are never told: that would say who was someone else's participant. An
AuditEvent rather than a new table: erasures are rare, and "who erased whom, when" belongs
in the audit log anyway. Ids are never reused (service/models.py), so an audit row about
someone else can never come to point at a new participant.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core.enums import LeftoverKind
from service.core.erasure_rules import (
    ErasedPerson,
    Leftover,
    file_leftovers,
    names_person,
    twilio_leftovers,
)
from service.infra.db import insert_new
from service.infra.gateway import ConsoleGateway
from service.models import (
    AttentionItem,
    AuditEvent,
    Call,
    CheckIn,
    CheckInAnswer,
    Commitment,
    Message,
    ParkedStatus,
    Participant,
    PendingDeletion,
    Program,
    Reflection,
    Statement,
    WebhookDelivery,
)
from service.program import leftovers
from service.records import audit
from service.unit_of_work import PURGE_TASK, UnitOfWork

log = logging.getLogger(__name__)

ACTION = "erase_participant"


class ErasureError(RuntimeError):
    """Nothing was erased; the message says why."""


@dataclass
class Erased:
    # Copies left to delete at Twilio (the purge job deletes them) and files removed now.
    at_twilio: int = 0
    files_removed: int = 0
    rows: dict[str, int] = field(default_factory=dict)


def phone_marker(phone: str, secret: str) -> str:
    return hmac.new(secret.encode(), phone.encode(), hashlib.sha256).hexdigest()


def was_erased(session: Session, phone: str, secret: str, owner_id: int) -> bool:
    """True when this number belonged to someone who was erased from one of the programs of
    `owner_id` (the owner of the program they are being enrolled in)."""
    marker = phone_marker(phone, secret)
    details = session.exec(select(AuditEvent.detail).where(AuditEvent.action == ACTION)).all()
    erased = [
        d for d in details if hmac.compare_digest(str((d or {}).get("phone_hmac", "")), marker)
    ]
    if not erased:
        return False
    # Markers written before they named the owner: the program's owner tells.
    owners = dict(session.exec(select(Program.id, Program.owner_id)).all())
    return any(d.get("owner_id", owners.get(d.get("program_id"))) == owner_id for d in erased)


def erase_participant(services, participant_id: int, *, actor: str) -> Erased:
    """Erase one participant completely (see the module docstring)."""
    result = Erased()
    with UnitOfWork(services) as uow:
        session, now = uow.session, uow.now
        participant = session.get(Participant, participant_id, with_for_update=True)
        if participant is None:
            raise ErasureError("there is no such participant")
        program = session.get(Program, participant.program_id)
        found = _their_rows(session, participant)
        person = ErasedPerson(
            participant.id,
            participant.phone,
            {name: frozenset(ids) for name, ids in found.ids.items()},
        )
        remote = []
        if not isinstance(services.gateway, ConsoleGateway):  # else no copy exists there
            remote = twilio_leftovers(found.message_sids, found.recordings, found.call_sids)
        files = file_leftovers(found.paths)
        pending = _pending(session, remote + files, program.id, now)
        result.rows = _delete_rows(session, participant, found)
        result.rows["audit_events"] = _delete_audit(session, person)
        audit(
            session,
            actor,
            ACTION,
            now=now,
            detail={
                "phone_hmac": phone_marker(
                    participant.phone, services.settings.effective_secret_key()
                ),
                "program_id": program.id,
                "owner_id": program.owner_id,
            },
        )
        at_twilio = [p.id for p in pending if p.kind != LeftoverKind.FILE]
        if at_twilio:
            uow.later(PURGE_TASK, at_twilio)
        on_disk = [p.id for p in pending if p.kind == LeftoverKind.FILE]
        uow.commit()
    result.at_twilio = len(at_twilio)
    result.files_removed = leftovers.purge(services, on_disk)["deleted"]
    log.info(
        "erased participant %s (%d copies at Twilio to delete, %d files removed)",
        participant_id,
        result.at_twilio,
        result.files_removed,
    )
    return result


def remove_rows(session: Session, participant: Participant) -> list[str]:
    """Delete every row about `participant`, and them, in the caller's transaction: no
    marker and no copies elsewhere to look for (a test persona's, which has none). Returns
    the paths of their audio files, to remove once the caller has committed."""
    found = _their_rows(session, participant)
    _delete_rows(session, participant, found)
    return [path for path in found.paths if path]


@dataclass
class _Found:
    ids: dict[str, list[int]]
    message_sids: list[str]
    recordings: list[tuple[str | None, bool]]
    call_sids: list[str]
    paths: list[str]


def _their_messages(participant: Participant):
    """Their texts; texts from (or to) their number that their program kept before it knew
    them; and those no program owns (sent to a number no program has)."""
    phone = participant.phone
    theirs = sa.or_(Message.from_number == phone, Message.to_number == phone)
    return sa.or_(
        Message.participant_id == participant.id,
        sa.and_(
            Message.participant_id.is_(None),
            sa.or_(Message.program_id == participant.program_id, Message.program_id.is_(None)),
            theirs,
        ),
    )


def _their_rows(session: Session, participant: Participant) -> _Found:
    pid = participant.id
    messages = session.execute(
        sa.select(Message.id, Message.twilio_sid).where(_their_messages(participant))
    ).all()
    reflections = session.execute(
        sa.select(
            Reflection.id,
            Reflection.recording_sid,
            Reflection.deleted_at_twilio,
            Reflection.call_sid,
            Reflection.storage_path,
        ).where(Reflection.participant_id == pid)
    ).all()
    calls = session.execute(sa.select(Call.id, Call.call_sid).where(Call.participant_id == pid))
    calls = calls.all()

    def ids(model, *where) -> list[int]:
        return list(session.scalars(sa.select(model.id).where(*where)))

    # Their check-ins, and a partner's check-ins about them.
    about_them = sa.or_(CheckIn.participant_id == pid, CheckIn.subject_id == pid)

    return _Found(
        ids={
            "message": [m.id for m in messages],
            "reflection": [r.id for r in reflections],
            "call": [c.id for c in calls],
            "statement": ids(Statement, Statement.participant_id == pid),
            "commitment": ids(Commitment, Commitment.participant_id == pid),
            "checkin": ids(CheckIn, about_them),
            "attentionitem": ids(AttentionItem, AttentionItem.participant_id == pid),
        },
        message_sids=[m.twilio_sid for m in messages if m.twilio_sid],
        recordings=[(r.recording_sid, r.deleted_at_twilio is not None) for r in reflections],
        call_sids=[c.call_sid for c in calls] + [r.call_sid for r in reflections],
        paths=[r.storage_path for r in reflections],
    )


def _pending(session: Session, found: list[Leftover], program_id: int, now) -> list:
    rows = [
        dict(kind=str(item.kind), ref=item.ref, program_id=program_id, attempts=0, created_at=now)
        for item in found
    ]
    return insert_new(session, PendingDeletion, rows, ("kind", "ref"))


def _delete_rows(session: Session, participant: Participant, found: _Found) -> dict[str, int]:
    pid = participant.id
    counts = {}

    def delete(name, model, *where):
        counts[name] = session.execute(sa.delete(model).where(*where)).rowcount

    checkins, commitments = found.ids["checkin"], found.ids["commitment"]
    # First: an item names the text or recording that raised it (a partner's item may name
    # one of theirs: it stays, without the words).
    delete("attention_items", AttentionItem, AttentionItem.participant_id == pid)
    session.execute(
        sa.update(AttentionItem)
        .where(AttentionItem.message_id.in_(found.ids["message"]))
        .values(message_id=None)
    )
    delete(
        "checkin_answers",
        CheckInAnswer,
        sa.or_(
            CheckInAnswer.checkin_id.in_(checkins),
            CheckInAnswer.commitment_id.in_(commitments),
        ),
    )
    delete("checkins", CheckIn, CheckIn.id.in_(checkins))
    delete("statements", Statement, Statement.participant_id == pid)
    delete("reflections", Reflection, Reflection.participant_id == pid)
    delete("commitments", Commitment, Commitment.id.in_(commitments))
    delete("calls", Call, Call.participant_id == pid)
    # Events about them waiting for (or kept after) delivery to a webhook receiver.
    delete("webhook_deliveries", WebhookDelivery, WebhookDelivery.participant_id == pid)
    delete("messages", Message, Message.id.in_(found.ids["message"]))
    # Statuses kept for texts whose SID had not been stored yet: of no use now.
    delete("parked_statuses", ParkedStatus, ParkedStatus.sid.in_(found.message_sids))
    session.execute(
        sa.update(Participant).where(Participant.partner_id == pid).values(partner_id=None)
    )
    session.execute(sa.update(Participant).where(Participant.id == pid).values(partner_id=None))
    session.delete(participant)
    session.flush()
    counts["participants"] = 1
    return counts


def _delete_audit(session: Session, person: ErasedPerson) -> int:
    """Delete the audit rows that name them. The database narrows the candidates (their
    actor, a row of theirs, a detail holding the tail of their number or their id under an
    `…_id` key); the core decides on each."""
    digits = "".join(ch for ch in person.phone if ch.isdigit())
    detail = sa.cast(AuditEvent.detail, sa.Text)
    candidates = sa.or_(
        AuditEvent.actor == person.actor,
        sa.and_(AuditEvent.entity == "participant", AuditEvent.entity_id == person.participant_id),
        *(
            sa.and_(AuditEvent.entity == name, AuditEvent.entity_id.in_(sorted(ids)))
            for name, ids in person.rows.items()
            if ids
        ),
        detail.like(f"%{digits[-4:]}%"),
        # "partner_id": 7 or "partner_id": "7", as both databases keep JSON here.
        detail.like(f'%_id": {person.participant_id}%'),
        detail.like(f'%_id": "{person.participant_id}"%'),
    )
    columns = (AuditEvent.id, AuditEvent.actor, AuditEvent.entity, AuditEvent.entity_id)
    events = session.execute(
        sa.select(*columns, AuditEvent.detail).where(AuditEvent.action != ACTION, candidates)
    ).all()
    doomed = [
        e.id
        for e in events
        if names_person(
            person, actor=e.actor, entity=e.entity, entity_id=e.entity_id, detail=e.detail
        )
    ]
    if doomed:
        session.execute(sa.delete(AuditEvent).where(AuditEvent.id.in_(doomed)))
    return len(doomed)
