"""The admin's home page: what needs attention first, then each program's trends.

* Needs attention: unresolved `AttentionItem`s (missed runs, HEADSUP, disagreements,
  undeliverable, opted out, ...) and inbound texts nobody matched, newest first, scoped to
  the facilitator's programs (unmatched texts to no known program number: admins only).
  "Resolve" is a POST (CSRF-checked by the admin guard) and 404s outside the scope.
* Trends: per program and ISO week, the response rate (answered / sent check-ins) and the
  kept ratio (the one score of core/checkin_rules.py: kept 1, partly ½, missed 0),
  drawn server-side as inline SVG (no script, no CDN, nothing the CSP must allow), each with
  a table as its text alternative.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import abort, flash, redirect, url_for
from flask_admin import expose
from flask_login import current_user

from admin.auth import AuthIndexView
from admin.base import visible_program_ids
from service.core.enums import AttentionKind, label
from service.models import (
    AttentionItem,
    Message,
    Participant,
    Program,
)
from service.program import attention, scores
from service.program import trends as program_figures
from service.unit_of_work import UnitOfWork

ATTENTION_LIMIT = 100
WEEKS = 12


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
            label=label("attention_kind", item.kind),
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
            kind=AttentionKind.UNMATCHED,
            label=AttentionKind.UNMATCHED.label,
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


def program_trends(db, services, now: datetime, weeks: int = WEEKS) -> list[dict]:
    """Each visible program with `weeks` Weeks (oldest first) of check-in figures, added up
    by the database (and kept a few minutes: service/program/trends.py)."""
    ids = visible_program_ids(db)
    programs = sa.select(Program).order_by(Program.name, Program.id)
    if ids is not None:
        programs = programs.where(Program.id.in_(ids))
    with services.sessions() as session:
        shown = list(session.scalars(programs))
        trends = program_figures.program_trends(services, session, shown, now, weeks)
    for trend in trends:
        trend["chart"] = chart({w.start: w for w in trend["weeks"]})
    return trends


# SVG geometry (the template draws it; every number here is ours, never user text).
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 560, 200, 40, 10, 10, 30


def chart(weeks: dict[date, scores.Week]) -> dict:
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


class DashboardView(AuthIndexView):
    @expose("/")
    def index(self):
        now = self.services.now()
        return self.render(
            "realign/dashboard.html",
            attention=attention_list(self.db),
            trends=program_trends(self.db, self.services, now),
            percent=scores.percent,
        )

    @expose("/attention/<int:item_id>/resolve", methods=("POST",))
    def resolve(self, item_id: int):
        with UnitOfWork(self.services) as uow:
            done = attention.resolve(
                uow, item_id, visible=visible_program_ids(self.db), actor=current_user.actor
            )
            if done is None:
                abort(404)
            uow.commit()
        if done:
            flash("Marked as resolved.", "success")
        return redirect(url_for("admin.index"))
