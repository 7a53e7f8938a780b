"""Times as the signed-in facilitator reads them: in their own zone (Facilitator.timezone),
in words ("today 7:02 pm"), with the exact UTC instant in a tooltip.

`when` is the `|yourtime` filter of the admin's templates; `format_local` is the same for
a model view's datetime columns (`LOCAL_TIMES`, `LOCAL_TIMES_DETAIL`)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import g, has_request_context
from flask_admin.model import typefmt
from flask_login import current_user
from markupsafe import Markup, escape

from admin.i18n import _, admin_language
from service.core import local_time
from service.core.local_time import utc_title
from service.services import current


def words() -> local_time.Words:
    """The words of a time in the facilitator's language (made once a request)."""
    if not has_request_context():
        return local_time.ENGLISH
    kept = getattr(g, "time_words", None)
    language = admin_language()
    if kept is None or kept[0] != language:
        made = local_time.Words(
            today=_("today"),
            yesterday=_("yesterday"),
            tomorrow=_("tomorrow"),
            weekday_names=(_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")),
            month_names=(
                _("Jan"),
                _("Feb"),
                _("Mar"),
                _("Apr"),
                _("May"),
                _("Jun"),
                _("Jul"),
                _("Aug"),
                _("Sep"),
                _("Oct"),
                _("Nov"),
                _("Dec"),
            ),  # fmt: skip
            am=_("am"),
            pm=_("pm"),
        )
        kept = g.time_words = (language, made)
    return kept[1]


def local(at: datetime, tz: str | None, now: datetime) -> str:
    """`local_time.local` in the facilitator's language."""
    return local_time.local(at, tz, now, words())


def viewer_zone() -> str | None:
    return getattr(current_user, "timezone", None) if current_user else None


def when(at: datetime | None, empty: str = "") -> Markup:
    """`at` in the viewer's zone, in words, inside a <time> with UTC as its title."""
    if at is None:
        return Markup(escape(empty))
    if at.tzinfo is None:  # SQLite and RQ hand back naive UTC
        at = at.replace(tzinfo=UTC)
    words = local(at, viewer_zone(), current().now())
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        at.astimezone(UTC).isoformat(timespec="seconds"), utc_title(at), words
    )


def format_local(view, value, name) -> Markup:
    return when(value)


LOCAL_TIMES = {**typefmt.BASE_FORMATTERS, datetime: format_local}
LOCAL_TIMES_DETAIL = {**typefmt.DETAIL_FORMATTERS, datetime: format_local}


def register(app) -> None:
    app.jinja_env.filters["yourtime"] = when
