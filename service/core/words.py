"""The one normaliser every reading of what people send goes through: keywords, check-in
answers, spoken and keyed choices. Case, width and accents never change a meaning."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """NFKC, casefolded, accents removed: "Sí" and "SI" and "si" read alike."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The folded words of `text`, punctuation and symbols dropped."""
    return "".join(ch if ch.isalnum() else " " for ch in fold(text)).split()
