"""STATUS and CALL by text, through the webhook: where they are, what is next and when in
their own time, and when a call must wait for waking hours, at what time it will come."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from service.models import Call, Message
from tests.support.factories import make_participant, make_program, sms_form
from tests.support.voice import at_step

_sids = itertools.count(7000)


@pytest.fixture
def text(twilio_post, run_jobs, services):
    def send(body):
        before = {m.id for m in _outbound(services)}
        form = sms_form(body, sid=f"SM{next(_sids):032d}")
        assert twilio_post("/twilio/sms", form).status_code == 200
        run_jobs()
        return [m for m in _outbound(services) if m.id not in before]

    return send


def _outbound(services):
    with services.sessions() as session:
        return list(
            session.exec(select(Message).where(Message.direction == "out").order_by(Message.id))
        )


def test_status_in_step5_says_when_the_next_checkin_is_in_their_time(app, services, text, clock):
    clock.set(datetime(2026, 3, 4, 15, 0, tzinfo=UTC))  # 10:00 am in New York
    person = make_participant(services, make_program(services), language="es")
    due = datetime(2026, 3, 5, 0, 0, tzinfo=UTC)  # 7:00 pm in New York
    at_step(services, person.id, 5, next_checkin_at=due)
    [reply] = text("ESTADO")
    assert reply.template == "status_checkin"
    assert reply.body == (
        "Vas en el paso 5 de 5: Vivir lo acordado. Tu siguiente seguimiento es a las "
        "7:00 p. m., tu hora. Gracias por seguir."
    )


def test_status_with_a_question_open_is_warm_and_has_no_streak(app, services, text):
    person = make_participant(services, make_program(services))
    at_step(services, person.id, 1, prompt="step1_emotions")
    [reply] = text("STATUS")
    assert reply.body == (
        "You're in step 1 of 5: Naming the misalignment. Next is your answer to the last "
        "question, whenever you're ready. There's no rush."
    )


def test_call_at_5am_says_when_the_call_will_come(app, services, text, clock):
    clock.set(datetime(2026, 3, 4, 10, 0, tzinfo=UTC))  # 5:00 am in New York
    person = make_participant(services, make_program(services))
    at_step(services, person.id, 3)
    [reply] = text("CALL")
    assert reply.template == "call_scheduled"
    assert reply.body == (
        "Thanks. So we don't call at a bad hour, we'll call you at 8:00 am, your time."
    )
    with services.sessions() as session:
        [call] = session.exec(select(Call)).all()
    assert call.next_attempt_at.replace(tzinfo=UTC) == datetime(2026, 3, 4, 13, 0, tzinfo=UTC)


def test_call_in_waking_hours_is_shortly(app, services, text, clock):
    clock.set(datetime(2026, 3, 4, 15, 0, tzinfo=UTC))  # 10:00 am in New York
    person = make_participant(services, make_program(services))
    at_step(services, person.id, 3)
    [reply] = text("CALL")
    assert (reply.template, reply.body) == ("call_requested", "Thanks, we'll call you shortly.")
