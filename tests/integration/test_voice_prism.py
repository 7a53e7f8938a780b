"""The voice requests the app really makes pass Twilio's own OpenAPI description (Prism).

The place-call job and the recording delete run through the app's real code path with the
gateway pointed at `prism mock`, which answers 422 to anything that breaks the schema. The
audio download (`/Recordings/{Sid}.wav`) is Twilio's media URL, which the 2010-04-01
description does not cover; the local Twilio API tests it instead.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from service.infra.twilio_gateway import TwilioGateway
from service.models import AttentionItem, Call, Reflection
from service.voice import calls, recordings
from tests.support.factories import make_participant, make_program
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN
from tests.support.voice import at_step


@pytest.fixture
def gateway(prism_mock):
    return TwilioGateway(ACCOUNT_SID, AUTH_TOKEN, api_base_url=prism_mock, timeout=10)


@pytest.fixture
def ana(services):
    program = make_program(services)
    participant = make_participant(services, program, invite=False)
    at_step(services, participant.id, 3)
    return participant


def test_the_call_create_passes_twilios_schema(services, ana):
    now = services.now()
    with services.sessions() as session:
        call = Call(
            participant_id=ana.id,
            direction="out",
            status="pending",
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(call)
        session.commit()
    assert calls.place(services, call.id) == "placed"
    with services.sessions() as session:
        call = session.get(Call, call.id)
        assert call.call_sid.startswith("CA") and call.attempts == 1
        assert session.exec(select(AttentionItem)).all() == []  # no 4xx, no flag


def test_the_recording_delete_passes_twilios_schema(services, ana):
    now = services.now()
    with services.sessions() as session:
        reflection = Reflection(
            participant_id=ana.id,
            purpose="reflection",
            call_sid="CA" + "1" * 32,
            recording_sid="RE" + "2" * 32,
            status="discarded",  # recorded again: only Twilio's copy is left to delete
            recording_status="completed",
            created_at=now,
        )
        session.add(reflection)
        session.commit()
    assert recordings.settle(services, reflection.id) == "discarded"
    with services.sessions() as session:
        reflection = session.get(Reflection, reflection.id)
        assert reflection.deleted_at_twilio == now and reflection.settled_at == now
