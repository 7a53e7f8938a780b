"""Participant texts: every default fits one SMS segment; overrides fall back sanely.

Also the SMS segment maths the one-segment rule relies on.
"""

import logging
import string

import pytest

from service.core.commitment_labels import LABEL_MAX
from service.core.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SegmentInfo,
    fits_one_segment,
    is_gsm7,
    segment_info,
)
from service.core.texts import (
    LANGUAGES,
    SAMPLE_LABELS,
    SAMPLE_VALUES,
    STEP_NAMES,
    TEMPLATES,
    VARIABLE_LENGTH,
    format_items,
    normalise_language,
    placeholders,
    render,
    step_name,
    validate_override,
)

REQUIRED_KEYS = {
    "invite", "consent_thanks", "unknown_sender",
    "step1_what_happened", "step1_emotions", "step1_pattern", "step2_responsibility",
    "step3_intro", "ack_statement", "next_prompt_morning",
    "commitments_list", "commitment_agree_prompt", "commitments_agreed",
    "commitment_change_received", "commitment_waiting_partner", "commitment_added",
    "help", "resumed", "paused", "unpaused", "status", "headsup_thanks", "skipped",
    "media_not_read", "note_saved", "call_requested",
    "checkin", "checkin_clarify", "checkin_thanks", "checkin_nudge", "checkin_missed",
    "weekly_summary", "milestone", "partner_checkin",
    "closing_restored", "closing_ended",
}  # fmt: skip

ALL = [(key, lang) for key in sorted(TEMPLATES) for lang in LANGUAGES]


# --- Segment maths ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SegmentInfo("GSM-7", 0, 0, 160)),
        ("Hello", SegmentInfo("GSM-7", 5, 1, 160)),
        ("a" * 160, SegmentInfo("GSM-7", 160, 1, 160)),
        ("a" * 161, SegmentInfo("GSM-7", 161, 2, 153)),
        ("a" * 306, SegmentInfo("GSM-7", 306, 2, 153)),
        ("a" * 307, SegmentInfo("GSM-7", 307, 3, 153)),
        # Extension characters cost two septets.
        ("€" * 80, SegmentInfo("GSM-7", 160, 1, 160)),
        ("a" * 159 + "€", SegmentInfo("GSM-7", 161, 2, 153)),
        ("{[~]}", SegmentInfo("GSM-7", 10, 1, 160)),
        # An escape sequence is never split across parts: 306 septets but 3 segments.
        ("a" * 152 + "€" + "a" * 152, SegmentInfo("GSM-7", 306, 3, 153)),
        # Spanish punctuation and é ñ ü are GSM-7; á í ó ú are not.
        ("¿Qué tal? ¡Mañana! pingüino", SegmentInfo("GSM-7", 27, 1, 160)),
        ("Mañana sí", SegmentInfo("UCS-2", 9, 1, 70)),
        ("á" * 70, SegmentInfo("UCS-2", 70, 1, 70)),
        ("á" * 71, SegmentInfo("UCS-2", 71, 2, 67)),
        ("a" * 134 + "ú", SegmentInfo("UCS-2", 135, 3, 67)),
        # One curly apostrophe turns a 100-character text into two UCS-2 segments.
        ("It’s " + "a" * 95, SegmentInfo("UCS-2", 100, 2, 67)),
        # Emoji outside the BMP are two UTF-16 code units.
        ("😀", SegmentInfo("UCS-2", 2, 1, 70)),
        ("😀" * 35, SegmentInfo("UCS-2", 70, 1, 70)),
        ("😀" * 36, SegmentInfo("UCS-2", 72, 2, 67)),
        ("👍🏽", SegmentInfo("UCS-2", 4, 1, 70)),
        # A surrogate pair is never split across parts: 134 units but 3 segments.
        ("a" * 66 + "😀" + "a" * 66, SegmentInfo("UCS-2", 134, 3, 67)),
    ],
)
def test_segment_info(text, expected):
    assert segment_info(text) == expected


def test_gsm7_alphabet():
    assert len(GSM7_BASIC) == 127  # 128 code points, minus ESC
    assert is_gsm7("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./:;<=>?¡§¿äöñüàÄÖÑÜ")
    assert is_gsm7("^{}\\[~]|€\f")
    assert GSM7_BASIC.isdisjoint(GSM7_EXTENSION)
    for ch in "áíóúÁÍÓÚçâ’“”—…😀`":
        assert not is_gsm7(ch), ch


def test_fits_one_segment():
    assert fits_one_segment("a" * 160)
    assert not fits_one_segment("a" * 161)
    assert not fits_one_segment("á" * 71)


# --- Defaults -----------------------------------------------------------------------------


def test_every_required_key_exists_in_every_language():
    assert not REQUIRED_KEYS - set(TEMPLATES), REQUIRED_KEYS - set(TEMPLATES)
    for key, texts in TEMPLATES.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(text.strip() for text in texts.values()), key


@pytest.mark.parametrize(("key", "lang"), ALL)
def test_default_fits_one_segment_with_longest_values(key, lang):
    text = render(key, lang, **SAMPLE_VALUES)
    info = segment_info(text)
    assert info.segments == 1, (
        f"{key!r} ({lang}) is {info.units_used} {info.encoding} units, "
        f"over one segment of {160 if info.encoding == 'GSM-7' else 70}: {text!r}"
    )


@pytest.mark.parametrize(("key", "lang"), ALL)
def test_default_stays_in_gsm7(key, lang):
    # One non-GSM character (curly quote, á, emoji) would cut the segment to 70 characters.
    text = TEMPLATES[key][lang]
    bad = sorted({ch for ch in text if not is_gsm7(ch)})
    assert not bad, f"{key!r} ({lang}) has non-GSM-7 characters {bad}"


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_languages_use_the_same_placeholders(key):
    en, es = (placeholders_in(TEMPLATES[key][lang]) for lang in ("en", "es"))
    assert en == es, key


def placeholders_in(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_sample_values_cover_every_placeholder():
    used = set().union(*(placeholders(key) for key in TEMPLATES))
    assert used <= set(SAMPLE_VALUES)
    assert len(SAMPLE_VALUES["program"]) == 20
    assert len(SAMPLE_VALUES["facilitator"]) == 20
    assert len(SAMPLE_VALUES["first_name"]) == 12
    # The texts sent again and again list three labels of the longest a label may be.
    assert SAMPLE_VALUES["items"] == format_items(SAMPLE_LABELS)
    assert [len(label) for label in SAMPLE_LABELS] == [LABEL_MAX] * 3


def test_only_the_agreement_list_holds_full_wording():
    assert {"commitments_list"} == VARIABLE_LENGTH
    listing = {key for key in TEMPLATES if "items" in placeholders(key)} - VARIABLE_LENGTH
    assert listing == {
        "checkin", "checkin_2", "checkin_3", "partner_checkin",
        "checkin_nudge", "checkin_nudge_2", "checkin_nudge_3",
    }  # fmt: skip


def test_variable_length_renders_a_list():
    items = format_items(["Call Sam every Sunday", "Say when I'll be late"])
    assert items == "1) Call Sam every Sunday\n2) Say when I'll be late"
    text = render("checkin", "en", items=items)
    assert "1) Call Sam every Sunday\n2) Say when I'll be late\n" in text


def test_step_names():
    for lang in LANGUAGES:
        assert sorted(STEP_NAMES[lang]) == [1, 2, 3, 4, 5]
        assert all(is_gsm7(name) for name in STEP_NAMES[lang].values())
    assert step_name(2) == "Taking responsibility"
    assert step_name(4, "es") == "Acordar nuevos compromisos"
    assert SAMPLE_VALUES["step_name"] == max(
        (n for names in STEP_NAMES.values() for n in names.values()), key=len
    )


@pytest.mark.parametrize("key", ["invite", "help", "resumed"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_opt_out_is_explained(key, lang):
    assert "STOP" in TEMPLATES[key][lang]


def test_invite_asks_for_yes():
    assert "YES" in TEMPLATES["invite"]["en"]
    assert "SI" in TEMPLATES["invite"]["es"]


def test_render_fills_values():
    text = render("invite", program="Team Reset", facilitator="Ana")
    assert text.startswith("Hi, this is Team Reset with Ana.")
    assert render("status", "es", step_name="Escuchar a fondo", step=3) == (
        "Vas en el paso 3 de 5: Escuchar a fondo. Te escribimos cuando haya un siguiente paso. "
        "Gracias por tu paciencia."
    )


def test_render_missing_value_in_default_is_a_bug():
    with pytest.raises(KeyError, match="program"):
        render("invite", facilitator="Ana")


def test_render_unknown_key_is_a_bug():
    with pytest.raises(KeyError):
        render("no_such_text")


def test_language_fallback():
    assert normalise_language("es-MX") == "es"
    assert normalise_language("ES_us") == "es"
    assert normalise_language("fr") == "en"
    assert normalise_language(None) == "en"
    assert render("paused", "fr") == TEMPLATES["paused"]["en"]
    assert render("paused", "es-MX") == TEMPLATES["paused"]["es"]


# --- Overrides ----------------------------------------------------------------------------

VALUES = {"program": "Team Reset", "facilitator": "Ana"}


def test_override_in_that_language_wins():
    overrides = {"invite": {"es": "Hola de {program}. Responde SI o STOP."}}
    assert render("invite", "es", overrides, **VALUES) == "Hola de Team Reset. Responde SI o STOP."
    # ...and does not leak into another language.
    assert render("invite", "en", overrides, **VALUES) == render("invite", "en", **VALUES)


def test_override_missing_in_language_uses_default_of_that_language():
    overrides = {"invite": {"en": "Hi from {program}. Reply YES or STOP."}}
    assert render("invite", "es", overrides, **VALUES) == render("invite", "es", **VALUES)


def test_other_keys_overrides_are_ignored():
    overrides = {"help": {"en": "Call us."}}
    assert render("paused", "en", overrides) == TEMPLATES["paused"]["en"]


@pytest.mark.parametrize(
    "bad",
    [
        "Hi {first_name}, reply YES or STOP",  # unknown placeholder for this text
        "Hi {program.__class__}",  # attribute access
        "Hi {program[0]}",  # indexing
        "Hi {program!r}",  # conversion
        "Hi {program:>300}",  # padding
        "Hi {0}",  # positional
        "Hi {}",  # positional
        "Hi {program",  # unbalanced
        "Hi program}",  # unbalanced
        "",  # empty
        "   ",  # blank
    ],
)
def test_broken_override_falls_back_and_is_logged(bad, caplog):
    overrides = {"invite": {"en": bad}}
    with caplog.at_level(logging.WARNING, logger="service.core.texts"):
        text = render("invite", "en", overrides, **VALUES)
    assert text == render("invite", "en", **VALUES)
    assert "invite" in caplog.text
    assert validate_override("invite", bad)


def test_override_needing_a_value_the_caller_lacks_falls_back():
    overrides = {"status": {"en": "Step {step}: {step_name}"}}
    text = render("status", "en", overrides, step_name="Listening deeply", step=3)
    assert text == "Step 3: Listening deeply"
    overrides = {"help": {"en": "Questions? {contact}. STOP to opt out."}}
    values = {**VALUES, "contact": "x"}
    assert render("help", "en", overrides, **values) == "Questions? x. STOP to opt out."
    del values["contact"]
    with pytest.raises(KeyError):  # the default needs {contact} too: a caller bug
        render("help", "en", overrides, **values)


def test_override_values_are_not_reinterpreted():
    overrides = {"commitment_added": {"en": "Saved. {facilitator} sees it."}}
    text = render("commitment_added", "en", overrides, facilitator="{program}")
    assert text == "Saved. {program} sees it."


def test_override_with_literal_braces():
    overrides = {"paused": {"en": "Paused {{for now}}. Text RESUME."}}
    assert render("paused", "en", overrides) == "Paused {for now}. Text RESUME."


def test_validate_override_accepts_good_text():
    assert validate_override("invite", "{facilitator} here. Reply YES to start, STOP to end.") == []
    assert validate_override("paused", "Paused. Text RESUME when ready.") == []
    assert validate_override("checkin", "How did it go?\n{items}\nY/N each") == []


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("invite", "", "empty"),
        ("invite", "Hi {name}. Reply YES or STOP.", "Unknown placeholder {name}"),
        ("invite", "Hi {name}. Reply YES or STOP.", "{facilitator}, {program}"),
        ("invite", "Hi {program", "stray"),
        ("invite", "Hi {program!s}. STOP to opt out", "formatting"),
        ("invite", "Hi from {program}. Reply YES.", "opt out"),
        ("help", "Ask {facilitator}.", "opt out"),
        ("paused", "Paused. " + "x" * 160, "more than fit in one text message"),
        # One accent the GSM alphabet lacks halves the room: 80 characters is too long.
        ("paused", "Pausado. Escribe SEGUIR cuando quieras, así de fácil." + "x" * 28, "70"),
        ("nope", "Hi", "no text called"),
    ],
)
def test_validate_override_problems(key, text, expected):
    problems = validate_override(key, text)
    assert problems
    assert any(expected in problem for problem in problems), problems


def test_validate_override_measures_with_longest_values():
    # 152 characters as typed, 170 once a 20-character program and facilitator are in.
    text = "{program} / {facilitator}: " + "x" * 120 + " STOP"
    assert len(text) == 152
    assert any("170 characters" in p for p in validate_override("invite", text))


def test_closing_texts_are_the_programs_own_per_outcome():
    from service.core.texts import closing_texts, custom_closing

    own = {"closing_ended": {"en": "We are done here. Thank you."}}
    shown = closing_texts("en", own)
    assert shown["ended"] == "We are done here. Thank you."
    assert shown["restored"].startswith("Thank you for the care")
    assert closing_texts("es")["ended"].startswith("Gracias")
    assert custom_closing("  We are done here. Thank you. ", "ended", "en", own) is None
    assert custom_closing("", "restored", "en") is None
    assert custom_closing(shown["restored"], "ended", "en", own) == shown["restored"]
