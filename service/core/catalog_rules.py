"""When a translation catalog is complete: the rule the catalog tests apply.

A catalog is complete when every string the source has (its msgctxt and msgid) has a
translation that is not empty, is not marked fuzzy (a guess made when the English changed)
and uses exactly the placeholders of its English; and when it holds nothing obsolete or
stale (an entry whose English is gone or changed, which a translator would otherwise keep
translating).
Placeholders are `{name}` in the participant texts and `%(name)s` in the admin's.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Style(StrEnum):
    BRACES = "braces"  # str.format: {name}
    PERCENT = "percent"  # gettext's python-format: %(name)s


@dataclass(frozen=True)
class Translation:
    """One entry of a catalog, as a translator left it."""

    context: str | None
    msgid: str
    msgstr: str
    fuzzy: bool = False
    obsolete: bool = False


_PERCENT = re.compile(r"%\((\w+)\)[sdifr]|%([sdifr])")


def placeholders(text: str, style: Style) -> list[str]:
    """The placeholders in `text`, in order, repeated as often as they occur."""
    if style == Style.PERCENT:
        return sorted(named or f"%{bare}" for named, bare in _PERCENT.findall(text))
    try:
        return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)
    except ValueError:
        return ["(stray brace)"]


def _where(context: str | None, msgid: str) -> str:
    short = msgid if len(msgid) <= 60 else msgid[:57] + "..."
    return f"[{context}] {short!r}" if context else repr(short)


def problems(
    expected: Iterable[tuple[str | None, str]],
    catalog: Iterable[Translation],
    style: Style,
) -> list[str]:
    """What keeps `catalog` from being complete for the strings `expected`, one sentence
    each; [] when it is complete."""
    found: dict[tuple[str | None, str], Translation] = {}
    found_problems = []
    for entry in catalog:
        if not entry.msgid:
            continue  # the header
        if entry.obsolete:
            found_problems.append(f"{_where(entry.context, entry.msgid)} is obsolete: remove it")
            continue
        found[(entry.context, entry.msgid)] = entry
    wanted = dict.fromkeys(expected)
    for context, msgid in found:
        if (context, msgid) not in wanted:
            found_problems.append(
                f"{_where(context, msgid)} is not in the source (its English changed or it "
                "is gone): update or remove it"
            )
    for context, msgid in wanted:
        entry = found.get((context, msgid))
        where = _where(context, msgid)
        if entry is None:
            found_problems.append(f"{where} has no entry")
        elif not entry.msgstr.strip():
            found_problems.append(f"{where} is not translated")
        elif entry.fuzzy:
            found_problems.append(f"{where} is fuzzy: check the translation and unmark it")
        elif placeholders(entry.msgstr, style) != placeholders(msgid, style):
            found_problems.append(
                f"{where}: the translation's placeholders "
                f"{placeholders(entry.msgstr, style)} differ from "
                f"{placeholders(msgid, style)}"
            )
    return found_problems
