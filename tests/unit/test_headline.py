"""The participant page's header line: what they are asked now and since when, the next
check-in, or why nothing is asked."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from service.core.enums import ParticipantStatus, Prompt
from service.core.headline import Asking, Headline, headline

NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)


def person(**kw):
    values = {
        "status": ParticipantStatus.ACTIVE,
        "step": 1,
        "prompt": None,
        "prompt_due_at": None,
        "next_checkin_at": None,
        "created_at": NOW - timedelta(days=3),
        "paused_at": None,
        "opted_out_at": None,
        "closed_at": None,
    }
    return SimpleNamespace(**{**values, **kw})


def test_an_open_question_says_what_and_since_when():
    asked = NOW - timedelta(hours=2)
    p = person(prompt=Prompt.WHAT_HAPPENED.value, prompt_due_at=asked)
    assert headline(p, NOW) == Headline(Asking.ASKED, asked, Prompt.WHAT_HAPPENED)
    agree = person(step=4, prompt="agree", prompt_due_at=asked)
    assert headline(agree, NOW).prompt == Prompt.AGREE


def test_a_question_waiting_for_waking_hours_says_when_it_goes_out():
    later = NOW + timedelta(hours=9)
    p = person(step=2, prompt=Prompt.RESPONSIBILITY.value, prompt_due_at=later)
    assert headline(p, NOW) == Headline(Asking.ASKED, later, Prompt.RESPONSIBILITY, later=True)


def test_step_five_says_the_next_check_in_or_the_one_waiting_for_an_answer():
    nxt = NOW + timedelta(days=1)
    p = person(step=5, next_checkin_at=nxt)
    assert headline(p, NOW) == Headline(Asking.NEXT_CHECKIN, nxt)
    sent = NOW - timedelta(minutes=30)
    assert headline(p, NOW, checkin_sent_at=sent) == Headline(Asking.CHECKIN_OPEN, sent)
    assert headline(person(step=5), NOW) == Headline(Asking.NO_CHECKIN)


def test_invited_paused_opted_out_and_closed_say_so_with_since_when():
    created = NOW - timedelta(days=3)
    assert headline(person(status="invited"), NOW) == Headline(Asking.INVITED, created)
    paused = NOW - timedelta(days=1)
    assert headline(person(status="paused", paused_at=paused, step=5), NOW) == Headline(
        Asking.PAUSED, paused
    )
    stop = NOW - timedelta(hours=5)
    p = person(status="opted_out", opted_out_at=stop, prompt="step1_emotions")
    assert headline(p, NOW) == Headline(Asking.OPTED_OUT, stop)
    assert headline(person(status="closed", closed_at=stop), NOW).asking == Asking.CLOSED
    assert headline(person(status="undeliverable"), NOW) == Headline(Asking.UNDELIVERABLE)


def test_steps_without_a_question_say_what_they_wait_for():
    assert headline(person(step=3), NOW).asking == Asking.REFLECTION
    assert headline(person(step=4), NOW).asking == Asking.COMMITMENTS
    assert headline(person(step=1), NOW).asking == Asking.NOTHING
