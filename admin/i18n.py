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

from service.core.enums import Language

DOMAIN = "realign_admin"
CATALOGS = Path(__file__).parent / "translations"
LANGUAGES = tuple(language.value for language in Language)

_ = gettext
lazy_ = lazy_gettext
n_ = ngettext


def admin_language() -> str:
    """The signed-in facilitator's own choice, else what their browser asks for."""
    chosen = getattr(current_user, "language", None) if current_user else None
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or Language.EN.value


def init_i18n(app) -> Babel:
    return Babel(
        app,
        default_domain=DOMAIN,
        default_translation_directories=str(CATALOGS),
        locale_selector=admin_language,
    )
