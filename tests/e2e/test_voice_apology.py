"""A failure on our side is apologised for in the caller's own language."""

from __future__ import annotations

import pytest

from service.voice import script
from tests.support.factories import make_participant, make_program
from tests.support.voice import PhoneCall, at_step, said


@pytest.fixture
def broken_menu(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("the menu broke")

    monkeypatch.setattr(script, "menu_choice", fail)


@pytest.mark.parametrize(
    ("language", "voice", "words"),
    [
        ("es", "Polly.Lupe", "Disculpa, algo falló de nuestra parte. Vuelve a llamar en un rato."),
        ("en", "Polly.Joanna", "Sorry, something went wrong on our side."),
    ],
)
def test_the_apology_after_an_error_is_in_the_callers_language(
    services, twilio_post, broken_menu, language, voice, words
):
    person = make_participant(services, make_program(services), language=language)
    at_step(services, person.id, 1, prompt="step1_what_happened")
    call = PhoneCall(twilio_post)
    call.answer()
    root = call.request("/twilio/voice/menu", Digits="1")
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert words in said(root)
    assert root.find("Say").get("voice") == voice


def test_an_unknown_caller_hears_the_apology_in_the_programs_language(
    services, twilio_post, broken_menu
):
    make_program(services, language="es")
    root = PhoneCall(twilio_post, from_="+12015559999").request("/twilio/voice/menu", Digits="1")
    assert said(root).startswith("Disculpa, algo falló")
