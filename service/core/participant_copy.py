"""Every default participant text as a catalog entry: its msgctxt, its English (the msgid)
and a note for translators. The catalog template (participant.pot, `make catalogs`) and the
completeness test are both made from this list, so neither can forget a text."""

from __future__ import annotations

from dataclasses import dataclass

from service.core import catalogs, spoken, texts
from service.core.texts import _fields

_WRITTEN = (
    "An SMS: it must fit one segment with the longest names filled in, so keep it within "
    "GSM-7 (ñ é ü ¿ ¡ are fine; á í ó ú, curly quotes and emoji cut a segment from 160 to "
    "70 characters). Keywords in capitals are the ones participants reply with."
)
_SPOKEN = "Spoken by the voice on a call: accents are fine, short sentences, plain words."
_STEP = "The name of a step, inside STATUS texts (GSM-7, as short as the English)."


@dataclass(frozen=True)
class Entry:
    context: str
    english: str
    notes: tuple[str, ...]

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(_fields(self.english))


def _with_placeholders(english: str, *notes: str) -> tuple[str, ...]:
    names = sorted(set(_fields(english)))
    if not names:
        return notes
    return (*notes, "Keep the placeholders as they are: " + ", ".join(f"{{{n}}}" for n in names))


def entries() -> list[Entry]:
    """Written texts, then spoken texts, then the step names."""
    written = [
        Entry(key, english, _with_placeholders(english, texts.TEXT_NAMES[key], _WRITTEN))
        for key, english in texts.ENGLISH.items()
    ]
    voiced = [
        Entry(f"{catalogs.SPOKEN_CONTEXT}{key}", english, _with_placeholders(english, _SPOKEN))
        for key, english in spoken.ENGLISH.items()
    ]
    steps = [
        Entry(f"{catalogs.STEP_CONTEXT}{n}", name, (_STEP,))
        for n, name in texts.STEP_NAMES_EN.items()
    ]
    return written + voiced + steps
