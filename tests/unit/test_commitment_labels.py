"""Short commitment labels: suggested from the wording, and held to what fits one text."""

from types import SimpleNamespace

import pytest

from service.core.commitment_labels import (
    LABEL_MAX,
    LISTING_TEXTS,
    label_of,
    label_problems,
    listing_texts,
    suggest_label,
)
from service.core.segments import segment_info
from service.core.texts import LANGUAGES, SAMPLE_LABELS, format_kept, render


@pytest.mark.parametrize(
    ("wording", "label"),
    [
        ("Call mom on Sundays", "Call mom on Sundays"),
        ("I will call Sam every Sunday.", "Call Sam every Sunday"),
        ("I'll tell Sam by Thursday if I can't make a meeting", "Tell Sam by Thursday"),
        ("Share the weekly numbers every Monday by noon", "Share the weekly numbers"),
        ("Ask before I borrow the car, even on short notice", "Ask before I borrow the car"),
        ("Me comprometo a llamar a Sofía antes de cada decisión importante", "Llamar a Sofia"),
        ("Voy a avisar a Pablo cuando llegue tarde a casa", "Avisar a Pablo"),
        ("Say “sorry” when I’m late", 'Say "sorry" when I\'m late'),
        ("  spaces\n  and   lines  ", "Spaces and lines"),
        ("x" * 50, "X" + "x" * (LABEL_MAX - 1)),
    ],
)
def test_label_is_suggested_from_the_wording(wording, label):
    suggested = suggest_label(wording)
    assert suggested == label
    assert len(suggested) <= LABEL_MAX


@pytest.mark.parametrize(
    "wording",
    [
        "Tell Sam by Thursday if I can't make a meeting, and offer another time",
        "Compartir las cifras de la semana cada lunes antes del mediodía con el equipo",
        "One two three four five six seven eight nine ten eleven twelve",
    ],
)
def test_a_suggested_label_never_ends_on_a_small_word_or_outside_gsm7(wording):
    label = suggest_label(wording)
    assert 0 < len(label) <= LABEL_MAX
    assert label.split()[-1].lower() not in {"the", "de", "a", "if", "and", "y", "cada"}
    assert segment_info(label).encoding == "GSM-7"


def test_a_commitment_reads_as_its_own_label_or_the_suggestion():
    own = SimpleNamespace(label="Sunday call", text="I will call Sam", agreed_text=None)
    bare = SimpleNamespace(label="", text="I will call Sam every Sunday", agreed_text=None)
    assert label_of(own) == "Sunday call"
    assert label_of(bare) == "Call Sam every Sunday"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_three_longest_labels_fit_one_gsm7_segment_in_every_listing_text(lang):
    rendered = listing_texts(SAMPLE_LABELS, lang)
    assert set(rendered) == set(LISTING_TEXTS)
    for key, text in rendered.items():
        info = segment_info(text)
        assert (info.encoding, info.segments) == ("GSM-7", 1), (key, lang, info, text)
        for label in SAMPLE_LABELS:
            assert label in text, key
    assert label_problems(SAMPLE_LABELS, lang) == []


def test_the_checkin_lists_labels_and_asks_plainly():
    text = render("checkin", "en", items="1) Call Sam every Sunday\n2) Share the numbers")
    assert text == (
        "Did you keep each one?\n1) Call Sam every Sunday\n2) Share the numbers\n"
        "Reply Y, N or P (partly)."
    )
    assert "Check-in time" not in text


def test_a_label_over_the_limit_is_refused_with_its_count():
    problems = label_problems(["x" * 33], "en")
    assert problems == [f'"{"x" * 33}" is 33 characters; a label can have at most 32.']


def test_labels_that_push_a_text_over_one_segment_are_refused_with_the_count():
    four = [*SAMPLE_LABELS, "Walk the dog together each night"]
    (problem,) = label_problems(four, "en")
    assert "check-in is 192 characters (GSM-7), more than one text message (160)" in problem


def test_an_accent_outside_gsm7_is_explained():
    problems = label_problems(["Llamar a Sofía antes de decidir"], "es")
    assert any("(UCS-2)" in p and "(70)" in p for p in problems), problems
    assert any("á í ó ú" in p for p in problems)


def test_weekly_lines_say_only_what_was_kept():
    rows = [("Call Sam", 5, 7), ("Share the numbers", 0, 7), ("Walk", 1, 1)]
    assert format_kept(rows, "en") == "Call Sam: 5 of 7\nWalk: 1 of 1"
    assert format_kept(rows, "es") == "Call Sam: 5 de 7\nWalk: 1 de 1"
    assert format_kept([("Call Sam", 0, 7)], "en") == ""
