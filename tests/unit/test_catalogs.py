"""The translation catalogs are complete: every participant text and every admin string
has a checked Spanish translation with the same placeholders, and nothing stale is left.

The rule itself (service/core/catalog_rules.py) is shown failing on temporary catalogs made
from the real ones with one thing broken.
"""

from __future__ import annotations

import functools

import pytest
from babel.messages.pofile import read_po, write_po

from service.core import catalogs, participant_copy
from service.core.catalog_rules import Style, Translation, placeholders, problems
from service.core.texts import ENGLISH, render
from service.infra import translations

PARTICIPANT = [(e.context, e.english) for e in participant_copy.entries()]
PARTICIPANT_PO = translations.po_files(translations.PARTICIPANT_DIR, catalogs.DOMAIN)
ADMIN_PO = translations.po_files(translations.ADMIN_DIR, translations.ADMIN_DOMAIN)


@functools.cache
def _admin_strings():
    template = translations.admin_template()
    return [(m.context, translations.one(m.id)) for m in template if m.id]


def test_every_language_but_english_has_both_catalogs():
    languages = {po.parts[-3] for po in PARTICIPANT_PO}
    assert languages == set(catalogs.TRANSLATED)
    assert {po.parts[-3] for po in ADMIN_PO} == set(catalogs.TRANSLATED)


def test_the_participant_catalog_lists_every_default_text():
    contexts = [context for context, _ in PARTICIPANT]
    assert len(contexts) == len(set(contexts))
    assert len(contexts) > len(ENGLISH)  # texts, spoken texts and step names


@pytest.mark.parametrize("po", PARTICIPANT_PO, ids=lambda p: p.parts[-3])
def test_participant_catalog_is_complete(po):
    catalog = translations.translations(translations.read(po))
    assert problems(PARTICIPANT, catalog, Style.BRACES) == []


@pytest.mark.parametrize("po", ADMIN_PO, ids=lambda p: p.parts[-3])
def test_admin_catalog_is_complete(po):
    strings = _admin_strings()
    assert len(strings) > 100  # the extraction found the admin's strings
    catalog = translations.translations(translations.read(po))
    assert problems(strings, catalog, Style.PERCENT) == []


@pytest.mark.parametrize("po", PARTICIPANT_PO + ADMIN_PO, ids=lambda p: "/".join(p.parts[-4:]))
def test_the_compiled_catalog_is_the_current_one(po):
    mo = po.with_suffix(".mo")
    assert mo.is_file(), f"{mo} is missing: run `make install`"
    one = translations.one

    def entries(catalog):
        return {(m.context, one(m.id)): one(m.string) for m in catalog if m.id and m.string}

    source, compiled = entries(translations.read(po)), entries(translations.read_compiled(mo))
    assert compiled == source, f"{mo} is older than its .po: run `make install`"


# --- The rule, on catalogs with one thing broken ------------------------------------------


@pytest.fixture
def spanish(tmp_path):
    """A copy of the real Spanish participant catalog, to break, and a way to read it back."""
    source = translations.PARTICIPANT_DIR / "es" / "LC_MESSAGES" / "participant.po"
    catalog = translations.read(source)
    path = tmp_path / "participant.po"

    def written():
        with path.open("wb") as handle:
            write_po(handle, catalog)
        with path.open("rb") as handle:
            return translations.translations(read_po(handle))

    return catalog, written


def test_a_missing_translation_is_named(spanish):
    catalog, written = spanish
    catalog.get(ENGLISH["paused"], context="paused").string = ""
    found = problems(PARTICIPANT, written(), Style.BRACES)
    assert len(found) == 1
    assert found[0].startswith("[paused] ") and found[0].endswith("is not translated")


def test_a_missing_entry_is_named(spanish):
    catalog, written = spanish
    catalog.delete(ENGLISH["help"], context="help")
    assert problems(PARTICIPANT, written(), Style.BRACES) == [
        f"[help] {ENGLISH['help'][:57] + '...'!r} has no entry"
    ]


def test_a_changed_placeholder_is_named(spanish):
    catalog, written = spanish
    message = catalog.get(ENGLISH["invite"], context="invite")
    message.string = message.string.replace("{facilitator}", "{facilitador}")
    (found,) = problems(PARTICIPANT, written(), Style.BRACES)
    assert "[invite]" in found and "placeholders" in found and "facilitador" in found


def test_fuzzy_and_obsolete_entries_are_named(spanish):
    catalog, written = spanish
    catalog.get(ENGLISH["skipped"], context="skipped").flags.add("fuzzy")
    catalog.obsolete["gone"] = catalog.get(ENGLISH["paused"], context="paused")
    found = problems(PARTICIPANT, written(), Style.BRACES)
    assert any("[skipped]" in p and "fuzzy" in p for p in found)
    assert any("[paused]" in p and "obsolete" in p for p in found)


def test_a_stale_translation_of_changed_english_is_named():
    english = "Okay, we've paused your texts."
    catalog = [Translation("paused", ENGLISH["paused"], "De acuerdo, pausamos tus mensajes.")]
    found = problems([("paused", english)], catalog, Style.BRACES)
    assert any("is not in the source" in p for p in found)
    assert any("has no entry" in p for p in found)


@pytest.mark.parametrize(
    ("text", "style", "expected"),
    [
        ("Hi {name}, {n} and {name}", Style.BRACES, ["n", "name", "name"]),
        ("Hola %(name)s, %(count)d", Style.PERCENT, ["count", "name"]),
        ("100% sure, %s", Style.PERCENT, ["%s"]),
    ],
)
def test_placeholders(text, style, expected):
    assert placeholders(text, style) == expected


def test_an_admin_string_without_spanish_is_named(tmp_path):
    strings = _admin_strings()
    catalog = [t for t in translations.translations(translations.read(ADMIN_PO[0]))]
    dropped = next(t for t in catalog if t.msgid == "Today")
    kept = [t for t in catalog if t is not dropped]
    assert problems(strings, kept, Style.PERCENT) == ["'Today' has no entry"]


# --- A missing compiled catalog is an error, not English -----------------------------------


def test_a_missing_compiled_catalog_fails_clearly(monkeypatch):
    monkeypatch.setattr(catalogs, "CATALOG_DIR", "not-compiled")
    monkeypatch.setattr(catalogs, "_loaded", {})
    with pytest.raises(catalogs.CatalogMissing, match="make install"):
        render("paused", "es")
    with pytest.raises(catalogs.CatalogMissing):
        catalogs.check_catalogs()
    assert render("paused", "en") == ENGLISH["paused"]  # the source language needs none


def test_a_missing_admin_catalog_fails_clearly(monkeypatch, tmp_path):
    from admin import i18n

    monkeypatch.setattr(i18n, "CATALOGS", tmp_path)
    with pytest.raises(i18n.AdminCatalogMissing, match="make install"):
        i18n.check_catalogs()
