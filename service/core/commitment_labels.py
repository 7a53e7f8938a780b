"""Short commitment labels: what the daily texts call a commitment.

The agreement text quotes a commitment's full wording; the texts sent again and again (the
check-in, the partner check-in, the nudge and the weekly summary) list its label, at most
`LABEL_MAX` characters, so that three commitments still fit one SMS segment. A label is
suggested from the wording and the facilitator may write their own; `label_problems` says
when their labels would push one of those texts past one segment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from service.core import texts
from service.core.rotation import FAMILIES
from service.core.segments import segment_info

LABEL_MAX = 32
# The texts that list labels (every wording of them), measured with the longest names.
LISTING_TEXTS = (
    *FAMILIES["checkin"], "partner_checkin", *FAMILIES["checkin_nudge"], "weekly_summary",
)  # fmt: skip

# "I will call Sam" -> "Call Sam": the promise is implied by the text that lists it.
_LEADS = re.compile(
    r"^(?:i will|i'll|i shall|i commit to|i promise to|i am going to|i'm going to|we will|"
    r"we'll|we commit to|me comprometo a|nos comprometemos a|voy a|vamos a|prometo)\s+",
    re.IGNORECASE,
)
# Where a wording's first clause ends: "Call Sam on Sundays, even when busy".
_CLAUSE_END = re.compile(
    r"\s*(?:[,;:(]|\s[-\u2013\u2014]\s|\.\s)"
    r"|\s+(?=(?:if|when|unless|because|even|so that|si|cuando|aunque|porque|para que)\s)",
    re.IGNORECASE,
)
# Words a cut label must not end on ("Call Sam before the").
_DANGLING = frozenset({
    "a", "an", "the", "to", "and", "or", "of", "by", "for", "with", "if", "when", "on", "at",
    "in", "my", "our", "your", "from", "so", "that", "every", "each", "before", "after",
    "until", "de", "del", "la", "el", "los", "las", "y", "o", "u", "al", "en", "con", "por",
    "para", "si", "que", "mi", "mis", "tu", "un", "una", "cuando", "cada", "antes",
    "despues", "hasta",
})  # fmt: skip
# Look-alike punctuation becomes plain, and á í ó ú (outside GSM-7, where one of them
# turns the whole text into UCS-2, 70 characters a segment) lose their accent.
_PLAIN = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
        "\u2014": "-", "\u2026": "...", "á": "a", "í": "i", "ó": "o", "ú": "u",
        "Á": "A", "Í": "I", "Ó": "O", "Ú": "U",
    }
)  # fmt: skip
_MIN_CLAUSE = 12


def suggest_label(wording: str) -> str:
    """A label of at most LABEL_MAX characters from a commitment's wording.

    "I will tell Sam by Thursday if I can't make a meeting" -> "Tell Sam by Thursday".
    The first clause when it is long enough to mean something, else whole words up to the
    limit, never ending on "the" or "de".
    """
    text = " ".join((wording or "").translate(_PLAIN).split())
    text = _LEADS.sub("", text).rstrip(" .!;,")
    text = text[:1].upper() + text[1:]
    if len(text) <= LABEL_MAX:
        return text
    clause = _CLAUSE_END.search(text)
    if clause is not None and _MIN_CLAUSE <= clause.start() <= LABEL_MAX:
        return text[: clause.start()]
    words = []
    for word in text.split(" "):
        if len(" ".join([*words, word])) > LABEL_MAX:
            break
        words.append(word)
    while len(words) > 1 and words[-1].casefold().strip(",.;:") in _DANGLING:
        words.pop()
    return " ".join(words).rstrip(",.;:") if words else text[:LABEL_MAX].rstrip()


def label_of(commitment) -> str:
    """The label a text lists for this commitment (its own, or the suggestion)."""
    return (commitment.label or "").strip() or suggest_label(
        commitment.agreed_text or commitment.text
    )


def listing_texts(
    labels: Sequence[str], lang: str, overrides: Mapping | None = None
) -> dict[str, str]:
    """The texts that list labels, rendered with these labels and the longest names."""
    values = {
        **texts.SAMPLE_VALUES,
        "items": texts.format_items(labels),
        "kept": texts.format_kept([(label, 7, 7) for label in labels], lang),
    }
    return {key: texts.render(key, lang, overrides, **values) for key in LISTING_TEXTS}


def label_problems(labels: Sequence[str], lang: str) -> list[str]:
    """Why these labels do not fit the texts that list them, as sentences for a form."""
    problems = [
        f'"{label}" is {len(label)} characters; a label can have at most {LABEL_MAX}.'
        for label in labels
        if len(label) > LABEL_MAX
    ]
    if problems:
        return problems
    for key, text in listing_texts(labels, lang).items():
        info = segment_info(text)
        if info.segments > 1:
            limit = 160 if info.encoding == "GSM-7" else 70
            problems.append(
                f"With these labels the {texts.TEXT_NAMES[key]} is {info.units_used} "
                f"characters ({info.encoding}), more than one text message ({limit}). "
                "Shorten a label."
            )
            if info.encoding == "UCS-2":
                problems.append(
                    "Curly quotes, emoji and letters like á í ó ú cut one text message from "
                    "160 to 70 characters."
                )
            break
    return problems
