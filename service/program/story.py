"""Everything a facilitator's page about one participant shows, read in one session."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core import texts
from service.core.commitment_labels import label_of, listing_texts
from service.core.delivery_reasons import delivery
from service.core.enums import (
    OPEN_COMMITMENTS,
    CheckInKind,
    CheckInStatus,
    CommitmentStatus,
    RecordingStatus,
)
from service.core.headline import headline
from service.core.phones import display_phone
from service.core.redact import mask_phone
from service.core.segments import segment_info
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
from service.program import scores, thread

HISTORY_ROWS = 20  # check-ins in the history table (the newest; the export has them all)
THREAD_PAGE = 50  # texts shown at once on their page (a long history has thousands)


def step_label(step: int) -> str:
    return f"{step}. {texts.step_name(step)}"


def thread_page(
    s: Session, pid: int, before: int | None = None
) -> tuple[list[Message], bool, datetime | None]:
    """Their texts, newest first, THREAD_PAGE at a time: those before the text `before`
    (a message id: the last one of the page above), whether older ones remain, and the
    instant the page ends at (None for the newest page)."""
    query = select(Message).where(Message.participant_id == pid)
    mark = None
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
    return list(rows[:THREAD_PAGE]), len(rows) > THREAD_PAGE, mark


def participant_story(s: Session, pid: int, now: datetime, before: int | None = None) -> dict:
    p = s.get(Participant, pid)
    program = s.get(Program, p.program_id)
    partner = s.get(Participant, p.partner_id) if p.partner_id else None
    messages, older, until = thread_page(s, pid, before)
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
    mine = s.exec(
        select(Commitment)
        .where(Commitment.participant_id == pid)
        .order_by(Commitment.position, Commitment.id)
    ).all()
    commitments = [
        {
            "c": c,
            "label": label_of(c),
            "kept_7d": scores.percent(scores.commitment_ratio(s, c, now, 7)),
            "kept_30d": scores.percent(scores.commitment_ratio(s, c, now, 30)),
        }
        for c in mine
    ]
    by_id = {c.id: c for c in mine}
    attention = s.exec(
        select(AttentionItem)
        .where(AttentionItem.participant_id == pid, AttentionItem.resolved_at.is_(None))
        .order_by(AttentionItem.created_at.desc())
    ).all()
    raised_by = [a.message_id for a in attention if a.message_id is not None]
    said = (
        dict(s.exec(select(Message.id, Message.body).where(Message.id.in_(raised_by))).all())
        if raised_by
        else {}
    )
    history = s.exec(
        select(CheckIn)
        .where(CheckIn.participant_id == pid, CheckIn.due_at <= now)
        .order_by(CheckIn.due_at.desc(), CheckIn.id.desc())
        .limit(HISTORY_ROWS)
    ).all()
    history_total = s.exec(
        select(sa.func.count()).where(CheckIn.participant_id == pid, CheckIn.due_at <= now)
    ).one()
    answers = thread.checkin_answers(s, [c.id for c in history])
    thread.with_partner_commitments(s, by_id, history)
    waiting = next(
        (c for c in history if c.kind == CheckInKind.SELF and c.status == CheckInStatus.OPEN),
        None,
    )
    return {
        "p": p,
        "masked_phone": mask_phone(display_phone(p.phone, program.country if program else None)),
        "program": program,
        "partner": partner,
        "step_label": step_label(p.step),
        "messages": messages,  # newest first
        "delivery": {m.id: delivery(m.status, m.error_code) for m in messages},
        "thread": thread.thread(s, pid, messages, older, until, dict(by_id)),
        "headline": headline(p, now, waiting.sent_at or waiting.due_at if waiting else None),
        "older_than": messages[-1].id if older and messages else None,
        "paged": before is not None,
        "statements": [(step_label(step), by_step[step]) for step in sorted(by_step)],
        "reflections": reflections,
        "commitments": [row for row in commitments if row["c"].status in OPEN_COMMITMENTS],
        "retired": [row for row in commitments if row["c"].status not in OPEN_COMMITMENTS],
        "listing": listing(p, [c for c in mine if c.status == CommitmentStatus.ACTIVE]),
        "attention": attention,
        "said": said,  # the texts that raised attention items, by message id
        "calendar": scores.calendar(s, p, now),
        "history": [
            {
                "c": c,
                "partner": c.kind == CheckInKind.PARTNER,
                "answers": thread.labelled(c, answers.get(c.id, {}), by_id),
            }
            for c in history
        ],
        "history_total": history_total,
        "kept_7d": scores.percent(scores.kept_ratio(s, p, now, 7)),
        "kept_30d": scores.percent(scores.kept_ratio(s, p, now, 30)),
    }


def listing(p: Participant, active: list[Commitment]) -> dict | None:
    """How long the longest text that lists their labels is (the check-in, its nudge, the
    weekly summary, measured with the longest names): it must fit one text message."""
    if not active:
        return None
    infos = [
        segment_info(t) for t in listing_texts([label_of(c) for c in active], p.language).values()
    ]
    worst = max(infos, key=lambda i: i.units_used / (160 if i.encoding == "GSM-7" else 70))
    return {"used": worst.units_used, "limit": 160 if worst.encoding == "GSM-7" else 70}
