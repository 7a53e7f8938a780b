"""The admin's own words, translated per facilitator through Flask-Babel.

Our strings live in their own gettext domain (`realign_admin`, catalogs under
admin/translations/); Flask-Admin's strings stay in the catalogs it ships (its own domain), so
the two never collide. `_` for text built during a request, `lazy_` for labels defined at
import (menu names, form labels), which are only turned into words when shown.
"""

from __future__ import annotations

from pathlib import Path

from flask import request
from flask_babel import Babel, gettext, lazy_gettext, ngettext
from flask_login import current_user

from service.core import enums
from service.core.enums import Language

DOMAIN = "realign_admin"
CATALOGS = Path(__file__).parent / "translations"
LANGUAGES = tuple(language.value for language in Language)

_ = gettext
lazy_ = lazy_gettext
n_ = ngettext


def label(kind: str, value) -> str:
    """`enums.label` in the facilitator's language: the labels are marked `N_()` in the core
    (so Babel finds them) and translated here, when shown. A step reads "3. Escuchar a fondo"."""
    if kind == "step":
        try:
            step = enums.Step(int(value))
        except (TypeError, ValueError):
            return enums.label(kind, value)
        return f"{step.value}. {gettext(enums.STEP_LABELS[step])}"
    text = enums.label(kind, value)
    return gettext(text) if text else ""


def language_choices() -> list[tuple[str, str]]:
    """What a facilitator may choose for their screens: each language named in itself, or
    none (their browser's)."""
    return [("", gettext("As my browser asks"))] + [(lang.value, lang.label) for lang in Language]


def admin_language() -> str:
    """The signed-in facilitator's own choice, else what their browser asks for: a saved
    choice wins over the browser's Accept-Language."""
    chosen = getattr(current_user, "language", None) if current_user else None
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or Language.EN.value


class AdminCatalogMissing(RuntimeError):
    """A language's compiled admin catalog is not there (Flask-Babel would quietly show English)."""


def check_catalogs() -> None:
    for lang in LANGUAGES:
        if lang == Language.EN.value:
            continue
        mo = CATALOGS / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if not mo.is_file():
            raise AdminCatalogMissing(
                f"The {lang!r} admin catalog is not compiled ({mo} is missing). Run "
                f"`make install`, or `pybabel compile -d admin/translations -D {DOMAIN}`."
            )


def init_i18n(app) -> Babel:
    check_catalogs()
    return Babel(
        app,
        default_domain=DOMAIN,
        default_translation_directories=str(CATALOGS),
        locale_selector=admin_language,
    )
