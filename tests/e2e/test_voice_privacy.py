"""Recordings are sensitive: who may open one, exporting them, erasing them everywhere."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
import requests
from sqlmodel import select

from jobs.tasks import sweep
from localtwilio import LocalTwilio, tone_wav
from service.infra.twilio_gateway import TwilioGateway
from service.models import (
    AttentionItem,
    AuditEvent,
    Call,
    Facilitator,
    Message,
    Participant,
    ProgramFacilitator,
    Reflection,
    Statement,
)
from service.program.accounts import create_facilitator
from service.program.erasure import erase_participant, was_erased
from service.program.exports import export_archive, export_participant
from service.voice import recordings
from tests.support.factories import ANA, BEN, make_pair, make_program
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN, free_port, local_gateway
from tests.support.voice import PhoneCall, at_step, recording_callback


@pytest.fixture
def twilio_api():
    with LocalTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def gateway(twilio_api):
    return local_gateway(twilio_api)


@pytest.fixture
def pair(services):
    program = make_program(services)
    ana, ben = make_pair(services, program)
    at_step(services, ana.id, 3)
    at_step(services, ben.id, 3)
    return program, ana, ben


def record_reflection(services, twilio_post, twilio_api, run_jobs, *, phone=ANA, keep=True):
    """One call in: the reflection is recorded, (kept,) downloaded and settled."""
    call = PhoneCall(twilio_post, from_=phone)
    root = call.press(call.answer(), "1")
    record = root.find("Record")
    sid = twilio_api.add_recording(duration=3, call_sid=call.sid)
    _, root = call.record(root, recording_sid=sid, duration=3)
    recording_callback(call, record, sid, duration=3)
    if keep:
        call.press(root, "1")
    run_jobs()
    with services.sessions() as session:
        return session.exec(select(Reflection).where(Reflection.recording_sid == sid)).one()


def test_only_facilitators_of_the_program_may_open_a_recording(
    services, pair, twilio_post, twilio_api, run_jobs
):
    program, ana, _ = pair
    reflection = record_reflection(services, twilio_post, twilio_api, run_jobs)
    with services.sessions() as session:
        owner = session.get(Facilitator, program.owner_id)
        other = create_facilitator(session, "other@example.org", "Other Coach", "a-long-password-2")
        co = create_facilitator(session, "co@example.org", "Co Coach", "a-long-password-3")
        admin = create_facilitator(
            session, "root@example.org", "Root", "a-long-password-4", role="admin"
        )
        session.add(ProgramFacilitator(program_id=program.id, facilitator_id=co.id))
        session.commit()

        for allowed in (owner, co, admin):
            path = recordings.open_recording(session, allowed, reflection.id)
            assert path == Path(reflection.storage_path)
            assert path.read_bytes() == tone_wav(3.0)
        with pytest.raises(recordings.RecordingNotFound):
            recordings.open_recording(session, other, reflection.id)
        with pytest.raises(recordings.RecordingNotFound):
            recordings.open_recording(session, owner, reflection.id + 999)
        owner.is_active = False
        with pytest.raises(recordings.RecordingNotFound):
            recordings.open_recording(session, owner, reflection.id)
        session.commit()
        listened = session.exec(
            select(AuditEvent.actor).where(AuditEvent.action == "open_recording")
        ).all()
    assert sorted(listened) == sorted(f"facilitator:{f.id}" for f in (owner, co, admin))


def test_a_recording_not_yet_downloaded_cannot_be_opened(
    services, pair, twilio_post, twilio_api, run_jobs
):
    program, _, _ = pair
    reflection = record_reflection(services, twilio_post, twilio_api, run_jobs, keep=False)
    with services.sessions() as session:
        owner = session.get(Facilitator, program.owner_id)
        with pytest.raises(recordings.RecordingNotFound):
            recordings.open_recording(session, owner, reflection.id)


def test_no_public_url_serves_the_audio(services, client, pair, twilio_post, twilio_api, run_jobs):
    reflection = record_reflection(services, twilio_post, twilio_api, run_jobs)
    name = Path(reflection.storage_path).name
    for path in (f"/{name}", f"/recordings/{name}", f"/static/{name}", f"/instance/{name}"):
        assert client.get(path).status_code == 404


def test_export_includes_the_recordings(services, pair, twilio_post, twilio_api, run_jobs):
    _, ana, _ = pair
    reflection = record_reflection(services, twilio_post, twilio_api, run_jobs)
    with services.sessions() as session:
        participant = session.get(Participant, ana.id)
        data = export_participant(session, participant)
        archive = zipfile.ZipFile(io.BytesIO(export_archive(session, participant)))
    [exported] = data["reflections"]
    assert exported["audio"] == f"recordings/{reflection.id}-reflection.wav"
    assert sorted(archive.namelist()) == ["participant.json", exported["audio"]]
    assert archive.read(exported["audio"]) == tone_wav(3.0)
    assert json.loads(archive.read("participant.json"))["reflections"][0]["id"] == reflection.id


def test_erasing_deletes_files_twilio_copies_and_data(
    services, settings, pair, twilio_post, twilio_api, run_jobs
):
    program, ana, ben = pair
    with services.sessions() as session:  # a program that keeps Twilio's copy
        from service.models import Program

        p = session.get(Program, program.id)
        p.options = {**p.options, "delete_recordings_at_twilio": False}
        session.add(p)
        session.commit()
    kept = record_reflection(services, twilio_post, twilio_api, run_jobs)
    bens = record_reflection(services, twilio_post, twilio_api, run_jobs, phone=BEN)
    assert len(twilio_api.recordings()) == 2

    result = erase_participant(services, ana.id, actor="facilitator:1")
    assert result.files_removed == 1 and result.at_twilio >= 1
    assert not Path(kept.storage_path).exists()
    run_jobs()  # the deletions at Twilio
    gone = requests.get(
        f"{twilio_api.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{kept.recording_sid}.json",
        auth=(ACCOUNT_SID, AUTH_TOKEN),
        timeout=5,
    )
    assert gone.status_code == 404
    assert [r["sid"] for r in twilio_api.recordings()] == [bens.recording_sid]
    assert Path(bens.storage_path).exists()  # the partner's own recording stays

    with services.sessions() as session:
        assert session.get(Participant, ana.id) is None
        for model in (Reflection, Statement, Call, AttentionItem, Message):
            rows = session.exec(select(model).where(model.participant_id == ana.id)).all()
            assert rows == [], model
        assert session.exec(select(Message).where(Message.to_number == ANA)).all() == []
        assert session.get(Participant, ben.id).partner_id is None
        [marker] = session.exec(
            select(AuditEvent).where(AuditEvent.action == "erase_participant")
        ).all()
        assert ANA not in json.dumps(marker.detail) and "Ana" not in json.dumps(marker.detail)
        secret = settings.effective_secret_key()
        owner = session.get(Participant, ben.id).program_id
        owner = session.get(Program, owner).owner_id
        assert was_erased(session, ANA, secret, owner) and not was_erased(
            session, BEN, secret, owner
        )


def test_erasing_while_twilio_is_down_erases_here_and_deletes_there_once_it_is_back(
    services, clock, pair, twilio_post, twilio_api, run_jobs
):
    program, ana, _ = pair
    with services.sessions() as session:
        from service.models import Program

        p = session.get(Program, program.id)
        p.options = {**p.options, "delete_recordings_at_twilio": False}
        session.add(p)
        session.commit()
    reflection = record_reflection(services, twilio_post, twilio_api, run_jobs)
    working = services.gateway
    services.gateway = TwilioGateway(
        ACCOUNT_SID, AUTH_TOKEN, api_base_url=f"http://127.0.0.1:{free_port()}", timeout=1
    )
    erase_participant(services, ana.id, actor="facilitator:1")
    run_jobs()
    assert not Path(reflection.storage_path).exists()
    with services.sessions() as session:
        assert session.get(Participant, ana.id) is None
        assert session.get(Reflection, reflection.id) is None
    assert [r["sid"] for r in twilio_api.recordings()] == [reflection.recording_sid]

    services.gateway = working
    clock.advance(minutes=2)
    sweep()
    assert twilio_api.recordings() == []
