"""A program's settings as the programs list and page show them: the cadence, waking
hours, country and options in words, in the facilitator's language."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from flask_babel import get_locale
from markupsafe import Markup, escape

from admin import times
from admin.i18n import _
from service.core import cadence_words
from service.core.options import DEFAULT_OPTIONS, OPTION_LABELS, option, parse_hhmm


def words() -> cadence_words.Words:
    told = times.words()  # the day names and am/pm, as every time in the admin has them
    return cadence_words.Words(
        daily=_("Every day at %(at)s", at="{at}"),
        weekdays=_("Weekdays (Mon–Fri) at %(at)s", at="{at}"),
        days=_("%(days)s at %(at)s", days="{days}", at="{at}"),
        every=_("Every %(n)s days at %(at)s", n="{n}", at="{at}"),
        weekday_names=told.weekday_names,
        am=told.am,
        pm=told.pm,
    )


def cadence_text(stored: str) -> str:
    """`daily@19:00` -> "Every day at 7:00 pm"."""
    return cadence_words.describe(stored, words())


def waking_time(stored: str | None) -> str:
    """`08:00` -> "8:00 am" (as stored when it is not a time)."""
    try:
        return cadence_words.clock(parse_hhmm(stored), words())
    except ValueError:
        return stored or ""


def country_name(code: str | None) -> str:
    """`US` -> "United States", in the facilitator's language."""
    if not code:
        return ""
    try:
        names = Locale.parse(str(get_locale() or "en")).territories
    except (UnknownLocaleError, ValueError):
        names = Locale("en").territories
    return names.get(code.upper(), code)


def option_value(value) -> str:
    """An option's value as people read it: Yes/No, "7, 30, 90", a number."""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or _("none")
    return str(value)


def options_summary(program) -> Markup:
    parts = [
        f"{escape(_(OPTION_LABELS[name]))}: {escape(option_value(option(program, name)))}"
        for name in DEFAULT_OPTIONS
    ]
    return Markup("<br>".join(parts))
