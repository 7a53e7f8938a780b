"""STATUS says where someone is, what is next and when, in their time; CALL says when the
call will come when waking hours make it wait."""

from datetime import UTC, datetime, timedelta

import pytest

from service.core.segments import segment_info
from service.core.status import call_reply, clock_words, status_reply, when_words
from service.core.texts import SAMPLE_VALUES, render

NY = "America/New_York"
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # Wednesday 5:00 am in New York


@pytest.mark.parametrize(
    ("instant", "en", "es"),
    [
        (datetime(2026, 3, 4, 13, 0, tzinfo=UTC), "at 8:00 am", "a las 8:00 a. m."),
        (datetime(2026, 3, 4, 18, 5, tzinfo=UTC), "at 1:05 pm", "a la 1:05 p. m."),
        (datetime(2026, 3, 5, 0, 0, tzinfo=UTC), "at 7:00 pm", "a las 7:00 p. m."),
        (
            datetime(2026, 3, 5, 5, 0, tzinfo=UTC),
            "tomorrow at 12:00 am",
            "mañana a las 12:00 a. m.",
        ),  # noqa: E501
        (datetime(2026, 3, 7, 0, 0, tzinfo=UTC), "on Friday at 7:00 pm", "el 6/3 a las 7:00 p. m."),
    ],
)
def test_times_are_said_in_their_zone_and_language(instant, en, es):
    assert when_words(instant, NOW, NY, "en") == en
    assert when_words(instant, NOW, NY, "es") == es
    assert segment_info(es).encoding == "GSM-7"


def test_the_longest_time_words_are_the_sample():
    longest = when_words(datetime(2026, 12, 30, 17, 30, tzinfo=UTC), NOW, "UTC", "es")
    assert longest == "el 30/12 a las 5:30 p. m."
    assert len(SAMPLE_VALUES["when"]) >= len(longest)
    assert clock_words(datetime(2026, 1, 1, 12, 30), "en") == "12:30 pm"


def _status(**changes):
    state = {
        "step": 1,
        "status": "active",
        "prompt": "step1_emotions",
        "prompt_due_at": NOW - timedelta(hours=1),
        "next_checkin_at": None,
        "now": NOW,
        "tz": NY,
        "lang": "en",
    }
    return status_reply(**{**state, **changes})


def test_status_says_what_is_next_for_each_moment():
    assert _status() == ("status_answer", {"step": "1"})
    later = NOW + timedelta(hours=4)
    assert _status(prompt_due_at=later) == ("status_later", {"step": "1", "when": "at 9:00 am"})
    assert _status(step=3, prompt=None) == ("status_call", {"step": "3"})
    assert _status(step=4, prompt="agree") == ("status_agree", {"step": "4"})
    assert _status(step=4, prompt=None) == ("status", {"step": "4"})
    due = datetime(2026, 3, 5, 0, 0, tzinfo=UTC)
    assert _status(step=5, prompt=None, next_checkin_at=due, lang="es") == (
        "status_checkin",
        {"step": "5", "when": "a las 7:00 p. m."},
    )
    assert _status(status="paused", step=5)[0] == "status_paused"


def test_status_reads_warmly_and_never_as_a_data_dump():
    text = render("status_checkin", "en", step_name="Living the alignment", when="at 7:00 pm")
    assert text == (
        "You're in step 5 of 5: Living the alignment. Your next check-in is at 7:00 pm, your "
        "time. Thank you for keeping at it."
    )
    for key in ("status", "status_answer", "status_later", "status_checkin", "status_paused"):
        for lang in ("en", "es"):
            words = render(key, lang, **SAMPLE_VALUES).lower()
            assert "streak" not in words and "racha" not in words, key


def test_call_says_shortly_or_when_it_will_come():
    assert call_reply(NOW, NOW, NY, "en") == ("call_requested", {})
    assert call_reply(NOW, NOW + timedelta(minutes=5), NY, "en") == ("call_requested", {})
    eight = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)
    key, values = call_reply(NOW, eight, NY, "en")
    assert render(key, "en", **values) == (
        "Thanks. So we don't call at a bad hour, we'll call you at 8:00 am, your time."
    )
    key, values = call_reply(NOW, eight, NY, "es")
    assert render(key, "es", **values) == (
        "Gracias. Para no llamarte a deshoras, te llamamos a las 8:00 a. m., tu hora."
    )
