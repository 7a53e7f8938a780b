"""The texts editor's rules: a text previewed as one participant would read it (by the
sender's own rule), what counts as customised, and when a test text may not go."""

from __future__ import annotations

from admin.text_guide import GROUPS, GUIDE
from service.core import text_trial, texts
from service.core.text_preview import clean, is_customised, preview

CY = {"program": "Shared program", "facilitator": "Ben Coach", "first_name": "Cy", "step": 2}


def test_the_standard_text_is_filled_in_with_their_details_and_samples_for_the_rest():
    shown = preview("invite", "en", "", CY)
    assert shown.text == texts.render("invite", "en", None, **{**texts.SAMPLE_VALUES, **CY})
    assert shown.text.startswith("Hi, this is Shared program with Ben Coach.")
    assert (shown.customised, shown.problems, shown.segments) == (False, (), 1)
    listing = preview("commitments_list", "en", None, CY).text
    assert listing.startswith("Cy, here are your new commitments:\n1) Share the weekly numbers")
    status = preview("status", "es", "", CY).text
    assert status.startswith("Vas en el paso 2 de 5: Asumir la responsabilidad.")


def test_a_draft_is_previewed_as_the_sender_would_send_it():
    shown = preview("commitment_added", "en", "  Noted. {facilitator} sees it.\r\n", CY)
    assert (shown.text, shown.customised, shown.problems) == ("Noted. Ben Coach sees it.", True, ())
    overrides = {"commitment_added": {"en": "Noted. {facilitator} sees it."}}
    assert shown.text == texts.render("commitment_added", "en", overrides, **CY)


def test_a_draft_with_problems_says_them_and_is_not_shown_when_it_cannot_be_filled_in():
    unknown = preview("commitment_added", "en", "Noted, {nickname}.", CY)
    assert unknown.text == "" and unknown.customised
    assert unknown.problems[0].startswith("Unknown placeholder {nickname}")
    long = preview("commitment_added", "en", "Noted. " + "x" * 170, CY)
    assert long.text.startswith("Noted. xxx") and long.segments == 2
    assert "more than fit in one text message" in long.problems[0]
    no_stop = preview("invite", "en", "Hi from {program}.", CY)
    assert no_stop.text == "Hi from Shared program." and "opt out" in no_stop.problems[0]


def test_the_standard_wording_or_an_empty_box_is_not_customised():
    assert not is_customised("paused", "en", "")
    assert not is_customised("paused", "en", texts.TEMPLATES["paused"]["en"] + "\n")
    assert is_customised("paused", "en", "Paused.")
    assert clean(" a\r\nb ") == "a\nb"


def test_a_test_text_needs_a_phone_and_a_text_without_problems():
    assert "no phone number" in text_trial.refusal(None, ())
    assert "no phone number" in text_trial.refusal("  ", ())
    assert "needs changes first" in text_trial.refusal("+12015550144", ("Too long.",))
    assert text_trial.refusal("+12015550144", ()) is None
    assert text_trial.key(3, "ab", "invite", "en") != text_trial.key(3, "cd", "invite", "en")


def test_every_text_has_a_title_a_moment_and_exactly_one_group():
    grouped = [key for group in GROUPS for key in group.keys]
    assert sorted(grouped) == sorted(texts.TEMPLATES) == sorted(GUIDE)
    assert len(grouped) == len(set(grouped))
