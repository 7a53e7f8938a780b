"""The audit log: who changed what, and when."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from service.models import AuditEvent


def record(
    session: Session,
    actor: str,
    action: str,
    entity=None,
    *,
    now: datetime,
    detail: dict | None = None,
) -> AuditEvent:
    """Add one audit event to the caller's transaction. `detail` must hold no message text."""
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
