"""Today, the admin's home page: who needs me, what did they say, and how each program goes.

* Needs attention, grouped by person, the most urgent kinds first (core/attention_rules.py):
  unresolved, unsnoozed `AttentionItem`s scoped to the facilitator's programs, each with the
  first ~140 characters of the text that raised it (the whole text one click away) and a
  player for a new reflection (the participant page's audio route, which checks scope
  again). Resolve, snooze (until tomorrow, for a week) and undo are POSTs (CSRF-checked by
  the admin guard) that 404 outside the scope. Inbound texts nobody matched are listed
  apart (admins only see those sent to no known program number). Test personas never show.
* Each program: where its people are (a step funnel, each step a link to that filtered
  list), this week's check-in figures against last week's, and, once a program has two
  weeks of figures, the weekly chart (inline SVG, no script) with a table as its text
  alternative. All of it is added up by the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from admin.auth import AuthIndexView
from admin.base import visible_program_ids
from admin.i18n import _, label, lazy_, n_
from admin.times import local
from service.core import attention_rules
from service.core.attention_rules import Snooze
from service.core.enums import AttentionKind
from service.core.local_time import utc_title
from service.core.redirects import local_target
from service.models import (
    AttentionItem,
    Message,
    Participant,
    Program,
    Reflection,
)
from service.program import attention, scores
from service.program import funnel as program_funnel
from service.program import trends as program_figures
from service.program.personas import persona_ids
from service.unit_of_work import UnitOfWork

ATTENTION_LIMIT = 50  # the most urgent open items shown; the count says how many are open
HANDLED_LIMIT = 20
PARTICIPANT_PAGES = "/admin/participants/details/"  # where else resolve and snooze sit
WEEKS = 12
NEW_PROGRAM_WEEKS = 2  # fewer weeks with check-ins than this: no chart, this week's numbers


def participant_url(participant_id: int | None) -> str | None:
    """The participant page (the participants view's details page)."""
    if participant_id is None:
        return None
    return url_for("participants.details_view", id=participant_id)


@dataclass
class Said:
    """What the participant said that raised an item: its start, and all of it."""

    short: str
    full: str
    cut: bool


@dataclass
class Item:
    kind: str
    label: str
    at: datetime
    when: str  # in the participant's zone, in words
    exact: str  # UTC, for the tooltip
    detail: str
    item_id: int | None = None  # AttentionItem id (resolvable); None for unmatched texts
    said: Said | None = None
    audio_url: str | None = None
    duration_s: int | None = None
    snoozed_until: str = ""
    resolved: bool = False


@dataclass
class Person:
    """One participant's open items (or one unmatched text, with no participant)."""

    participant_id: int | None
    name: str
    program_name: str
    their_time: bool
    items: list[Item] = field(default_factory=list)
    sender: str = ""

    @property
    def url(self) -> str | None:
        return participant_url(self.participant_id)

    @property
    def urgency(self) -> int:
        return min(attention_rules.urgency(i.kind) for i in self.items)

    @property
    def newest(self) -> datetime:
        return max(i.at for i in self.items)


URGENCY = sa.case(
    {kind.value: attention_rules.urgency(kind) for kind in AttentionKind},
    value=AttentionItem.kind,
    else_=99,
)


def _scoped(query, ids: set[int] | None):
    """Only items of the facilitator's programs, and never a test persona's."""
    # The personas by their ids (a few, through the phone index): asking each joined
    # participant row made PostgreSQL join all of them to the open items first.
    query = query.where(
        sa.or_(
            AttentionItem.participant_id.is_(None),
            AttentionItem.participant_id.not_in(persona_ids()),
        )
    )
    if ids is not None:
        query = query.where(
            sa.or_(AttentionItem.program_id.in_(ids), Participant.program_id.in_(ids))
        )
    return query


def _items_query():
    return (
        sa.select(
            AttentionItem,
            Participant.name,
            Participant.timezone,
            Program.name,
            Message.body,
            Reflection.id,
            Reflection.storage_path,
            Reflection.duration_s,
        )
        .outerjoin(Participant, Participant.id == AttentionItem.participant_id)
        .outerjoin(
            Program,
            Program.id == sa.func.coalesce(AttentionItem.program_id, Participant.program_id),
        )
        .outerjoin(Message, Message.id == AttentionItem.message_id)
        .outerjoin(Reflection, Reflection.id == AttentionItem.reflection_id)
    )


def _item(row, now: datetime) -> tuple[Item, tuple]:
    item, pname, tz, prog, body, rid, stored, duration = row
    said = None
    if body:
        short, cut = attention_rules.excerpt(body)
        said = Said(short, body, cut)
    shown = Item(
        kind=item.kind,
        label=label("attention_kind", item.kind),
        at=item.created_at,
        when=local(item.created_at, tz, now),
        exact=utc_title(item.created_at),
        detail=item.detail,
        item_id=item.id,
        said=said,
        audio_url=url_for("participants.audio_view", id=rid) if rid and stored else None,
        duration_s=duration,
        snoozed_until=local(item.snoozed_until, tz, now) if item.snoozed_until else "",
        resolved=item.resolved_at is not None,
    )
    return shown, (item.participant_id, pname or "", prog or "", tz is not None)


def _open(query, now: datetime):
    return query.where(
        AttentionItem.resolved_at.is_(None),
        sa.or_(AttentionItem.snoozed_until.is_(None), AttentionItem.snoozed_until <= now),
    )


def open_count(db, now: datetime) -> int:
    """How many items are open on Today in all (more than are shown at a large practice)."""
    query = sa.select(sa.func.count(AttentionItem.id)).outerjoin(
        Participant, Participant.id == AttentionItem.participant_id
    )
    return db.scalar(_open(_scoped(query, visible_program_ids(db)), now)) or 0


def needs_attention(db, now: datetime, limit: int = ATTENTION_LIMIT) -> list[Person]:
    """The `limit` most urgent open items, one entry per person, the most urgent first."""
    ids = visible_program_ids(db)
    query = _open(_scoped(_items_query(), ids), now)
    query = query.order_by(URGENCY, AttentionItem.created_at.desc(), AttentionItem.id.desc())
    people: dict[object, Person] = {}
    for row in db.execute(query.limit(limit)):
        shown, (pid, name, prog, theirs) = _item(row, now)
        key = pid if pid is not None else ("item", shown.item_id)
        person = people.get(key)
        if person is None:
            person = people[key] = Person(pid, name, prog, theirs)
        person.items.append(shown)
    found = list(people.values()) + unmatched_texts(db, ids, now, limit)
    for person in found:
        person.items.sort(key=lambda i: (attention_rules.urgency(i.kind), -i.at.timestamp()))
    found.sort(key=lambda p: (p.urgency, -p.newest.timestamp()))
    return found


def unmatched_texts(db, ids: set[int] | None, now: datetime, limit: int) -> list[Person]:
    texts = (
        sa.select(Message, Program.name, Program.timezone)
        .outerjoin(Program, Program.id == Message.program_id)
        .where(Message.direction == "in", Message.participant_id.is_(None))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    )
    if ids is not None:
        texts = texts.where(Message.program_id.in_(ids))
    found = []
    for message, prog, tz in db.execute(texts):
        short, cut = attention_rules.excerpt(message.body)
        item = Item(
            kind=AttentionKind.UNMATCHED,
            label=label("attention_kind", AttentionKind.UNMATCHED),
            at=message.created_at,
            when=local(message.created_at, tz, now),
            exact=utc_title(message.created_at),
            detail="",
            said=Said(short, message.body, cut) if message.body else None,
        )
        found.append(Person(None, "", prog or "", False, [item], sender=mask(message.from_number)))
    return found


def handled(db, now: datetime, limit: int = HANDLED_LIMIT) -> tuple[list[Item], list[Item]]:
    """Items snoozed for later, and items resolved in the last day: each can be undone."""
    ids = visible_program_ids(db)
    snoozed = _scoped(_items_query(), ids).where(
        AttentionItem.resolved_at.is_(None), AttentionItem.snoozed_until > now
    )
    resolved = _scoped(_items_query(), ids).where(
        AttentionItem.resolved_at >= now - timedelta(days=1)
    )

    def rows(query, order):
        found = []
        for row in db.execute(query.order_by(order).limit(limit)):
            shown, (_, name, _, _) = _item(row, now)
            shown.detail = name or shown.detail
            found.append(shown)
        return found

    return (
        rows(snoozed, AttentionItem.snoozed_until),
        rows(resolved, AttentionItem.resolved_at.desc()),
    )


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
        funnels = program_funnel.funnels(session, [p.id for p in shown])
        counts = program_funnel.counts(funnels)
        trends = program_figures.program_trends(services, session, shown, now, weeks, counts)
    for trend in trends:
        trend["chart"] = chart({w.start: w for w in trend["weeks"]})
        trend["funnel"] = funnel_rows(trend["program"].id, funnels[trend["program"].id])
        trend["week"] = this_week(trend["weeks"])
        trend["new"] = sum(1 for w in trend["weeks"] if w.sent) < NEW_PROGRAM_WEEKS
    return trends


def list_url(program_id: int, step: int | None = None, status: str | None = None) -> str:
    """The participants list filtered to one program (and one step, or one status): the
    filters of admin/participants.py, in the order they are declared."""
    args = {"flt0_0": program_id}
    if step is not None:
        args["flt1_1"] = step
    if status is not None:
        args["flt1_2"] = status
    return url_for("participants.index_view", **args)


def funnel_rows(program_id: int, funnel: program_funnel.Funnel) -> list[dict]:
    """Invited, each step, closed: how many, and how wide a bar (of the widest)."""
    rows = [(_("Invited"), funnel.invited, list_url(program_id, status="invited"))]
    rows += [
        (label("step", step), count, list_url(program_id, step=step))
        for step, count in sorted(funnel.steps.items())
    ]
    rows.append((_("Closed"), funnel.closed, list_url(program_id, status="closed")))
    widest = max([count for _, count, _ in rows] + [1])
    return [
        {"label": name, "count": count, "url": url, "width": round(100 * count / widest)}
        for name, count, url in rows
    ]


def _change(now_value: float | None, before: float | None) -> dict | None:
    """This week against last, in percentage points: 'up 12 points', 'no change'."""
    if now_value is None or before is None:
        return None
    points = round((now_value - before) * 100)
    if points == 0:
        return {"sign": "same", "text": _("same as last week")}
    if points > 0:
        text = n_("up %(num)d point on last week", "up %(num)d points on last week", points)
        return {"sign": "up", "text": text}
    text = n_("down %(num)d point on last week", "down %(num)d points on last week", -points)
    return {"sign": "down", "text": text}


def this_week(weeks: list[scores.Week]) -> dict:
    """This week's check-ins sent and answered, response rate and kept ratio, each with
    its change since last week."""
    current = weeks[-1] if weeks else scores.Week(date.today())
    before = weeks[-2] if len(weeks) > 1 else None
    return {
        "sent": current.sent,
        "answered": current.answered,
        "response": scores.percent(current.response_rate),
        "kept": scores.percent(current.kept),
        "response_change": _change(current.response_rate, before and before.response_rate),
        "kept_change": _change(current.kept, before and before.kept),
        "last_sent": before.sent if before else 0,
    }


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


# The snooze buttons, in the facilitator's language.
SNOOZE_BUTTONS = {
    Snooze.TOMORROW: lazy_("Snooze until tomorrow"),
    Snooze.NEXT_WEEK: lazy_("Snooze for a week"),
}


class DashboardView(AuthIndexView):
    @expose("/")
    def index(self):
        now = self.services.now()
        snoozed, resolved = handled(self.db, now)
        people = needs_attention(self.db, now)
        shown = sum(len(p.items) for p in people)
        unmatched = sum(1 for p in people if p.sender)
        return self.render(
            "realign/dashboard.html",
            people=people,
            open_count=max(open_count(self.db, now) + unmatched, shown),
            shown_count=shown,
            snoozed=snoozed,
            resolved=resolved,
            snoozes=[(choice.value, SNOOZE_BUTTONS[choice]) for choice in Snooze],
            trends=program_trends(self.db, self.services, now),
            percent=scores.percent,
        )

    def _act(self, act, item_id: int, **kw):
        with UnitOfWork(self.services) as uow:
            done = act(
                uow, item_id, visible=visible_program_ids(self.db), actor=current_user.actor, **kw
            )
            if done is None:
                abort(404)
            uow.commit()
        return done

    @staticmethod
    def _back():
        """Back where the button was: Today, or the participant's page it sits on too."""
        page = local_target(request.form.get("next"), PARTICIPANT_PAGES)
        return redirect(page or url_for("admin.index"))

    @expose("/attention/<int:item_id>/resolve", methods=("POST",))
    def resolve(self, item_id: int):
        if self._act(attention.resolve, item_id):
            flash(_("Marked as resolved. You can undo it under “Handled”."), "success")
        return self._back()

    @expose("/attention/<int:item_id>/snooze", methods=("POST",))
    def snooze(self, item_id: int):
        choice = request.form.get("until", "")
        if choice not in Snooze.values():
            flash(_("Choose how long to snooze it: until tomorrow, or for a week."), "error")
            return self._back()
        self._act(attention.snooze, item_id, choice=choice)
        if choice == Snooze.TOMORROW:
            done = _("Snoozed: back on Today tomorrow morning. You can undo it under “Handled”.")
        else:
            done = _("Snoozed: back on Today in a week. You can undo it under “Handled”.")
        flash(done, "success")
        return self._back()

    @expose("/attention/<int:item_id>/reopen", methods=("POST",))
    def reopen(self, item_id: int):
        if self._act(attention.reopen, item_id):
            flash(_("Back on Today."), "success")
        return redirect(url_for("admin.index"))
