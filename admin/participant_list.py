"""The participants list a coach can scan: a "needs you" flag, what we wait for from each
person, their last reply as a time ago (the exact time, theirs, in a tooltip), a 14-day
strip of check-in dots with a legend, and test personas left out unless asked for.

The facts come from `service.program.roster` once for the page; these are the cells.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, request, url_for
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_babel import format_date
from markupsafe import Markup

from admin.i18n import _, lazy_, n_
from admin.times import local
from service.core.checkin_strip import Dot
from service.core.enums import AttentionKind
from service.core.local_time import Span, elapsed
from service.core.waiting_rules import WaitingOn
from service.models import Participant
from service.program.personas import persona_ids
from service.program.roster import RosterRow

WAITING_WORDS = {
    WaitingOn.CONSENT: lazy_("Their YES to the invitation"),
    WaitingOn.ANSWER: lazy_("Their answer to step %(step)s"),
    WaitingOn.REFLECTION: lazy_("Their spoken reflection (step 3)"),
    WaitingOn.AGREE: lazy_("Their AGREE to the commitments"),
    WaitingOn.CHECKIN: lazy_("Their check-in reply"),
    WaitingOn.NOTHING: lazy_("Nothing"),
}
DOT_WORDS = {
    Dot.KEPT: lazy_("kept"),
    Dot.PARTLY: lazy_("partly kept"),
    Dot.NOT_KEPT: lazy_("not kept"),
    Dot.NO_ANSWER: lazy_("no answer"),
    Dot.NONE: lazy_("no check-in"),
}
DOT = '<li class="dot dot-{state}" title="{title}"><span class="sr-only">{title}</span></li>'
DAY = "EEE d MMM"  # "Tue 3 Mar", in the facilitator's language
LEGEND_ORDER = (Dot.KEPT, Dot.PARTLY, Dot.NOT_KEPT, Dot.NO_ANSWER, Dot.NONE)


class Personas:
    """The values of the "Test personas" filter; without it they are hidden."""

    SHOWN = "shown"
    ONLY = "only"
    HIDDEN = "hidden"  # the list's default, never offered


class PersonaFilter(sqla_filters.BaseSQLAFilter):
    def __init__(self, column):
        super().__init__(
            column,
            lazy_("Test personas"),
            options=[
                (Personas.SHOWN, lazy_("Shown with everyone")),
                (Personas.ONLY, lazy_("Only test personas")),
            ],
        )

    def apply(self, query, value, alias=None):
        if value == Personas.SHOWN:
            return query
        # By id (the few personas, through the phone index): a page's rows are then found
        # in the sort's own index alone, without reading each row to ask its phone.
        personas = Participant.id.in_(persona_ids())
        return query.filter(personas if value == Personas.ONLY else sa.not_(personas))

    def operation(self):
        return lazy_("are")

    def validate(self, value):
        return value in (Personas.SHOWN, Personas.ONLY, Personas.HIDDEN)


def persona_filter_index(view) -> int:
    return next(i for i, f in enumerate(view._filters) if isinstance(f, PersonaFilter))


def with_personas_hidden(view, filters):
    """The list's filters, with "personas hidden" added unless the coach chose otherwise
    (noted in `g.personas_hidden` for the page's "show them" link)."""
    filters = list(filters or [])
    index = persona_filter_index(view)
    g.personas_hidden = not any(idx == index for idx, _name, _value in filters)
    if g.personas_hidden:
        filters.append((index, str(view._filters[index].name), Personas.HIDDEN))
    return filters


def show_personas_url(view) -> str:
    """This list as it is, test personas shown too."""
    args = {k: v for k, v in request.args.items() if k != "page"}
    args[f"flt{len(args)}_{persona_filter_index(view)}"] = Personas.SHOWN
    return url_for(".index_view", **args)


def row_of(pid: int) -> RosterRow:
    return g.get("roster", {}).get(pid) or RosterRow()


def needs_cell(view, context, model, name) -> Markup:
    kinds = row_of(model.id).needs
    if not kinds:
        return Markup("")
    why = ", ".join(AttentionKind(k).label if k in AttentionKind.values() else k for k in kinds)
    return Markup('<span class="badge badge-danger needs-me" title="{why}">{text}</span>').format(
        why=why, text=_("Needs you")
    )


def waiting_cell(view, context, model, name) -> Markup:
    waiting = row_of(model.id).waiting
    words = WAITING_WORDS[waiting]
    text = str(words) % {"step": model.step} if waiting is WaitingOn.ANSWER else str(words)
    css = "text-muted" if waiting is WaitingOn.NOTHING else ""
    return Markup('<span class="waiting-on {css}">{text}</span>').format(css=css, text=text)


def ago(count: int, span: Span) -> str:
    if span is Span.NOW:
        return _("just now")
    words = {
        Span.MINUTE: n_("%(num)s minute ago", "%(num)s minutes ago", count),
        Span.HOUR: n_("%(num)s hour ago", "%(num)s hours ago", count),
        Span.DAY: n_("%(num)s day ago", "%(num)s days ago", count),
        Span.WEEK: n_("%(num)s week ago", "%(num)s weeks ago", count),
        Span.MONTH: n_("%(num)s month ago", "%(num)s months ago", count),
        Span.YEAR: n_("%(num)s year ago", "%(num)s years ago", count),
    }
    return words[span]


def last_reply_cell(view, context, model, name) -> Markup:
    at = model.last_inbound_at
    if at is None:
        return Markup('<span class="text-muted last-reply">{}</span>').format(_("never"))
    now = g.roster_now
    exact = _("%(when)s, their time", when=local(at, model.timezone, now))
    return Markup('<time class="last-reply" datetime="{iso}" title="{exact}">{ago}</time>').format(
        iso=at.isoformat(timespec="seconds"), exact=exact, ago=ago(*elapsed(at, now))
    )


def strip_cell(view, context, model, name) -> Markup:
    row = row_of(model.id)
    dots = Markup("").join(
        Markup(DOT).format(state=dot.value, title=f"{format_date(day, DAY)}: {DOT_WORDS[dot]}")
        for day, dot in row.strip
    )  # fmt: skip
    kept = (
        _("%(percent)s kept", percent=f"{round(row.kept * 100)}%")
        if row.kept is not None
        else _("nothing to count yet")
    )
    return Markup(
        '<ul class="dot-strip" aria-label="{label}">{dots}</ul>'
        '<span class="small text-muted strip-kept">{kept}</span>'
    ).format(label=_("Check-ins, last 14 days"), dots=dots, kept=kept)


def legend() -> Markup:
    """What each dot means, shown once above the list."""
    items = Markup("").join(
        Markup('<li><span class="dot dot-{state}" aria-hidden="true"></span> {words}</li>').format(
            state=dot.value, words=DOT_WORDS[dot]
        )
        for dot in LEGEND_ORDER
    )
    return Markup(
        '<div class="strip-legend small text-muted" id="strip-legend">'
        "{title} <ul>{items}</ul></div>"
    ).format(title=_("Check-ins, last 14 days (their days, oldest first):"), items=items)
