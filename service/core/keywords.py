"""Inbound keyword parsing: is this text message a command such as STOP, HELP or COMMIT?

A keyword counts only when it is the whole message (ignoring case, accents, surrounding
whitespace, punctuation and emoji): "Stop." is STOP, "please don't stop texting me" is not.
HEADSUP, COMMIT and CHANGE take the rest of the message as their argument, so they are
recognised when they are the first word ("Change of plans" reads as CHANGE "of plans"; the
caller knows whether a change request makes sense right now).
What a keyword means at a given moment (YES is consent, and also "resume" after STOP) is
for the caller to decide.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum

from service.core.words import fold


class KeywordKind(Enum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    YES = "yes"
    HELP = "help"
    PAUSE = "pause"
    RESUME = "resume"
    STATUS = "status"
    SKIP = "skip"
    CALL = "call"
    AGREE = "agree"
    HEADSUP = "headsup"
    COMMIT = "commit"
    CHANGE = "change"


@dataclass(frozen=True)
class Keyword:
    """A recognised keyword.

    `word` is the keyword as typed, upper-cased without accents ("STOP", "SI", "HEADS UP").
    `argument` is the text after HEADSUP/COMMIT/CHANGE, verbatim but stripped ("" when
    nothing follows); None for keywords that take no argument.
    """

    kind: KeywordKind
    word: str
    argument: str | None = None


# Spellings are written lower-case, without accents, words separated by one space:
# the same form `_normalise` produces from what people type.
_WORDS: dict[KeywordKind, tuple[str, ...]] = {
    # The carrier-standard opt-out words (CTIA), plus the Spanish ones people really send.
    KeywordKind.OPT_OUT: (
        "stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "revoke",
        "optout", "opt out", "parar", "alto", "cancelar",
    ),
    KeywordKind.OPT_IN: ("start", "unstop"),
    KeywordKind.YES: ("yes", "y", "si"),
    KeywordKind.HELP: ("help", "info", "ayuda"),
    KeywordKind.PAUSE: ("pause", "pausa"),
    KeywordKind.RESUME: ("resume", "seguir", "reanudar"),
    KeywordKind.STATUS: ("status", "estado"),
    KeywordKind.SKIP: ("skip", "saltar"),
    KeywordKind.CALL: ("call", "llamar", "llamada"),
    KeywordKind.AGREE: ("agree", "acepto"),
}  # fmt: skip

_ARG_WORDS: dict[KeywordKind, tuple[str, ...]] = {
    KeywordKind.HEADSUP: ("headsup", "heads up", "aviso"),
    KeywordKind.COMMIT: ("commit", "compromiso"),
    KeywordKind.CHANGE: ("change", "cambiar"),
}

OPT_OUT_WORDS: tuple[str, ...] = _WORDS[KeywordKind.OPT_OUT]

_SINGLE = {word: kind for kind, words in _WORDS.items() for word in words}
_WITH_ARGUMENT = {word: kind for kind, words in _ARG_WORDS.items() for word in words}

# A "word" in the original text: letters/digits, with any combining accents kept attached.
_WORD_RE = re.compile(r"(?:[^\W_][\u0300-\u036f]*)+")
# What may join the two halves of "heads up" / "heads-up".
_JOINER_RE = re.compile(r"[\s\-\u2010-\u2015_]*")
# What may sit between an argument keyword and its argument: "HEADSUP: late tonight".
_ARG_LEAD_RE = re.compile(r"^[\s:;,.!\-\u2010-\u2015]+")


def _normalise(text: str) -> str:
    """Folded (see core/words.py), hyphens/underscores as spaces, spaces collapsed."""
    text = fold(text)
    text = re.sub(r"[\-\u2010-\u2015_]", " ", text)
    return " ".join(text.split())


def _is_wordlike(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LN"


def _strip_non_words(text: str) -> str:
    """Drop whitespace, punctuation, emoji and other symbols from both ends."""
    start, end = 0, len(text)
    while start < end and not _is_wordlike(text[start]):
        start += 1
    while end > start and not _is_wordlike(text[end - 1]):
        end -= 1
    return text[start:end]


def _parse_with_argument(body: str) -> Keyword | None:
    first = _WORD_RE.search(body)
    if first is None:
        return None
    word = _normalise(first.group())
    rest_at = first.end()
    if word == "heads":
        # Two-word spelling: "heads up", "Heads-up:", "HEADS UP".
        joiner = _JOINER_RE.match(body, rest_at)
        second = _WORD_RE.match(body, joiner.end())
        if second is None or _normalise(second.group()) != "up":
            return None
        word, rest_at = "heads up", second.end()
    kind = _WITH_ARGUMENT.get(word)
    if kind is None:
        return None
    argument = _ARG_LEAD_RE.sub("", body[rest_at:]).rstrip()
    return Keyword(kind, word.upper(), argument)


def parse_keyword(body: str | None) -> Keyword | None:
    """The keyword this message is, or None if it is ordinary text."""
    if not body:
        return None
    with_argument = _parse_with_argument(body)
    if with_argument is not None:
        return with_argument
    core = _normalise(_strip_non_words(body))
    kind = _SINGLE.get(core)
    if kind is not None:
        return Keyword(kind, core.upper())
    # "stop stop STOP": someone who wants out should not have to find the exact form.
    words = [_normalise(_strip_non_words(w)) for w in core.split()]
    if len(words) > 1 and all(_SINGLE.get(w) is KeywordKind.OPT_OUT for w in words):
        return Keyword(KeywordKind.OPT_OUT, words[0].upper())
    return None
