"""Every /twilio/* route, signed as Twilio signs, with odd numbers and text in its query and
form: never a 5xx, and the voice script never falls back to its apology for our failure.

The fuzz is bounded and derandomized (the same examples on every run) so that it costs a
few seconds; the named cases below it are the ones it found, kept as plain tests.
"""

from __future__ import annotations

import logging
import os
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select
from twilio.request_validator import RequestValidator

from service.models import Call, Message, Reflection
from tests.support.factories import ANA, PROGRAM_NUMBER, get, make_participant, make_program
from tests.support.voice import at_step

MESSAGE_SID = "SM" + "f" * 32
CALL_SID = "CA" + "f" * 32
RECORDING_SID = "RE" + "f" * 32

# Numbers in every shape a caller could send: out of range for PostgreSQL's integer and
# SQLite's 64-bit one, digits that str.isdigit() accepts but int() refuses ('²') or reads
# ('١٢'), signs, separators, spaces, and plain small ones.
ODD_NUMBERS = [
    "",
    "0",
    "1",
    "2",
    "-1",
    "+3",
    " 4",
    "1_000",
    "²",
    "١٢",
    "2147483647",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "9" * 30,
    "1e3",
    "0x10",
    "\r\n1",
    "\x00",
]
odd = st.one_of(st.sampled_from(ODD_NUMBERS), st.text(max_size=40))

QUERY_NAMES = ["call", "attempt", "misses", "reflection", "checkin", "purpose", "tx", "given"]
FORM_NAMES = [
    "MessageSid",
    "SmsSid",
    "MessageStatus",
    "SmsStatus",
    "ErrorCode",
    "From",
    "To",
    "Body",
    "NumMedia",
    "MediaUrl0",
    "CallSid",
    "CallStatus",
    "Direction",
    "Digits",
    "SpeechResult",
    "RecordingSid",
    "RecordingStatus",
    "RecordingDuration",
    "RecordingUrl",
    "TranscriptionStatus",
    "TranscriptionText",
]
# The values that reach rows the set-up made, so the odd ones meet real records.
KNOWN = {
    "MessageSid": MESSAGE_SID,
    "CallSid": CALL_SID,
    "RecordingSid": RECORDING_SID,
    "From": ANA,
    "To": PROGRAM_NUMBER,
}


def webhook_paths(app) -> list[str]:
    return sorted(r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/twilio/"))


@pytest.fixture
def world(services):
    """Ana in step 3 with a sent text, a call and a recording, for the fuzz to reach."""
    program = make_program(services)
    ana = make_participant(services, program)
    at_step(services, ana.id, 3)
    with services.sessions() as session:
        session.add(
            Message(
                direction="out",
                program_id=program.id,
                participant_id=ana.id,
                to_number=ANA,
                body="hello",
                status="sent",
                twilio_sid=MESSAGE_SID,
            )
        )
        call = Call(participant_id=ana.id, direction="out", call_sid=CALL_SID, status="ringing")
        session.add(call)
        session.add(Reflection(participant_id=ana.id, recording_sid=RECORDING_SID))
        session.commit()
        return {"call": call.id}


@pytest.fixture
def signed_post(services, client):
    base = services.settings.public_base_url

    def post(path: str, query: dict[str, str], form: dict[str, str]):
        qs = urlencode(query, quote_via=quote)
        target = f"{path}?{qs}" if qs else path
        signature = RequestValidator(services.webhook_token).compute_signature(base + target, form)
        return client.post(
            target, data=form, headers={"X-Twilio-Signature": signature}, base_url=base
        )

    return post


@pytest.fixture
def no_webhook_errors(caplog):
    """Asserts, when called, that no webhook logged an error (the voice script's apology
    hides our failures behind a 200)."""
    caplog.set_level(logging.ERROR)

    def check():
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        caplog.clear()
        assert errors == [], [r.getMessage() for r in errors]

    return check


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_webhook_answers_odd_signed_input_without_a_5xx(
    app, world, signed_post, no_webhook_errors, data
):
    for path in webhook_paths(app):
        query = data.draw(st.dictionaries(st.sampled_from(QUERY_NAMES), odd, max_size=4))
        form = data.draw(
            st.dictionaries(
                st.sampled_from(FORM_NAMES) | st.text(max_size=12),
                odd | st.sampled_from(list(KNOWN.values())),
                max_size=8,
            )
        )
        response = signed_post(path, query, {**KNOWN, **form})
        assert response.status_code < 500, (path, query, form)
        no_webhook_errors()


# What the fuzz found, by name ----------------------------------------------------------


@pytest.mark.parametrize("code", ["9" * 30, "9223372036854775808", "2147483648", "²", "-3"])
def test_an_error_code_out_of_range_is_ignored(world, services, signed_post, code):
    form = {"MessageSid": MESSAGE_SID, "MessageStatus": "undelivered", "ErrorCode": code}
    response = signed_post("/twilio/sms/status", {}, form)
    assert response.status_code == 204
    with services.sessions() as session:
        message = session.exec(select(Message).where(Message.twilio_sid == MESSAGE_SID)).one()
    assert message.status == "undelivered"
    assert message.error_code is None


@pytest.mark.parametrize("name", ["call", "attempt"])
@pytest.mark.parametrize("value", ["9" * 30, "2147483648", "²", "١"])
def test_a_call_status_with_an_odd_call_or_attempt_number_is_still_applied(
    world, services, signed_post, name, value
):
    query = {"call": str(world["call"]), "attempt": "0", name: value}
    form = {"CallSid": CALL_SID, "CallStatus": "in-progress"}
    response = signed_post("/twilio/voice/status", query, form)
    assert response.status_code == 204
    assert get(services, Call, world["call"]).status == "in-progress"  # found by its SID


@pytest.mark.parametrize("duration", ["9" * 30, "2147483648", "²", "١٢"])
def test_a_recording_with_an_odd_duration_is_kept_without_one(
    world, services, signed_post, duration
):
    form = {
        "CallSid": CALL_SID,
        "RecordingSid": RECORDING_SID,
        "RecordingStatus": "completed",
        "RecordingDuration": duration,
    }
    response = signed_post("/twilio/voice/recording", {"purpose": "reflection"}, form)
    assert response.status_code == 204
    with services.sessions() as session:
        reflection = session.exec(
            select(Reflection).where(Reflection.recording_sid == RECORDING_SID)
        ).one()
    assert reflection.recording_status == "completed"
    assert reflection.duration_s is None
