"""The facilitator's needs-attention list: an item is resolved once, by someone who may
see it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select

from service.models import AttentionItem, Participant
from service.records import audit
from service.unit_of_work import UnitOfWork


def resolve(uow: UnitOfWork, item_id: int, *, visible: set[int] | None, actor: str) -> bool | None:
    """Mark one item resolved. None: no such item for this facilitator (they see only
    their programs' items); False: it was resolved already."""
    query = (
        select(AttentionItem)
        .outerjoin(Participant, Participant.id == AttentionItem.participant_id)
        .where(AttentionItem.id == item_id)
    )
    if visible is not None:
        query = query.where(
            sa.or_(AttentionItem.program_id.in_(visible), Participant.program_id.in_(visible))
        )
    item = uow.session.exec(query).one_or_none()
    if item is None:
        return None
    if item.resolved_at is not None:
        return False
    item.resolved_at = uow.now
    detail = {"kind": item.kind}
    audit(uow.session, actor, "attention.resolve", item, now=uow.now, detail=detail)
    return True
