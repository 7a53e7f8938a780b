"""The admin's home page: what needs attention first, then each program's trends.

* Needs attention: unresolved `AttentionItem`s (missed runs, HEADSUP, disagreements,
  undeliverable, opted out, ...) and inbound texts nobody matched, newest first, scoped to
  the facilitator's programs (unmatched texts to no known program number: admins only).
  "Resolve" is a POST (CSRF-checked by the admin guard) and 404s outside the scope.
* Trends: per program and ISO week, the response rate (answered / sent check-ins) and the
  kept ratio (kept = 1, partly = ½, missed or unanswered = 0, as `checkins.kept_ratio`),
  drawn server-side as inline SVG (no script, no CDN, nothing the CSP must allow), each with
  a table as its text alternative.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import abort, flash, redirect, url_for
from flask_admin import expose
from flask_login import current_user

from admin.auth import AuthIndexView
from admin.base import visible_program_ids
from service.models import (
    AttentionItem,
    CheckIn,
    CheckInAnswer,
    Message,
    Participant,
    Program,
)
from service.program import audit

ATTENTION_LIMIT = 100
WEEKS = 12
SCORE = {"kept": 1.0, "partly": 0.5, "missed": 0.0}
KIND_LABELS = {
    "opted_out": "Opted out",
    "undeliverable": "Undeliverable",
    "headsup": "HEADSUP: a promise at risk",
    "missed_run": "Missed check-ins in a row",
    "disagreement": "Partners disagree",
    "paused": "Paused",
    "commitment_change": "Asks to change a commitment",
    "call_requested": "Asked for a call",
    "reflection": "New reflection",
    "unmatched": "Text from an unknown number",
}


def participant_url(participant_id: int | None) -> str | None:
    """The participant page (the participants view's details page)."""
    if participant_id is None:
        return None
    return url_for("participants.details_view", id=participant_id)


@dataclass
class Attention:
    kind: str
    label: str
    at: datetime
    detail: str
    participant_id: int | None
    participant_name: str
    program_name: str
    item_id: int | None = None  # AttentionItem id (resolvable); None for unmatched texts
    sender: str = ""

    @property
    def url(self) -> str | None:
        return participant_url(self.participant_id)


def attention_list(db, limit: int = ATTENTION_LIMIT) -> list[Attention]:
    ids = visible_program_ids(db)
    items = (
        sa.select(AttentionItem, Participant.name, Program.name)
        .outerjoin(Participant, Participant.id == AttentionItem.participant_id)
        .outerjoin(
            Program,
            Program.id == sa.func.coalesce(AttentionItem.program_id, Participant.program_id),
        )
        .where(AttentionItem.resolved_at.is_(None))
        .order_by(AttentionItem.created_at.desc(), AttentionItem.id.desc())
        .limit(limit)
    )
    if ids is not None:
        items = items.where(
            sa.or_(AttentionItem.program_id.in_(ids), Participant.program_id.in_(ids))
        )
    rows = [
        Attention(
            kind=item.kind,
            label=KIND_LABELS.get(item.kind, item.kind.replace("_", " ").capitalize()),
            at=item.created_at,
            detail=item.detail,
            participant_id=item.participant_id,
            participant_name=pname or "",
            program_name=prog or "",
            item_id=item.id,
        )
        for item, pname, prog in db.execute(items)
    ]
    texts = (
        sa.select(Message, Program.name)
        .outerjoin(Program, Program.id == Message.program_id)
        .where(Message.direction == "in", Message.participant_id.is_(None))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    )
    if ids is not None:
        texts = texts.where(Message.program_id.in_(ids))
    rows += [
        Attention(
            kind="unmatched",
            label=KIND_LABELS["unmatched"],
            at=message.created_at,
            detail=message.body,
            participant_id=None,
            participant_name="",
            program_name=prog or "",
            sender=mask(message.from_number),
        )
        for message, prog in db.execute(texts)
    ]
    rows.sort(key=lambda a: a.at, reverse=True)
    return rows[:limit]


def mask(number: str) -> str:
    from service.core.redact import mask_phone

    return mask_phone(number or "")


# Trends -----------------------------------------------------------------------------------


@dataclass
class Week:
    start: date
    sent: int = 0
    answered: int = 0
    points: float = 0.0
    total: int = 0

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.sent if self.sent else None

    @property
    def kept(self) -> float | None:
        return self.points / self.total if self.total else None


def week_start(instant: datetime) -> date:
    day = instant.date()
    return day - timedelta(days=day.weekday())


def program_trends(db, now: datetime, weeks: int = WEEKS) -> list[dict]:
    """Each visible program with `weeks` Weeks (oldest first) of check-in figures."""
    ids = visible_program_ids(db)
    programs = sa.select(Program).order_by(Program.name, Program.id)
    if ids is not None:
        programs = programs.where(Program.id.in_(ids))
    programs = list(db.scalars(programs))
    first = week_start(now) - timedelta(weeks=weeks - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)
    by_program: dict[int, dict[date, Week]] = {
        p.id: {first + timedelta(weeks=i): Week(first + timedelta(weeks=i)) for i in range(weeks)}
        for p in programs
    }
    if not programs:
        return []
    checkins = db.execute(
        sa.select(CheckIn, Participant.program_id)
        .join(Participant, Participant.id == CheckIn.participant_id)
        .where(
            Participant.program_id.in_(list(by_program)),
            CheckIn.kind == "self",
            CheckIn.due_at >= since,
            CheckIn.sent_at.is_not(None),
        )
    ).all()
    answers: dict[int, list[str]] = defaultdict(list)
    if checkins:
        for cid, result in db.execute(
            sa.select(CheckInAnswer.checkin_id, CheckInAnswer.result).where(
                CheckInAnswer.checkin_id.in_([c.id for c, _ in checkins])
            )
        ):
            answers[cid].append(result)
    for checkin, program_id in checkins:
        week = by_program[program_id].get(week_start(checkin.due_at))
        if week is None:
            continue
        week.sent += 1
        if checkin.answered_at is not None or checkin.status == "answered":
            week.answered += 1
        results = answers.get(checkin.id, [])
        week.points += sum(SCORE.get(r, 0.0) for r in results)
        week.total += len(results)
        if checkin.status == "missed":
            week.total += len(checkin.commitment_ids or [])
    active = sa.func.sum(sa.case((Participant.status == "active", 1), else_=0))
    counts = {
        pid: (n, a or 0)
        for pid, n, a in db.execute(
            sa.select(Participant.program_id, sa.func.count(Participant.id), active)
            .where(Participant.program_id.in_(list(by_program)))
            .group_by(Participant.program_id)
        )
    }
    return [
        {
            "program": p,
            "participants": counts.get(p.id, (0, 0))[0],
            "active": counts.get(p.id, (0, 0))[1],
            "weeks": list(by_program[p.id].values()),
            "chart": chart(by_program[p.id]),
        }
        for p in programs
    ]


# SVG geometry (the template draws it; every number here is ours, never user text).
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 560, 200, 40, 10, 10, 30


def chart(weeks: dict[date, Week]) -> dict:
    values = list(weeks.values())
    n = len(values)
    step = (WIDTH - LEFT - RIGHT) / max(n - 1, 1)

    def x(i: int) -> float:
        return round(LEFT + i * step, 1)

    def y(v: float) -> float:
        return round(TOP + (1 - v) * (HEIGHT - TOP - BOTTOM), 1)

    def series(attr: str) -> dict:
        points = [
            (x(i), y(getattr(w, attr)))
            for i, w in enumerate(values)
            if getattr(w, attr) is not None
        ]
        return {"points": " ".join(f"{px},{py}" for px, py in points), "dots": points}

    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "grid": [{"y": y(v), "label": f"{int(v * 100)}%"} for v in (0, 0.25, 0.5, 0.75, 1)],
        "labels": [
            {"x": x(i), "text": w.start.strftime("%d %b")}
            for i, w in enumerate(values)
            if i % 2 == 0
        ],
        "axis_y": HEIGHT - BOTTOM,
        "response": series("response_rate"),
        "kept": series("kept"),
        "empty": not any(w.sent for w in values),
    }


def percent(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


class DashboardView(AuthIndexView):
    @expose("/")
    def index(self):
        now = self.services.now()
        return self.render(
            "realign/dashboard.html",
            attention=attention_list(self.db),
            trends=program_trends(self.db, now),
            percent=percent,
        )

    @expose("/attention/<int:item_id>/resolve", methods=("POST",))
    def resolve(self, item_id: int):
        ids = visible_program_ids(self.db)
        query = (
            sa.select(AttentionItem)
            .outerjoin(Participant, Participant.id == AttentionItem.participant_id)
            .where(AttentionItem.id == item_id)
        )
        if ids is not None:
            query = query.where(
                sa.or_(AttentionItem.program_id.in_(ids), Participant.program_id.in_(ids))
            )
        item = self.db.scalars(query).one_or_none()
        if item is None:
            abort(404)
        if item.resolved_at is None:
            now = self.services.now()
            item.resolved_at = now
            audit.record(
                self.db,
                current_user.actor,
                "attention.resolve",
                item,
                now=now,
                detail={"kind": item.kind},
            )
            self.db.commit()
            flash("Marked as resolved.", "success")
        return redirect(url_for("admin.index"))
