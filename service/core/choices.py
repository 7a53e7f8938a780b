"""Choices said or keyed on a call: the menu, keep-or-again, one check-in answer.

Through the one normaliser (core/words.py), as texts are: "Sí", "si" and "SI" read alike.
"""

from __future__ import annotations

from service.core.answers import parse_checkin_answer, parse_voice_digits
from service.core.enums import Result
from service.core.numbers import whole_number
from service.core.words import words

# Words (accents removed, lower case) that choose a menu option by speech.
MENU_WORDS = {
    "answer": {"answer", "question", "respond", "responder", "pregunta", "contestar"},
    "reflect": {"reflection", "reflect", "reflexion"},
    "commitments": {"commitments", "commitment", "promises", "compromisos", "compromiso"},
    "checkin": {"check", "checkin", "seguimiento"},
    "message": {"message", "facilitator", "note", "mensaje", "nota"},
}
NUMBER_WORDS = (
    {"1", "one", "first", "uno", "primero", "primera"},
    {"2", "two", "second", "dos", "segundo", "segunda"},
    {"3", "three", "third", "tres", "tercero", "tercera"},
    {"4", "four", "fourth", "cuatro", "cuarto"},
)
KEEP_WORDS = {"keep", "save", "yes", "guardar", "guardalo", "guarda", "si", "1", "one", "uno"}
AGAIN_WORDS = {"again", "redo", "rerecord", "repeat", "otra", "repetir", "nuevo", "2", "two", "dos"}
DIGIT_OF_RESULT = {Result.KEPT: "1", Result.MISSED: "2", Result.PARTLY: "3"}
RESULT_OF_DIGIT = {digit: result for result, digit in DIGIT_OF_RESULT.items()}


def choose(actions: list[str], digits: str, speech: str) -> str | None:
    """The menu option chosen by a key or by words, or None."""
    if digits:
        key = digits[:1]
        number = whole_number(key)
        if number is not None and 1 <= number <= len(actions):
            return actions[number - 1]
        return None
    said = set(words(speech))
    for action in actions:
        if said & MENU_WORDS[action]:
            return action
    for index, numbers in enumerate(NUMBER_WORDS[: len(actions)]):
        if said & numbers:
            return actions[index]
    return None


def keep_or_again(digits: str, speech: str) -> str | None:
    """After a recording: "keep" (1) or "again" (2), or None when neither was chosen."""
    said = set(words(speech)) | ({digits[:1]} if digits else set())
    if said & KEEP_WORDS:
        return "keep"
    if said & AGAIN_WORDS:
        return "again"
    return None


def checkin_result(digits: str, speech: str) -> Result | None:
    """One commitment's answer on a call: 1 kept, 2 not kept, 3 partly, or said."""
    if digits:
        found = parse_voice_digits(digits[:1])
        return None if found is None else Result(found)
    if not speech:
        return None
    parsed = parse_checkin_answer(speech, 1)
    return None if parsed.ambiguous else Result(parsed.results[0])
