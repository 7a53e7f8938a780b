"""Everything a facilitator's page about one participant shows, read in one session."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core import texts
from service.core.commitment_labels import label_of
from service.core.enums import CheckInKind, RecordingStatus
from service.core.phones import display_phone
from service.core.redact import mask_phone
from service.models import (
    AttentionItem,
    CheckIn,
    Commitment,
    Message,
    Participant,
    Program,
    Reflection,
    Statement,
)
from service.program import scores
from service.program.checkin_answers import results_of

RECENT_CHECKINS = timedelta(days=30)
THREAD_PAGE = 50  # texts shown at once on their page (a long history has thousands)


def step_label(step: int) -> str:
    return f"{step}. {texts.step_name(step)}"


def thread_page(s: Session, pid: int, before: int | None = None) -> tuple[list[Message], bool]:
    """Their texts, newest first, THREAD_PAGE at a time: those before the text `before`
    (a message id: the last one of the page above), and whether older ones remain."""
    query = select(Message).where(Message.participant_id == pid)
    if before is not None:
        mark = s.exec(
            select(Message.created_at).where(Message.id == before, Message.participant_id == pid)
        ).first()
        if mark is not None:
            query = query.where(
                sa.or_(
                    Message.created_at < mark,
                    sa.and_(Message.created_at == mark, Message.id < before),
                )
            )
    rows = s.exec(
        query.order_by(Message.created_at.desc(), Message.id.desc()).limit(THREAD_PAGE + 1)
    ).all()
    return list(rows[:THREAD_PAGE]), len(rows) > THREAD_PAGE


def participant_story(s: Session, pid: int, now: datetime, before: int | None = None) -> dict:
    p = s.get(Participant, pid)
    program = s.get(Program, p.program_id)
    partner = s.get(Participant, p.partner_id) if p.partner_id else None
    messages, older = thread_page(s, pid, before)
    statements = s.exec(
        select(Statement)
        .where(Statement.participant_id == pid)
        .order_by(Statement.step, Statement.id)
    ).all()
    by_step: dict[int, list] = {}
    for st in statements:
        by_step.setdefault(st.step, []).append(st)
    reflections = s.exec(
        select(Reflection)
        .where(
            Reflection.participant_id == pid,
            Reflection.status.notin_((RecordingStatus.DISCARDED, RecordingStatus.EMPTY)),
        )
        .order_by(Reflection.id)
    ).all()
    commitments = [
        {
            "c": c,
            "label": label_of(c),
            "kept_7d": scores.percent(scores.commitment_ratio(s, c, now, 7)),
            "kept_30d": scores.percent(scores.commitment_ratio(s, c, now, 30)),
        }
        for c in s.exec(
            select(Commitment).where(Commitment.participant_id == pid).order_by(Commitment.id)
        )
    ]
    attention = s.exec(
        select(AttentionItem)
        .where(AttentionItem.participant_id == pid, AttentionItem.resolved_at.is_(None))
        .order_by(AttentionItem.created_at.desc())
    ).all()
    checkins = s.exec(
        select(CheckIn)
        .where(CheckIn.participant_id == pid, CheckIn.due_at > now - RECENT_CHECKINS)
        .order_by(CheckIn.due_at.desc())
    ).all()
    results = results_of(s, [c.id for c in checkins])
    return {
        "p": p,
        "masked_phone": mask_phone(display_phone(p.phone, program.country if program else None)),
        "program": program,
        "partner": partner,
        "step_label": step_label(p.step),
        "messages": messages,  # newest first
        "older_than": messages[-1].id if older and messages else None,
        "paged": before is not None,
        "statements": [(step_label(step), by_step[step]) for step in sorted(by_step)],
        "reflections": reflections,
        "commitments": commitments,
        "attention": attention,
        "calendar": scores.calendar(s, p, now),
        "checkins": [
            {"c": c, "results": results.get(c.id, []), "partner": c.kind == CheckInKind.PARTNER}
            for c in checkins
        ],
        "kept_7d": scores.percent(scores.kept_ratio(s, p, now, 7)),
        "kept_30d": scores.percent(scores.kept_ratio(s, p, now, 30)),
    }
