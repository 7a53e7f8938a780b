"""Deleting what an erasure left to delete elsewhere: Twilio's copies of the person's texts
(with their media), calls (with their recordings) and recordings, and audio files on disk.

Each copy is a `PendingDeletion` row, written in the erasure's own transaction. `purge`
deletes the copies it is given and removes their rows; a copy Twilio cannot delete now (an
outage, a text still in progress) keeps its row with the next time to try, and `sweep`
(every 30 seconds, from the cron schedule) tries again then, with backoff and without end,
so every copy goes eventually. What is already gone counts as deleted, so deleting twice
(two workers, a retried job) is harmless. Network calls happen outside transactions.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from service.core.enums import AttentionKind, LeftoverKind
from service.core.erasure_rules import retry_delay, should_tell
from service.infra.gateway import GatewayError
from service.models import AttentionItem, PendingDeletion

log = logging.getLogger(__name__)

# A fresh row belongs to the job queued with it; the sweep takes it only if that job is lost.
FRESH = timedelta(minutes=1)
SWEEP_LIMIT = 200


def purge(services, ids: list[int]) -> dict:
    """Delete the copies of these `PendingDeletion` rows; {"deleted": n, "waiting": n}."""
    if not ids:
        return {"deleted": 0, "waiting": 0}
    with services.sessions() as session:
        rows = session.exec(
            select(PendingDeletion).where(PendingDeletion.id.in_(ids)).order_by(PendingDeletion.id)
        ).all()
        session.commit()  # no transaction stays open while Twilio is asked
    deleted = waiting = 0
    for row in rows:
        try:
            _delete(services, row)
        except GatewayError as exc:
            _failed(services, row, exc.message)
            waiting += 1
        except OSError as exc:
            _failed(services, row, f"the file could not be removed ({type(exc).__name__})")
            waiting += 1
        else:
            with services.sessions() as session:
                session.execute(sa.delete(PendingDeletion).where(PendingDeletion.id == row.id))
                session.commit()
            deleted += 1
    return {"deleted": deleted, "waiting": waiting}


def sweep(services, limit: int = SWEEP_LIMIT) -> int:
    """Try again every copy whose time has come (and any whose job was lost)."""
    now = services.now()
    with services.sessions() as session:
        due = session.scalars(
            sa.select(PendingDeletion.id)
            .where(
                sa.or_(
                    PendingDeletion.next_attempt_at <= now,
                    sa.and_(
                        PendingDeletion.next_attempt_at.is_(None),
                        PendingDeletion.created_at <= now - FRESH,
                    ),
                )
            )
            .order_by(PendingDeletion.id)
            .limit(limit)
        ).all()
    return purge(services, list(due))["deleted"] if due else 0


def _delete(services, row: PendingDeletion) -> None:
    kind = LeftoverKind(row.kind)
    if kind is LeftoverKind.FILE:
        Path(row.ref).unlink(missing_ok=True)
    elif kind is LeftoverKind.MESSAGE:
        services.gateway.delete_message(row.ref)
    elif kind is LeftoverKind.CALL:
        services.gateway.delete_call(row.ref)
    else:
        services.gateway.delete_recording(row.ref)  # already gone counts as deleted


def _failed(services, row: PendingDeletion, why: str) -> None:
    now = services.now()
    attempts = row.attempts + 1
    with services.sessions() as session:
        session.execute(
            sa.update(PendingDeletion)
            .where(PendingDeletion.id == row.id)
            .values(
                attempts=PendingDeletion.attempts + 1,
                next_attempt_at=now + retry_delay(attempts),
                last_error=why[:200],
            )
        )
        if should_tell(attempts) and row.program_id is not None:
            session.add(
                AttentionItem(
                    program_id=row.program_id,
                    kind=str(AttentionKind.ERASURE_PENDING),
                    detail=(
                        "Copies of an erased person's data could not be deleted yet "
                        f"({why[:120]}); they are tried again every hour."
                    ),
                    created_at=now,
                )
            )
        session.commit()
    log.warning("erasure leftover %s (%s): not deleted yet, try %d", row.id, row.kind, attempts)
