"""A participant's thread as their page shows it: a page of texts, newest first, with the
system's lines among them (step and status changes, calls, check-in results, commitment
changes) from what is recorded: audit events, calls and check-ins. A few statements a
page, whatever its length: one per source, each bounded to the page's time window."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core.commitment_labels import label_of
from service.core.enums import CheckInKind, CheckInStatus
from service.core.thread_events import (
    AUDITED,
    Answer,
    Entry,
    Line,
    answers,
    call_line,
    checkin_line,
    merged,
)
from service.models import (
    AuditEvent,
    Call,
    CheckIn,
    CheckInAnswer,
    Commitment,
    Facilitator,
    Message,
)

LINES_PER_SOURCE = 200  # a window of one page of texts never holds more of each
FACILITATOR_ACTOR = "facilitator:"


@dataclass
class ThreadLine:
    line: Line
    at: datetime
    who: str = ""  # the facilitator who did it (empty: the participant or the system)
    step: int | None = None
    outcome: str | None = None
    label: str = ""  # the commitment it is about
    call_status: str = ""
    partner: bool = False  # a check-in about their partner
    answers: list[tuple[str, Answer]] = field(default_factory=list)
    is_line: bool = True


@dataclass
class Window:
    """The instants a page of texts spans: [since, until) (None: open-ended)."""

    since: datetime | None
    until: datetime | None

    def clause(self, column):
        parts = []
        if self.since is not None:
            parts.append(column >= self.since)
        if self.until is not None:
            parts.append(column < self.until)
        return sa.and_(sa.true(), *parts)


def facilitator_names(s: Session, actors) -> dict[str, str]:
    ids = {
        int(a.removeprefix(FACILITATOR_ACTOR))
        for a in actors
        if a.startswith(FACILITATOR_ACTOR) and a.removeprefix(FACILITATOR_ACTOR).isdigit()
    }
    if not ids:
        return {}
    rows = s.exec(select(Facilitator.id, Facilitator.name).where(Facilitator.id.in_(ids)))
    return {f"{FACILITATOR_ACTOR}{fid}": name for fid, name in rows}


def audit_lines(s: Session, pid: int, commitments: dict[int, Commitment], window: Window):
    about = sa.and_(AuditEvent.entity == "participant", AuditEvent.entity_id == pid)
    commitments = {i: c for i, c in commitments.items() if c.participant_id == pid}
    if commitments:
        about = sa.or_(
            about,
            sa.and_(AuditEvent.entity == "commitment", AuditEvent.entity_id.in_(commitments)),
        )
    events = s.exec(
        select(AuditEvent)
        .where(about, AuditEvent.action.in_(AUDITED), window.clause(AuditEvent.at))
        .order_by(AuditEvent.at.desc())
        .limit(LINES_PER_SOURCE)
    ).all()
    names = facilitator_names(s, {e.actor for e in events})
    lines = []
    for e in events:
        detail = e.detail or {}
        c = commitments.get(e.entity_id) if e.entity == "commitment" else None
        lines.append(
            ThreadLine(
                AUDITED[e.action],
                e.at,
                who=names.get(e.actor, ""),
                step=detail.get("step"),
                outcome=detail.get("outcome"),
                label=label_of(c) if c is not None else "",
            )
        )
    return lines


def call_lines(s: Session, pid: int, window: Window):
    calls = s.exec(
        select(Call)
        .where(Call.participant_id == pid, window.clause(Call.created_at))
        .order_by(Call.created_at.desc())
        .limit(LINES_PER_SOURCE)
    ).all()
    lines = []
    for call in calls:
        kind = call_line(call.direction, call.status)
        if kind is not None:
            lines.append(ThreadLine(kind, call.created_at, call_status=call.status))
    return lines


def checkin_answers(s: Session, checkin_ids) -> dict[int, dict[int, str]]:
    """Each check-in's result per commitment, in one query."""
    found: dict[int, dict[int, str]] = {}
    if checkin_ids:
        rows = s.exec(
            select(CheckInAnswer.checkin_id, CheckInAnswer.commitment_id, CheckInAnswer.result)
            .where(CheckInAnswer.checkin_id.in_(list(checkin_ids)))
        )  # fmt: skip
        for checkin_id, commitment_id, result in rows:
            found.setdefault(checkin_id, {})[commitment_id] = result
    return found


def with_partner_commitments(s: Session, commitments: dict[int, Commitment], checkins):
    """The commitments these check-ins asked about (a partner check-in asks about the
    partner's), those not held yet read in one query."""
    wanted = {i for c in checkins for i in (c.commitment_ids or [])} - set(commitments)
    if wanted:
        for c in s.exec(select(Commitment).where(Commitment.id.in_(wanted))):
            commitments[c.id] = c
    return commitments


def labelled(checkin: CheckIn, results: dict[int, str], commitments: dict[int, Commitment]):
    return [
        (label_of(commitments[cid]) if cid in commitments else "", answer)
        for cid, answer in answers(checkin.status, checkin.commitment_ids or [], results)
    ]


def result_at(checkin: CheckIn) -> datetime:
    return checkin.answered_at or checkin.closes_at or checkin.due_at


def checkin_lines(s: Session, pid: int, commitments: dict[int, Commitment], window: Window):
    at = sa.func.coalesce(CheckIn.answered_at, CheckIn.closes_at, CheckIn.due_at)
    checkins = s.exec(
        select(CheckIn)
        .where(
            CheckIn.participant_id == pid,
            CheckIn.status.in_((CheckInStatus.ANSWERED, CheckInStatus.MISSED)),
            window.clause(at),
        )
        .order_by(at.desc())
        .limit(LINES_PER_SOURCE)
    ).all()
    results = checkin_answers(s, [c.id for c in checkins])
    with_partner_commitments(s, commitments, checkins)
    return [
        ThreadLine(
            checkin_line(c.status),
            result_at(c),
            partner=c.kind == CheckInKind.PARTNER,
            answers=labelled(c, results.get(c.id, {}), commitments),
        )
        for c in checkins
    ]


def thread(
    s: Session,
    pid: int,
    messages: list[Message],
    older: bool,
    until: datetime | None,
    commitments: dict[int, Commitment],
) -> list:
    """The page's texts (newest first) with the lines of the same span among them."""
    window = Window(messages[-1].created_at if older and messages else None, until)
    lines = [
        *audit_lines(s, pid, commitments, window),
        *call_lines(s, pid, window),
        *checkin_lines(s, pid, commitments, window),
    ]
    return merged(messages, [Entry(line.at, 1, line) for line in lines])
