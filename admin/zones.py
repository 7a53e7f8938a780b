"""One searchable time-zone picker for every admin form that takes a zone (program,
participant, facilitator, My account): a text input with the zones in a datalist (type a
city, pick it), checked on the server against zoneinfo with the error beside the field."""

from __future__ import annotations

import functools
import zoneinfo

from markupsafe import Markup
from wtforms import StringField, widgets
from wtforms.validators import StopValidation

from admin.i18n import _
from service.core import schedule


@functools.cache
def zone_names() -> tuple[str, ...]:
    """Every zone a person lives in (Region/City, and UTC), sorted."""
    return tuple(sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC"))


def place(zone: str) -> str:
    """How a person looks for a zone: "America/Argentina/Buenos_Aires" → "Buenos Aires,
    America / Argentina"."""
    region, _sep, city = zone.rpartition("/")
    city = city.replace("_", " ")
    return f"{city}, {region.replace('/', ' / ')}" if region else city


@functools.cache
def datalist_options() -> Markup:
    return Markup("").join(
        Markup('<option value="{}">{}</option>').format(z, place(z)) for z in zone_names()
    )


class ZoneInput(widgets.TextInput):
    def __call__(self, field, **kwargs):
        list_id = f"{field.id}-zones"
        kwargs.setdefault("list", list_id)
        kwargs.setdefault("autocomplete", "off")
        kwargs.setdefault("spellcheck", "false")
        kwargs.setdefault("placeholder", _("Type a city, e.g. New York"))
        kwargs["class"] = f"{kwargs.pop('class', '') or kwargs.pop('class_', '')} zone-picker"
        return Markup(super().__call__(field, **kwargs)) + Markup(
            '<datalist id="{}">{}</datalist>'
        ).format(list_id, datalist_options())


class ZoneField(StringField):
    """A time zone, stripped and checked; empty is left to the form's own rule."""

    widget = ZoneInput()

    def pre_validate(self, form):
        text = (self.data or "").strip()
        self.data = text
        if not text:
            return
        try:
            self.data = schedule.validate_tz(text)
        except ValueError:
            raise StopValidation(
                _(
                    "%(zone)s is not a time zone we know: type a city and pick it from the "
                    "list (e.g. America/New_York).",
                    zone=text[:64],
                )
            ) from None
