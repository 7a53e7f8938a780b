"""The gettext catalogs as files: their templates made from the source, merged into each
language, and read back for the completeness test.

Two domains: `participant` (the default participant copy, service/core/catalogs/, its
entries listed by service/core/participant_copy.py) and `realign_admin` (the admin's own
strings, admin/translations/, found by Babel's extractors as babel.cfg says). `make catalogs`
remakes both templates (.pot, not kept in git) and merges them into every .po: a changed
English string becomes fuzzy there until a translator checks it.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po, write_po

from service.core import catalogs, participant_copy
from service.core.catalog_rules import Translation

ROOT = Path(__file__).resolve().parents[2]
PARTICIPANT_DIR = ROOT / "service" / "core" / catalogs.CATALOG_DIR
ADMIN_DIR = ROOT / "admin" / "translations"
ADMIN_DOMAIN = "realign_admin"
BABEL_CFG = ROOT / "babel.cfg"
# `_`, `N_` (a no-op marker) and the rest of gettext's names, plus admin/i18n.py's own.
ADMIN_KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_": None, "n_": (1, 2)}
WIDTH = 100


def participant_template() -> Catalog:
    template = Catalog(project="Realign", domain=catalogs.DOMAIN, fuzzy=False)
    for entry in participant_copy.entries():
        flags = ("python-brace-format",) if entry.placeholders else ()
        template.add(entry.english, context=entry.context, auto_comments=entry.notes, flags=flags)
    return template


def admin_template(root: Path = ROOT) -> Catalog:
    """Every string the admin shows, as Babel's extractors find them under `root`."""
    with BABEL_CFG.open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    template = Catalog(project="Realign", domain=ADMIN_DOMAIN, fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root), method_map, options_map, keywords=ADMIN_KEYWORDS, comment_tags=("i18n:",)
    ):
        flags = ("python-format",) if "%(" in str(message) else ()
        template.add(
            message,
            locations=[(filename, lineno)],
            auto_comments=comments,
            context=context,
            flags=flags,
        )
    return template


def po_files(directory: Path, domain: str) -> list[Path]:
    return sorted(directory.glob(f"*/LC_MESSAGES/{domain}.po"))


def read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def read_compiled(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_mo(handle)


def translations(catalog: Catalog) -> list[Translation]:
    """The entries of `catalog` (obsolete ones included) as the completeness rule reads them."""
    rows = [Translation(m.context, one(m.id), one(m.string), m.fuzzy, False) for m in catalog]
    rows += [
        Translation(m.context, one(m.id), one(m.string), m.fuzzy, True)
        for m in catalog.obsolete.values()
    ]
    return rows


def one(value) -> str:
    """A message's text; for a plural message, its forms joined (each is checked alike)."""
    if isinstance(value, tuple | list):
        return "\n".join(value)
    return value or ""


def merge(template: Catalog, path: Path) -> None:
    """Bring the catalog at `path` up to `template`: new strings added untranslated, changed
    ones marked fuzzy, gone ones obsolete."""
    original = path.read_text(encoding="utf-8")
    catalog = read(path)
    catalog.update(template, update_header_comment=False)
    buffer = BytesIO()
    # No source locations (they would change with every edit of the code) and the header
    # kept as the translators wrote it: a merge changes only the entries that changed.
    write_po(buffer, catalog, width=WIDTH, sort_output=False, no_location=True, omit_header=True)
    header = original.split("\n\n", 1)[0]
    path.write_text(header + "\n\n" + buffer.getvalue().decode("utf-8").lstrip("\n"), "utf-8")


def write_template(template: Catalog, path: Path) -> None:
    buffer = BytesIO()
    write_po(buffer, template, width=WIDTH)
    path.write_bytes(buffer.getvalue())


def update_all() -> list[Path]:
    """Remake both templates and merge them into every catalog; the files written."""
    written = []
    for template, directory, domain in (
        (participant_template(), PARTICIPANT_DIR, catalogs.DOMAIN),
        (admin_template(), ADMIN_DIR, ADMIN_DOMAIN),
    ):
        pot = directory / f"{domain}.pot"
        directory.mkdir(parents=True, exist_ok=True)
        write_template(template, pot)
        written.append(pot)
        for po in po_files(directory, domain):
            merge(template, po)
            written.append(po)
    return written
