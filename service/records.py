"""The two records every use case writes into its transaction: the audit log (who changed
what, when) and the facilitator's needs-attention list.

Whoever opens the session may ask to hear of each new attention item: the callables in
`session.info[ON_ATTENTION]` are called with the item and its participant (a unit of work
puts its services' `attention_hooks` there, so event webhooks are written in the same
transaction as the item, from whichever layer raised it)."""

from __future__ import annotations

from datetime import datetime

from service.core.enums import AttentionKind
from service.models import AttentionItem, AuditEvent

ON_ATTENTION = "on_attention"


def audit(session, actor: str, action: str, entity=None, *, now: datetime, detail=None):
    """One audit event in the caller's transaction. `detail` must hold no message text."""
    event = AuditEvent(
        at=now,
        actor=actor,
        action=action,
        entity=type(entity).__name__.lower() if entity is not None else "",
        entity_id=getattr(entity, "id", None),
        detail=detail or {},
    )
    session.add(event)
    return event


def flag(
    session,
    participant,
    kind: AttentionKind | str,
    detail: str,
    now: datetime,
    *,
    message_id: int | None = None,
    reflection_id: int | None = None,
    cause: str | None = None,
):
    """Something the facilitator should look at today, about `participant`; with the text
    or recording that raised it, when there is one (Today shows what was said)."""
    item = AttentionItem(
        program_id=participant.program_id,
        participant_id=participant.id,
        kind=str(kind),
        detail=detail,
        created_at=now,
        message_id=message_id,
        reflection_id=reflection_id,
        cause=cause,
    )
    session.add(item)
    for hook in session.info.get(ON_ATTENTION, ()):
        hook(item, participant)
    return item


def actor_of(participant) -> str:
    """How the audit log names a participant acting for themselves."""
    return f"participant:{participant.id}"
