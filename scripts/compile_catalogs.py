"""Compile translation catalogs (.po, edited by translators) into the .mo files the app
reads: the ones named, or every catalog of the participant texts and the admin.

`make install` runs it for each .po that changed; a platform that builds from git (the .mo
files are not kept there) runs it once at build time (bin/post_compile on Heroku). Fails,
naming the entry, if a catalog cannot be read.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOGS = ("service/core/catalogs", "admin/translations")


def compile_one(po: Path) -> Path:
    with po.open("rb") as handle:
        catalog = read_po(handle, abort_invalid=True)
    mo = po.with_suffix(".mo")
    with mo.open("wb") as handle:
        write_mo(handle, catalog, use_fuzzy=False)
    return mo


def main(args: list[str]) -> None:
    pos = [Path(a) for a in args] or [
        po for folder in CATALOGS for po in sorted((ROOT / folder).glob("*/LC_MESSAGES/*.po"))
    ]
    for po in pos:
        print(f"compiled {compile_one(po)}")


if __name__ == "__main__":
    main(sys.argv[1:])
