"""The facilitator's needs-attention list: an item is resolved, snoozed or reopened by
someone who may see it, and settles by itself once its cause is gone
(core/attention_rules.py says which events settle which kinds)."""

from __future__ import annotations

import functools
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import select

from service.core import attention_rules
from service.core.attention_rules import Cause, Snooze
from service.models import AttentionItem, Participant, Program
from service.records import audit
from service.unit_of_work import UnitOfWork

SYSTEM = "system"


def _visible_item(uow: UnitOfWork, item_id: int, visible: set[int] | None):
    query = (
        select(AttentionItem)
        .outerjoin(Participant, Participant.id == AttentionItem.participant_id)
        .where(AttentionItem.id == item_id)
    )
    if visible is not None:
        query = query.where(
            sa.or_(AttentionItem.program_id.in_(visible), Participant.program_id.in_(visible))
        )
    return uow.session.exec(query).one_or_none()


def resolve(uow: UnitOfWork, item_id: int, *, visible: set[int] | None, actor: str) -> bool | None:
    """Mark one item resolved. None: no such item for this facilitator (they see only
    their programs' items); False: it was resolved already."""
    item = _visible_item(uow, item_id, visible)
    if item is None:
        return None
    if item.resolved_at is not None:
        return False
    item.resolved_at = uow.now
    item.snoozed_until = None
    detail = {"kind": item.kind}
    audit(uow.session, actor, "attention.resolve", item, now=uow.now, detail=detail)
    return True


def snooze(
    uow: UnitOfWork, item_id: int, choice: str, *, visible: set[int] | None, actor: str
) -> datetime | None:
    """Hide an open item from Today until tomorrow (or for a week), 8 am in its
    participant's zone (the program's when it has none). Returns when it is back; None
    when there is no such open item for this facilitator. Raises ValueError for a choice
    that is not one of `Snooze`."""
    choice = Snooze(choice)
    item = _visible_item(uow, item_id, visible)
    if item is None or item.resolved_at is not None:
        return None
    tz = _zone_of(uow, item)
    item.snoozed_until = attention_rules.snoozed_until(choice, uow.now, tz)
    detail = {"kind": item.kind, "until": item.snoozed_until.isoformat(timespec="minutes")}
    audit(uow.session, actor, "attention.snooze", item, now=uow.now, detail=detail)
    return item.snoozed_until


def reopen(uow: UnitOfWork, item_id: int, *, visible: set[int] | None, actor: str) -> bool | None:
    """Undo a resolve or a snooze: the item is open on Today again. None: no such item for
    this facilitator; False: it was open already."""
    item = _visible_item(uow, item_id, visible)
    if item is None:
        return None
    if item.resolved_at is None and item.snoozed_until is None:
        return False
    item.resolved_at = None
    item.snoozed_until = None
    audit(uow.session, actor, "attention.reopen", item, now=uow.now, detail={"kind": item.kind})
    return True


def _zone_of(uow: UnitOfWork, item: AttentionItem) -> str | None:
    if item.participant_id is not None:
        participant = uow.session.get(Participant, item.participant_id)
        if participant is not None:
            return participant.timezone
    if item.program_id is not None:
        program = uow.session.get(Program, item.program_id)
        if program is not None:
            return program.timezone
    return None


@functools.cache
def _settle_query(cause: Cause):
    """The UPDATE that resolves one participant's open items `cause` settles (built once
    per cause: a turn settles a text's causes every time)."""
    kinds = attention_rules.settled_by(cause)
    where = [
        AttentionItem.participant_id == sa.bindparam("participant"),
        AttentionItem.resolved_at.is_(None),
    ]
    if kinds is not None:
        where.append(AttentionItem.kind.in_(sorted(kinds)))
    return (
        sa.update(AttentionItem)
        .where(*where)
        .values(resolved_at=sa.bindparam("now"), snoozed_until=None)
    )


def settle(session, participant: Participant, causes: list[Cause], now: datetime) -> int:
    """Resolve `participant`'s open items that `causes` settle (their cause is gone), in the
    caller's transaction. Returns how many."""
    if not causes or participant.id is None:
        return 0
    if any(isinstance(row, AttentionItem) for row in (*session.new, *session.dirty)):
        session.flush()  # an item raised or changed earlier in this transaction is settled too
    done = 0
    for cause in causes:
        # On the session's connection: no flush of every pending change first (a Core
        # statement through the session would do one).
        found = (
            session.connection()
            .execute(_settle_query(cause), {"participant": participant.id, "now": now})
            .rowcount
        )
        if found:
            audit(
                session, SYSTEM, "attention.settled", participant, now=now,
                detail={"cause": cause.value, "items": found},
            )  # fmt: skip
            done += found
    return done
