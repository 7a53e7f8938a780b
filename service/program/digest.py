"""The optional once-a-day digest text to a facilitator: who needs attention today."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core.digest_rules import digest_day
from service.core.options import option
from service.infra.queue import Lane
from service.messaging import outbox
from service.models import AttentionItem, Facilitator, Message, Program
from service.unit_of_work import UnitOfWork


def send_digests(services) -> int:
    """Queue today's digests, in one unit of work; returns how many were written."""
    with UnitOfWork(services, lane=Lane.BULK) as uow:
        messages = queue_digests(uow.session, uow.now)
        uow.send(*messages)
        uow.commit()
    return len(messages)


def queue_digests(session: Session, now: datetime) -> list[Message]:
    """For each program with the digest on whose owner's morning has come (09:00 in the
    facilitator's own time zone), text them once that day if anything is waiting. Safe to
    run every hour (idempotency key: the program and the facilitator's date)."""
    messages = []
    for program in session.exec(select(Program).where(Program.status == "active")):
        if not option(program, "daily_digest"):
            continue
        owner = session.get(Facilitator, program.owner_id)
        if owner is None or not owner.phone or not owner.is_active:
            continue
        day = digest_day(now, owner.timezone)
        if day is None:
            continue
        waiting = session.exec(
            select(sa.func.count(sa.distinct(AttentionItem.participant_id))).where(
                AttentionItem.program_id == program.id,
                AttentionItem.resolved_at.is_(None),
                AttentionItem.created_at > now - timedelta(days=7),
            )
        ).one()
        if not waiting:
            continue
        people = "person needs" if waiting == 1 else "people need"
        message = Message(
            direction="out",
            program_id=program.id,
            idempotency_key=f"digest:{program.id}:{day.isoformat()}",
            to_number=owner.phone,
            from_number=program.sender_number or "",
            messaging_service_sid=program.messaging_service_sid,
            body=f"Realign, {program.name}: {waiting} {people} your attention. "
            "The dashboard shows who and why.",
            template="facilitator_digest",
            created_at=now,
            updated_at=now,
        )
        messages.append(outbox.insert_once(session, message))
    return messages
