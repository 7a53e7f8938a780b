"""Check-in answer parsing (step 5): "Y N - walked the dog" -> kept, missed, plus a note.

A check-in asks about N commitments at once. People answer with letters ("YN", "Y N"),
words ("yes no", "partly", "all done"), emoji (thumbs, ticks and crosses), numbered pairs
in any order ("2 n 1 y", "1Y 2N"), Spanish ("sí", "más o menos"), the ways people say
"partly" ("kinda", "sort of", "casi") and the typos they make ("yse", "nop", "siii"),
optionally followed by a note. When the answer word begins a sentence ("no pude hoy",
"yes we talked") the note is the whole sentence, so a negation is never cut off. Anything we
cannot read with confidence is `ambiguous`, so the caller asks one clarifying question
instead of recording a guess.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from service.core.words import fold

Result = Literal["kept", "missed", "partly"]
KEPT: Result = "kept"
MISSED: Result = "missed"
PARTLY: Result = "partly"

# Reasons an answer is ambiguous, for the caller's logs and tests.
EMPTY = "empty"
NOT_AN_ANSWER = "not_an_answer"
COUNT_MISMATCH = "count_mismatch"
NUMBERING = "numbering"
UNCLEAR_FOR_SEVERAL = "unclear_for_several"
QUESTION = "question"

_ALL_KEPT, _ALL_MISSED = "all_kept", "all_missed"

# Words and phrases (lower case, accents removed), longest phrases matched first. Typos
# people really send ("yse", "nop") and the ways of saying "partly" in both languages
# ("kinda", "sort of", "mas o menos", "casi") are answers too.
_VOCAB: dict[tuple[str, ...], str] = {
    **{(w,): KEPT for w in (
        "y", "yes", "yeah", "yep", "yup", "yea", "yeh", "yah", "ye", "yas", "yse", "ya",
        "kept", "done", "did",
        "s", "si", "sip", "claro", "listo", "cumplido", "cumpli", "hecho",
    )},
    **{(w,): MISSED for w in ("n", "no", "nope", "nop", "nah", "naw", "missed", "incumplido")},
    **{(w,): PARTLY for w in (
        "p", "partly", "partially", "partial", "kinda", "sorta", "mostly", "somewhat", "half",
        "halfway", "almost", "parcial", "parcialmente", "casi", "medio",
    )},
    ("not", "kept"): MISSED,
    ("not", "done"): MISSED,
    ("not", "yet"): MISSED,
    ("no", "cumplido"): MISSED,
    ("no", "cumpli"): MISSED,
    ("todavia", "no"): MISSED,
    ("aun", "no"): MISSED,
    ("kind", "of"): PARTLY,
    ("sort", "of"): PARTLY,
    ("a", "bit"): PARTLY,
    ("more", "or", "less"): PARTLY,
    **{(w, "done"): PARTLY for w in ("partly", "half", "mostly", "almost")},
    ("en", "parte"): PARTLY,
    ("a", "medias"): PARTLY,
    ("un", "poco"): PARTLY,
    ("mas", "o", "menos"): PARTLY,
    **{("all", w): _ALL_KEPT for w in ("done", "kept", "yes", "y", "good")},
    **{("both", w): _ALL_KEPT for w in ("done", "kept", "yes")},
    ("all", "missed"): _ALL_MISSED,
    ("all", "no"): _ALL_MISSED,
    ("none",): _ALL_MISSED,
    ("neither",): _ALL_MISSED,
    ("ninguno",): _ALL_MISSED,
    ("todo", "cumplido"): _ALL_KEPT,
    ("todos", "cumplidos"): _ALL_KEPT,
}  # fmt: skip
_LONGEST_PHRASE = max(len(phrase) for phrase in _VOCAB)

# Phrases that start like an answer but are not one.
_NOT_ANSWERS = {("no", "idea"), ("no", "clue"), ("not", "sure"), ("no", "se")}

# Letters that can be run together: "YN", "yyp", "SN".
_LETTERS = {"y": KEPT, "s": KEPT, "n": MISSED, "p": PARTLY}

_EMOJI = {
    "\U0001f44d": KEPT,  # thumbs up
    "\u2705": KEPT,  # white heavy check mark
    "\u2714": KEPT,  # heavy check mark
    "\u2611": KEPT,  # ballot box with check
    "\u2713": KEPT,  # check mark
    "\U0001f44c": KEPT,  # OK hand
    "\U0001f64c": KEPT,  # raising hands
    "\U0001f4af": KEPT,  # hundred points
    "\U0001f44e": MISSED,  # thumbs down
    "\u274c": MISSED,  # cross mark
    "\u274e": MISSED,  # negative squared cross mark
    "\u2716": MISSED,  # heavy multiplication x
    "\u2717": MISSED,  # ballot x
    "\u2718": MISSED,  # heavy ballot x
}
# Skin tones and emoji/text presentation selectors belong to the emoji before them.
_EMOJI_TAIL = "\ufe0e\ufe0f\U0001f3fb-\U0001f3ff"

_TOKEN_RE = re.compile(
    r"(?P<word>(?:[^\W_][\u0300-\u036f]*)+)"
    rf"|(?P<emoji>[{''.join(_EMOJI)}][{_EMOJI_TAIL}]*)"
    r"|(?P<space>\s+)"
    r"|(?P<other>.)",
    re.DOTALL,
)
# Between answers in a list: "Y N", "y,n", "yes / no", "Y & N".
_LIST_SEPARATORS = set(",;/&+.!|")
# "yes and no" (not Spanish "y": "Y Y N" must stay three answers).
_CONNECTORS = {"and"}
# Between a commitment number and its answer: "1) y", "1: yes", "#2 - no", "1.y".
_NUMBER_SEPARATORS = set(").:=-#\u2013\u2014")
# Stripped from the front of the note: "Y - walked the dog" -> "walked the dog".
_NOTE_LEAD = " \t\r\n-\u2013\u2014:;,.!)"
# An answer word followed on the same line by more words starts a sentence: "no pude hoy".
_SENTENCE_GOES_ON_RE = re.compile(r"[ \t]+[^\W_]")
# A letter held down or typed twice: "yesss", "siii", "noo".
_REPEATS_RE = re.compile(r"(.)\1+")
_COMPACT_NUMBERED_RE = re.compile(r"(?:\d+[a-z]+)+")
_PAIR_RE = re.compile(r"(\d+)([a-z]+)")


@dataclass(frozen=True)
class AnswerParse:
    """Per-commitment results and the note after them, or `ambiguous` with a reason."""

    results: tuple[Result, ...] | None
    note: str | None
    ambiguous: bool
    reason: str | None = None


@dataclass(frozen=True)
class _Token:
    kind: str  # word, emoji, space or other
    text: str  # words normalised: NFKC, casefolded, accents removed
    start: int
    end: int


def _tokenise(body: str) -> list[_Token]:
    tokens = []
    for m in _TOKEN_RE.finditer(body):
        kind = m.lastgroup or "other"
        if kind == "word":
            text = fold(m.group())
        elif kind == "emoji":
            text = m.group()[0]  # without skin tone or presentation selector
        else:
            text = m.group()
        tokens.append(_Token(kind, text, m.start(), m.end()))
    return tokens


def _is_number_start(tok: _Token) -> bool:
    return tok.kind == "word" and tok.text[:1].isdecimal()


def _ambiguous(reason: str) -> AnswerParse:
    return AnswerParse(results=None, note=None, ambiguous=True, reason=reason)


class _Reader:
    """A cursor over the tokens of one message."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.tokens = _tokenise(body)
        self.i = 0
        self.answer_start = 0  # where the last consumed answer starts in `body`
        self.answer_end = 0  # and where it ends
        self.spoken = False  # whether it was a word of a sentence rather than a code

    def skip(self, allowed: set[str], connectors: bool = False) -> None:
        """Skip spaces and the given punctuation (and connector words, if asked)."""
        while self.i < len(self.tokens):
            tok = self.tokens[self.i]
            if tok.kind == "space" or (tok.kind == "other" and tok.text in allowed):
                self.i += 1
            elif connectors and tok.kind == "word" and tok.text in _CONNECTORS:
                # "yes and no": a connector only counts if an answer follows it.
                saved = self.i
                self.i += 1
                self.skip(allowed)
                if self.peek_answer() is None:
                    self.i = saved
                return
            else:
                return

    def words_ahead(self, count: int) -> tuple[str, ...] | None:
        """The next `count` words, if separated only by spaces."""
        words, j = [], self.i
        while len(words) < count:
            if j >= len(self.tokens) or self.tokens[j].kind != "word":
                return None
            words.append(self.tokens[j].text)
            j += 1
            if len(words) < count:
                if j >= len(self.tokens) or self.tokens[j].kind != "space":
                    return None
                j += 1
        return tuple(words)

    def peek_answer(self) -> tuple[list[str], int, bool] | None:
        """The answer values at the cursor, how many tokens they span and whether they are
        words of a sentence ("no", "sort of") rather than a code ("N", "YN", an emoji)."""
        if self.i >= len(self.tokens):
            return None
        tok = self.tokens[self.i]
        if tok.kind == "emoji":
            return [_EMOJI[tok.text]], 1, False
        if tok.kind != "word":
            return None
        if self.words_ahead(2) in _NOT_ANSWERS:
            return None
        for size in range(_LONGEST_PHRASE, 0, -1):
            phrase = self.words_ahead(size)
            if phrase in _VOCAB:
                spoken = size > 1 or len(tok.text) > 1
                return [_VOCAB[phrase]], 2 * size - 1, spoken  # words plus the spaces between
        if len(tok.text) > 1 and all(ch in _LETTERS for ch in tok.text):
            return [_LETTERS[ch] for ch in tok.text], 1, False
        retyped = (_REPEATS_RE.sub(r"\1", tok.text),)
        if retyped in _VOCAB:
            return [_VOCAB[retyped]], 1, True
        return None

    def take_answer(self) -> list[str] | None:
        found = self.peek_answer()
        if found is None:
            return None
        values, span, spoken = found
        self.answer_start = self.tokens[self.i].start
        self.i += span
        self.answer_end = self.tokens[self.i - 1].end
        self.spoken = spoken
        return values

    def skip_leading_punctuation(self) -> None:
        """Skip spaces and quotes or dashes before the answer: '"Yes"', '- Y N'."""
        while (tok := self.peek()) is not None and (
            tok.kind == "space"
            or (
                tok.kind == "other" and tok.text != "?" and unicodedata.category(tok.text)[0] == "P"
            )
        ):
            self.i += 1

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def note(self) -> str | None:
        if self.spoken and _SENTENCE_GOES_ON_RE.match(self.body, self.answer_end):
            # "no pude hoy": the answer is part of the sentence, which is kept whole (cut
            # after "no", the note would say the opposite).
            return self.body[self.answer_start :].rstrip()
        note = self.body[self.answer_end :].lstrip(_NOTE_LEAD).rstrip()
        # A closing quote or a row of "!!!" is not a note.
        if all(unicodedata.category(ch)[0] in "PZ" for ch in note):
            return None
        return note

    def question_follows(self) -> bool:
        rest = self.body[self.answer_end :].lstrip()
        return rest.startswith("?")


def _read_plain(reader: _Reader) -> list[str]:
    """Answers in order: "Y N", "yes, no", "YN", "👍👎"."""
    values: list[str] = []
    while True:
        taken = reader.take_answer()
        if taken is None:
            return values
        values.extend(taken)
        reader.skip(_LIST_SEPARATORS, connectors=True)


def _read_numbered(reader: _Reader) -> dict[int, str] | None:
    """Numbered answers: "1 kept 2 missed", "2 n 1 y", "1Y 2N", "1) yes, 2) no".

    None if the numbering is broken (a number without an answer, or one given twice).
    """
    answers: dict[int, str] = {}
    while (tok := reader.peek()) is not None and _is_number_start(tok):
        if _COMPACT_NUMBERED_RE.fullmatch(tok.text):
            pairs = [(num, _VOCAB.get((word,))) for num, word in _PAIR_RE.findall(tok.text)]
            reader.i += 1
            reader.answer_end = tok.end
            reader.spoken = False
        elif tok.text.isdecimal():
            reader.i += 1
            reader.skip(_NUMBER_SEPARATORS)
            taken = reader.take_answer()
            if taken is None or len(taken) != 1:
                return None
            pairs = [(tok.text, taken[0])]
        else:
            return None
        for number, value in pairs:
            if value not in (KEPT, MISSED, PARTLY) or int(number) in answers:
                return None
            answers[int(number)] = value
        reader.skip(_LIST_SEPARATORS | {"#"})
    return answers


def parse_checkin_answer(body: str | None, n_commitments: int) -> AnswerParse:
    """Read a reply to a check-in about `n_commitments` commitments (in the order listed).

    One answer for several commitments applies to all when it is "yes" ("did you keep each
    one?" - "yes"); a lone "no" or "partly" does not say which, so it is ambiguous, while
    "none" or "N N" is clear.
    """
    if n_commitments < 1:
        raise ValueError("a check-in covers at least one commitment")
    if not body or not body.strip():
        return _ambiguous(EMPTY)
    reader = _Reader(body)
    reader.skip_leading_punctuation()
    first = reader.peek()
    if first is not None and _is_number_start(first):
        numbered = _read_numbered(reader)
        if numbered is None:
            return _ambiguous(NUMBERING)
        if sorted(numbered) != list(range(1, n_commitments + 1)):
            return _ambiguous(NUMBERING)
        results = tuple(numbered[i] for i in range(1, n_commitments + 1))
    else:
        values = _read_plain(reader)
        if not values:
            return _ambiguous(NOT_AN_ANSWER)
        if reader.question_follows():
            return _ambiguous(QUESTION)
        results = _resolve(values, n_commitments)
        if isinstance(results, str):
            return _ambiguous(results)
    return AnswerParse(results=results, note=reader.note(), ambiguous=False)


def _resolve(values: list[str], n: int) -> tuple[Result, ...] | str:
    """Map the answers read to exactly n results, or return the reason it can't be done."""
    if len(values) == 1:
        (value,) = values
        if value in (KEPT, _ALL_KEPT):
            return (KEPT,) * n
        if value == _ALL_MISSED:
            return (MISSED,) * n
        if n == 1:
            return (value,)  # type: ignore[return-value]
        return UNCLEAR_FOR_SEVERAL
    # "Yes, all done!" / "No, none": the same thing said twice, once for all.
    if _ALL_KEPT in values and set(values) <= {KEPT, _ALL_KEPT}:
        return (KEPT,) * n
    if _ALL_MISSED in values and set(values) <= {MISSED, _ALL_MISSED}:
        return (MISSED,) * n
    if _ALL_KEPT in values or _ALL_MISSED in values:
        return COUNT_MISMATCH
    if len(values) == n:
        return tuple(values)  # type: ignore[return-value]
    # "Yes, done!" about one commitment says the same thing twice.
    if n == 1 and len(set(values)) == 1:
        return (values[0],)  # type: ignore[return-value]
    return COUNT_MISMATCH


_VOICE_DIGITS: dict[str, Result] = {"1": KEPT, "2": MISSED, "3": PARTLY}


def parse_voice_digits(digit: str | None) -> Result | None:
    """Keypad answer on a voice check-in: 1 kept, 2 not kept, 3 partly; else None."""
    return _VOICE_DIGITS.get((digit or "").strip())
