"""Check-in answer parsing: every form people use, the notes, and what stays ambiguous."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.core.answers import (
    COUNT_MISMATCH,
    EMPTY,
    NOT_AN_ANSWER,
    NUMBERING,
    QUESTION,
    UNCLEAR_FOR_SEVERAL,
    AnswerParse,
    parse_checkin_answer,
    parse_voice_digits,
)

K, M, P = "kept", "missed", "partly"

# (body, n, expected results, expected note)
PARSED = [
    # Single answers, one commitment.
    ("Y", 1, (K,), None),
    ("yes", 1, (K,), None),
    ("YES!", 1, (K,), None),
    ("N", 1, (M,), None),
    ("no", 1, (M,), None),
    ("P", 1, (P,), None),
    ("partly", 1, (P,), None),
    ("Partially", 1, (P,), None),
    ("done", 1, (K,), None),
    ("kept", 1, (K,), None),
    ("missed", 1, (M,), None),
    ("all done", 1, (K,), None),
    ("none", 1, (M,), None),
    ("👍", 1, (K,), None),
    ("👎", 1, (M,), None),
    ("👍🏽", 1, (K,), None),
    ("👎🏿", 1, (M,), None),
    ("✅", 1, (K,), None),
    ("❌", 1, (M,), None),
    ("✔️", 1, (K,), None),
    ("si", 1, (K,), None),
    ("Sí", 1, (K,), None),
    ("SÍ", 1, (K,), None),
    ("parcial", 1, (P,), None),
    ("en parte", 1, (P,), None),
    ("not kept", 1, (M,), None),
    ("no cumplí", 1, (M,), None),
    ("1 kept", 1, (K,), None),
    ("Yes, done!", 1, (K,), None),
    ("yes 👍", 1, (K,), None),
    ("“Yes”", 1, (K,), None),
    # One answer for several commitments: "yes" means each was kept.
    ("Y", 2, (K, K), None),
    ("yes", 3, (K, K, K), None),
    ("done", 3, (K, K, K), None),
    ("all done", 2, (K, K), None),
    ("all kept", 3, (K, K, K), None),
    ("All good", 2, (K, K), None),
    ("both done", 2, (K, K), None),
    ("👍", 3, (K, K, K), None),
    ("✅", 2, (K, K), None),
    ("sí", 2, (K, K), None),
    ("none", 3, (M, M, M), None),
    ("Yes, all done!", 3, (K, K, K), None),
    # One answer per commitment, in order.
    ("YY", 2, (K, K), None),
    ("YN", 2, (K, M), None),
    ("ynp", 3, (K, M, P), None),
    ("Y N", 2, (K, M), None),
    ("Y N N", 3, (K, M, M), None),
    ("yes no", 2, (K, M), None),
    ("Yes No Partly", 3, (K, M, P), None),
    ("y,n", 2, (K, M), None),
    ("y, n, p", 3, (K, M, P), None),
    ("y/n", 2, (K, M), None),
    ("yes and no", 2, (K, M), None),
    ("kept missed", 2, (K, M), None),
    ("✅❌", 2, (K, M), None),
    ("✅ ❌ ✅", 3, (K, M, K), None),
    ("👍🏽 👎🏽", 2, (K, M), None),
    ("si no", 2, (K, M), None),
    ("SN", 2, (K, M), None),
    ("no parcial", 2, (M, P), None),
    ("N N", 2, (M, M), None),
    # Numbered, in any order.
    ("1 kept 2 missed", 2, (K, M), None),
    ("1 y 2 n", 2, (K, M), None),
    ("1Y 2N", 2, (K, M), None),
    ("1y2n", 2, (K, M), None),
    ("2 n 1 y", 2, (K, M), None),
    ("3 y 1 n 2 p", 3, (M, P, K), None),
    ("1) yes, 2) no", 2, (K, M), None),
    ("1: kept; 2: partly", 2, (K, P), None),
    ("1. Y 2. N 3. P", 3, (K, M, P), None),
    ("#1 y #2 n", 2, (K, M), None),
    # Notes after the answer, verbatim.
    ("Y - walked the dog together tonight", 1, (K,), "walked the dog together tonight"),
    ("Y - walked the dog together tonight", 2, (K, K), "walked the dog together tonight"),
    ("No, I didn't manage it. Long day.", 1, (M,), "I didn't manage it. Long day."),
    ("Yes!! Great week 🙂", 1, (K,), "Great week 🙂"),
    ("Y N: the call slipped, sorry", 2, (K, M), "the call slipped, sorry"),
    ("YN the call slipped", 2, (K, M), "the call slipped"),
    ("1 kept 2 missed - ran out of time", 2, (K, M), "ran out of time"),
    ("2N 1Y\nWe talked on Sunday", 2, (K, M), "We talked on Sunday"),
    ("partly (we tried)", 1, (P,), "(we tried)"),
    ("sí, lo hicimos juntos", 1, (K,), "lo hicimos juntos"),
    ("y\nn\nsorry", 2, (K, M), "sorry"),
    # An answer word that starts a sentence keeps the whole sentence.
    ("sort of I guess", 1, (P,), "sort of I guess"),
    ("no pude hoy", 1, (M,), "no pude hoy"),
    ("Y no pude hoy", 2, (K, M), "no pude hoy"),
]

# (body, n, expected reason)
AMBIGUOUS = [
    ("", 1, EMPTY),
    ("   ", 2, EMPTY),
    ("what do you mean?", 1, NOT_AN_ANSWER),
    ("maybe", 1, NOT_AN_ANSWER),
    ("no idea", 1, NOT_AN_ANSWER),
    ("not sure", 2, NOT_AN_ANSWER),
    ("Hi! Y N", 2, NOT_AN_ANSWER),
    ("🤷", 1, NOT_AN_ANSWER),
    ("Y?", 1, QUESTION),
    ("yes ? not sure", 1, QUESTION),
    # A lone "no" or "partly" does not say which commitments.
    ("N", 2, UNCLEAR_FOR_SEVERAL),
    ("no", 3, UNCLEAR_FOR_SEVERAL),
    ("missed", 2, UNCLEAR_FOR_SEVERAL),
    ("P", 2, UNCLEAR_FOR_SEVERAL),
    ("partly", 3, UNCLEAR_FOR_SEVERAL),
    ("👎", 2, UNCLEAR_FOR_SEVERAL),
    ("parcial", 2, UNCLEAR_FOR_SEVERAL),
    # Counts that do not match.
    ("Y N", 1, COUNT_MISMATCH),
    ("YN", 3, COUNT_MISMATCH),
    ("Y N", 3, COUNT_MISMATCH),
    ("yes no", 1, COUNT_MISMATCH),
    ("Y N N", 2, COUNT_MISMATCH),
    ("YY", 3, COUNT_MISMATCH),
    ("yes and no", 1, COUNT_MISMATCH),
    ("all done, no", 2, COUNT_MISMATCH),
    # Numbering that does not cover each commitment exactly once.
    ("1 kept", 2, NUMBERING),
    ("1 kept 2 missed", 1, NUMBERING),
    ("1 kept 2 missed", 3, NUMBERING),
    ("1 y 1 n", 2, NUMBERING),
    ("1 y 3 n", 2, NUMBERING),
    ("1 y 2", 2, NUMBERING),
    ("1 YN", 2, NUMBERING),
    ("2 out of 3", 3, NUMBERING),
    ("1st one yes", 2, NUMBERING),
]


@pytest.mark.parametrize(("body", "n", "results", "note"), PARSED)
def test_parses_answer(body, n, results, note):
    parsed = parse_checkin_answer(body, n)
    assert parsed == AnswerParse(results=results, note=note, ambiguous=False, reason=None)


@pytest.mark.parametrize(("body", "n", "reason"), AMBIGUOUS)
def test_ambiguous_answer(body, n, reason):
    parsed = parse_checkin_answer(body, n)
    assert parsed.ambiguous, parsed
    assert parsed.reason == reason
    assert parsed.results is None


@pytest.mark.parametrize("body", ["Y", "yes", "👍", "done", "all done"])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_single_yes_applies_to_all(body, n):
    assert parse_checkin_answer(body, n).results == ("kept",) * n


def test_none_is_all_missed_for_any_count():
    for n in (1, 2, 3):
        assert parse_checkin_answer("none", n).results == ("missed",) * n


def test_case_insensitive():
    assert parse_checkin_answer("yEs nO", 2).results == (K, M)
    assert parse_checkin_answer("ALL KEPT", 2).results == (K, K)


def test_needs_at_least_one_commitment():
    with pytest.raises(ValueError):
        parse_checkin_answer("Y", 0)


@pytest.mark.parametrize(
    ("digit", "expected"),
    [("1", K), ("2", M), ("3", P), (" 1 ", K), ("4", None), ("", None), (None, None), ("#", None)],
)
def test_voice_digits(digit, expected):
    assert parse_voice_digits(digit) == expected


@given(st.text(), st.integers(min_value=1, max_value=6))
def test_arbitrary_text_never_raises(body, n):
    parsed = parse_checkin_answer(body, n)
    if parsed.ambiguous:
        assert parsed.results is None and parsed.reason
    else:
        assert parsed.results is not None and len(parsed.results) == n
        assert set(parsed.results) <= {K, M, P}
        assert parsed.note is None or (parsed.note and parsed.note in body)


_ANSWER_BITS = [
    "y",
    "n",
    "p",
    "yes",
    "no",
    "1",
    "2",
    "3",
    "all",
    "done",
    "👍🏽",
    "✅",
    "-",
    ",",
    " ",
]


@given(st.lists(st.sampled_from(_ANSWER_BITS), max_size=8), st.text(max_size=20))
def test_answer_like_text_has_exactly_n_results(bits, tail):
    body = " ".join(bits) + tail
    for n in (1, 2, 3):
        parsed = parse_checkin_answer(body, n)
        assert parsed.ambiguous or len(parsed.results) == n
