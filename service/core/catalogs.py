"""The participant copy in other languages, read from gettext catalogs.

One source of truth for each language: the English is written in the source
(service/core/texts.py, service/core/spoken.py), where the rules that depend on it (one SMS
segment, GSM-7, the keywords) are tested beside it; it is the msgid. Every other language
lives in a gettext catalog, `catalogs/<lang>/LC_MESSAGES/participant.po`, which translators
edit with ordinary tools (Poedit, Weblate, a text editor). The msgctxt of each entry is the
text's key, so two texts with the same English never share a translation:

- a written text: its key (`invite`, `ack_statement_2`);
- a spoken text: `spoken.<key>` (`spoken.greeting`);
- a step name: `step_name.<n>` (`step_name.3`).

`make catalogs` writes the template (participant.pot, not kept in git: it is made from the
source) and merges it into each .po; `make install` compiles each .po to the .mo read here.

Reading a catalog is the only I/O in the core: it happens once per language, lazily, on the
first text in that language (never at import), from the package's own files. A language
whose compiled catalog is missing raises `CatalogMissing` rather than falling back to
English; the composition root asks for every catalog at start-up (`check_catalogs`), so a
deployment without them fails at once, with the command that builds them.
"""

from __future__ import annotations

import gettext
import threading
from collections.abc import Callable, Iterator, Mapping
from importlib import resources

from service.core.enums import Language

DOMAIN = "participant"
SOURCE_LANGUAGE = Language.EN.value
TRANSLATED = tuple(lang.value for lang in Language if lang.value != SOURCE_LANGUAGE)
CATALOG_DIR = "catalogs"
SPOKEN_CONTEXT = "spoken."
STEP_CONTEXT = "step_name."


class CatalogMissing(RuntimeError):
    """A language's compiled catalog is not there: the .po was never compiled."""


def catalog_file(lang: str, suffix: str = ".mo"):
    """The catalog of `lang` inside the package (a Traversable)."""
    return resources.files(__package__) / CATALOG_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


class _Untranslated(gettext.NullTranslations):
    """The fallback that says "no entry" instead of handing back the English."""

    def pgettext(self, context, message):
        return None


_lock = threading.Lock()
_loaded: dict[str, gettext.GNUTranslations] = {}


def _translations(lang: str) -> gettext.GNUTranslations:
    found = _loaded.get(lang)
    if found is not None:
        return found
    with _lock:
        if lang not in _loaded:
            mo = catalog_file(lang)
            try:
                with mo.open("rb") as handle:
                    catalog = gettext.GNUTranslations(handle)
            except FileNotFoundError:
                raise CatalogMissing(
                    f"The {lang!r} participant texts are not compiled ({mo} is missing). "
                    "Run `make install`, or `pybabel compile -d service/core/catalogs "
                    f"-D {DOMAIN}`."
                ) from None
            catalog.add_fallback(_Untranslated())
            _loaded[lang] = catalog
    return _loaded[lang]


def translate(lang: str, context: str, english: str) -> str | None:
    """The translation of `english` (the text called `context`) in `lang`; the English for
    the source language; None when the catalog has no translation for it."""
    if lang == SOURCE_LANGUAGE:
        return english
    return _translations(lang).pgettext(context, english) or None


def check_catalogs() -> None:
    """Load every language's catalog now; raises CatalogMissing for one that is not there."""
    for lang in TRANSLATED:
        _translations(lang)


class LazyTexts(Mapping):
    """A read-only {key: {lang: text}} built on first use from the English and the
    catalogs, so importing the texts reads nothing. A language without a translation for a
    key leaves it out (and the key's text falls back to English where it is rendered)."""

    def __init__(self, english: Mapping, context: Callable[[object], str]):
        self._english = english
        self._context = context
        self._built: dict | None = None

    def _texts(self) -> dict:
        if self._built is None:
            built = {}
            for key, text in self._english.items():
                per_lang = {SOURCE_LANGUAGE: text}
                for lang in TRANSLATED:
                    translated = translate(lang, self._context(key), text)
                    if translated is not None:
                        per_lang[lang] = translated
                built[key] = per_lang
            self._built = built
        return self._built

    def __getitem__(self, key):
        return self._texts()[key]

    def __iter__(self) -> Iterator:
        return iter(self._english)

    def __len__(self) -> int:
        return len(self._english)

    def __contains__(self, key) -> bool:
        return key in self._english


class LazyByLanguage(Mapping):
    """A read-only {lang: {key: text}} over the same lazy texts (the step names' shape)."""

    def __init__(self, texts: LazyTexts):
        self._texts = texts

    def __getitem__(self, lang):
        if lang not in Language.values():
            raise KeyError(lang)
        return {key: self._texts[key][lang] for key in self._texts if lang in self._texts[key]}

    def __iter__(self) -> Iterator:
        return iter(Language.values())

    def __len__(self) -> int:
        return len(Language.values())
