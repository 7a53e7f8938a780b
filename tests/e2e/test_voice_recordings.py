"""Recordings end to end against the local Twilio API serving a real WAV file.

call → record → keep → download job → file on disk → deleted at Twilio → step 4, plus
transcripts, duplicate callbacks, bad signatures, and what the logs may not hold.
"""

from __future__ import annotations

import io
import logging
import re
import wave
from pathlib import Path

import pytest
import requests
from sqlmodel import select

from localtwilio import LocalTwilio
from service.infra.logs import RedactingFilter
from service.infra.twilio_gateway import TwilioGateway
from service.models import (
    AttentionItem,
    Call,
    Message,
    Participant,
    Program,
    Reflection,
    Statement,
)
from service.voice import recordings
from tests.support.factories import ANA, get, make_participant, make_program, outbound
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN, local_gateway
from tests.support.voice import (
    PhoneCall,
    at_step,
    new_call_sid,
    options,
    path_of,
    recording_callback,
    recording_requests,
    recording_url,
    said,
    voice_form,
)


def make_wav(path: Path, seconds: float = 1.5) -> bytes:
    """A real WAV (8 kHz mono, 16-bit): a rising tone, so it differs from LocalTwilio's."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes((i * 7) % 251 for i in range(int(8000 * seconds) * 2)))
    return path.read_bytes()


@pytest.fixture
def wav(tmp_path) -> tuple[Path, bytes]:
    path = tmp_path / "spoken.wav"
    return path, make_wav(path)


@pytest.fixture
def twilio_api(wav):
    with LocalTwilio(ACCOUNT_SID, AUTH_TOKEN, wav_path=wav[0]) as fake:
        yield fake


@pytest.fixture
def gateway(twilio_api):
    return local_gateway(twilio_api)


@pytest.fixture
def program(services):
    return make_program(services)


@pytest.fixture
def ana(services, program):
    return make_participant(services, program)


@pytest.fixture
def call(twilio_post):
    return PhoneCall(twilio_post)


def rows(services, model, *where):
    with services.sessions() as session:
        return list(session.exec(select(model).where(*where).order_by(model.id)).all())


def test_full_reflection_flow(services, settings, ana, call, twilio_api, wav, run_jobs):
    from service.program import commitments

    at_step(services, ana.id, 3)
    with services.sessions() as session:  # written with the facilitator before the call
        p = session.get(Participant, ana.id)
        commitments.add_commitment(session, p, "Call Ben before cancelling", now=services.now())
        session.commit()

    # Call in → menu → record.
    root = call.press(call.answer(), "1")
    record = root.find("Record")
    sid = twilio_api.add_recording(duration=42, call_sid=call.sid)  # what Twilio now holds
    _, root = call.record(root, recording_sid=sid, duration=42)
    assert "To keep it, press 1" in said(root)
    recording_callback(call, record, sid, duration=42)
    run_jobs()  # the status callback's settle job: nothing to do before the choice
    [reflection] = rows(services, Reflection)
    assert (reflection.status, reflection.storage_path, reflection.recording_status) == (
        "recorded",
        None,
        "completed",
    )

    # Keep → step 4 at once, the facilitator is told, commitments go out for agreement.
    root = call.press(root, "1")
    assert "Your reflection is kept for Dana Coach" in said(root)
    p = get(services, Participant, ana.id)
    assert (p.step, p.prompt) == (4, "agree")
    [flag] = rows(services, AttentionItem, AttentionItem.kind == "reflection")
    assert (flag.participant_id, flag.detail) == (ana.id, "recorded a reflection (0:42)")
    assert [m.template for m in outbound(services, ana.id)][-2:] == [
        "commitments_list",
        "commitment_agree_prompt",
    ]

    # The job downloads with the account's credentials, stores, deletes at Twilio.
    run_jobs()
    reflection = get(services, Reflection, reflection.id)
    stored = Path(reflection.storage_path)
    assert stored.read_bytes() == wav[1]
    assert stored.parent == Path(settings.effective_recordings_dir).resolve()
    assert re.fullmatch(r"[0-9a-f]{32}\.wav", stored.name)  # reveals nothing
    assert stored.stat().st_mode & 0o077 == 0  # owner-only
    with wave.open(io.BytesIO(stored.read_bytes())) as audio:
        assert audio.getframerate() == 8000
    assert reflection.deleted_at_twilio == services.now()
    assert reflection.settled_at is not None
    assert reflection.transcript_status == "none"  # 3-minute limit: no transcription
    assert recording_requests(twilio_api) == [("GET", f"{sid}.wav"), ("DELETE", f"{sid}.json")]
    # Settling again does nothing (the job may be delivered twice).
    assert recordings.settle(services, reflection.id) == "settled"
    assert len(recording_requests(twilio_api)) == 2
    gone = requests.get(recording_url(twilio_api, sid), auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5)
    assert gone.status_code == 404
    assert twilio_api.recordings() == []


def test_keep_before_the_recording_is_ready_waits_for_its_callback(
    services, ana, call, twilio_api, run_jobs
):
    at_step(services, ana.id, 3)
    root = call.press(call.answer(), "1")
    record = root.find("Record")
    sid = twilio_api.add_recording(duration=30, call_sid=call.sid)
    _, root = call.record(root, recording_sid=sid, duration=30)
    call.press(root, "1")
    run_jobs()
    [reflection] = rows(services, Reflection)
    assert reflection.status == "kept" and reflection.storage_path is None
    assert recording_requests(twilio_api) == []  # the action's URL may not be ready: wait
    recording_callback(call, record, sid, duration=30)
    run_jobs()
    reflection = get(services, Reflection, reflection.id)
    assert reflection.storage_path and reflection.deleted_at_twilio is not None


def test_a_re_recorded_take_is_deleted_at_twilio_and_never_downloaded(
    services, ana, call, twilio_api, run_jobs
):
    at_step(services, ana.id, 3)
    root = call.press(call.answer(), "1")
    record = root.find("Record")
    first = twilio_api.add_recording(duration=10, call_sid=call.sid)
    _, root = call.record(root, recording_sid=first, duration=10)
    recording_callback(call, record, first, duration=10)
    root = call.press(root, "2")
    run_jobs()
    assert recording_requests(twilio_api) == [("DELETE", f"{first}.json")]
    [discarded] = rows(services, Reflection)
    assert discarded.status == "discarded" and discarded.storage_path is None
    assert discarded.deleted_at_twilio is not None and discarded.settled_at is not None
    assert get(services, Participant, ana.id).step == 3


def test_program_may_keep_twilios_copy(services, program, ana, call, twilio_api, run_jobs):
    with services.sessions() as session:
        p = session.get(Program, program.id)
        p.options = {**p.options, "delete_recordings_at_twilio": False}
        session.add(p)
        session.commit()
    at_step(services, ana.id, 3)
    root = call.press(call.answer(), "1")
    record = root.find("Record")
    sid = twilio_api.add_recording(duration=10, call_sid=call.sid)
    _, root = call.record(root, recording_sid=sid, duration=10)
    recording_callback(call, record, sid, duration=10)
    call.press(root, "1")
    run_jobs()
    [reflection] = rows(services, Reflection)
    assert reflection.storage_path and reflection.deleted_at_twilio is None
    assert reflection.settled_at is not None
    assert recording_requests(twilio_api) == [("GET", f"{sid}.wav")]
    assert len(twilio_api.recordings()) == 1


def test_transcript_is_stored_and_twilios_copy_waits_for_it(
    services, program, ana, call, twilio_api, run_jobs
):
    with services.sessions() as session:
        p = session.get(Program, program.id)
        p.options = {**p.options, "recording_max_seconds": 90}
        session.add(p)
        session.commit()
    at_step(services, ana.id, 1, prompt="step1_what_happened")
    root = call.press(call.answer(), "1")
    record = root.find("Record")
    assert record.get("transcribe") == "true"
    sid = twilio_api.add_recording(duration=25, call_sid=call.sid)
    _, root = call.record(root, recording_sid=sid, duration=25)
    recording_callback(call, record, sid, duration=25)
    call.press(root, "1")
    run_jobs()
    [reflection] = rows(services, Reflection)
    assert reflection.transcript_status == "pending"
    assert reflection.storage_path and reflection.deleted_at_twilio is None  # waiting
    [statement] = rows(services, Statement)
    assert (statement.kind, statement.channel, statement.body) == ("what_happened", "voice", "")

    form = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": call.sid,
        "RecordingSid": sid,
        "TranscriptionSid": "TR" + "1" * 32,
        "TranscriptionStatus": "completed",
        "TranscriptionText": "I missed the investor meeting we had planned.",
        "TranscriptionType": "fast",
    }
    assert call.post(path_of(record.get("transcribeCallback")), form).status_code == 204
    assert call.post(path_of(record.get("transcribeCallback")), form).status_code == 204
    run_jobs()
    reflection = get(services, Reflection, reflection.id)
    assert reflection.transcript == "I missed the investor meeting we had planned."
    assert reflection.transcript_status == "completed"
    assert reflection.deleted_at_twilio is not None
    assert get(services, Statement, statement.id).body == reflection.transcript


def test_a_transcript_that_never_comes_does_not_keep_twilios_copy(
    services, program, ana, call, twilio_api, run_jobs, clock
):
    with services.sessions() as session:
        p = session.get(Program, program.id)
        p.options = {**p.options, "recording_max_seconds": 60}
        session.add(p)
        session.commit()
    at_step(services, ana.id, 3)
    root = call.press(call.answer(), "1")
    record = root.find("Record")
    sid = twilio_api.add_recording(duration=25, call_sid=call.sid)
    _, root = call.record(root, recording_sid=sid, duration=25)
    recording_callback(call, record, sid)
    call.press(root, "1")
    run_jobs()
    assert twilio_api.recordings() != []
    clock.advance(minutes=31)
    recordings.sweep(services)
    assert twilio_api.recordings() == []


def test_hang_up_before_choosing_is_kept_when_the_call_completes(
    services, ana, call, twilio_api, run_jobs
):
    at_step(services, ana.id, 3)
    root = call.press(call.answer(), "1")
    record = root.find("Record")
    sid = twilio_api.add_recording(duration=15, call_sid=call.sid)
    call.record(root, recording_sid=sid, duration=15)
    recording_callback(call, record, sid, duration=15)
    # They hang up at "press 1 to keep it": the call's status callback says completed.
    response = call.post("/twilio/voice/status", voice_form(call.sid, CallStatus="completed"))
    assert response.status_code == 204
    run_jobs()
    [reflection] = rows(services, Reflection)
    assert reflection.status == "kept" and reflection.storage_path
    assert get(services, Participant, ana.id).step == 4
    assert get(services, Call, rows(services, Call)[0].id).status == "completed"


def test_undecided_recordings_are_kept_by_the_sweeper(services, ana, call, twilio_api, clock):
    import jobs.tasks

    at_step(services, ana.id, 3)
    root = call.press(call.answer(), "1")
    record = root.find("Record")
    sid = twilio_api.add_recording(duration=15, call_sid=call.sid)
    call.record(root, recording_sid=sid, duration=15)
    recording_callback(call, record, sid)
    clock.advance(minutes=16)  # no status callback configured for calls in
    result = jobs.tasks.sweep_voice()
    assert result["kept_undecided"] == 1
    [reflection] = rows(services, Reflection)
    assert reflection.status == "kept" and reflection.deleted_at_twilio is not None
    assert get(services, Participant, ana.id).step == 4


def test_duplicate_callbacks_are_stored_once(services, ana, call, twilio_api, run_jobs):
    at_step(services, ana.id, 3)
    root = call.answer()
    call.answer()  # Twilio retried the connect webhook
    root = call.press(root, "1")
    record = root.find("Record")
    sid = twilio_api.add_recording(duration=20, call_sid=call.sid)
    # The status callback first, then the action twice: one row, one choice.
    recording_callback(call, record, sid)
    recording_callback(call, record, sid)
    _, keep_root = call.record(root, recording_sid=sid)
    call.record(root, recording_sid=sid)
    first = call.press(keep_root, "1")
    again = call.press(keep_root, "1")
    assert "Your reflection is kept" in said(first)
    assert "Your reflection is kept" not in said(again) and "It's kept" in said(again)
    run_jobs()
    assert len(rows(services, Call)) == 1
    [reflection] = rows(services, Reflection)
    assert reflection.status == "kept" and reflection.storage_path
    assert len(rows(services, AttentionItem, AttentionItem.kind == "reflection")) == 1
    assert get(services, Participant, ana.id).step == 4
    assert recording_requests(twilio_api).count(("GET", f"{sid}.wav")) == 1
    assert len(list(Path(reflection.storage_path).parent.glob("*.wav"))) == 1


def test_a_failed_download_is_retried_then_flagged(services, ana, call, twilio_api, clock):
    at_step(services, ana.id, 3)
    root = call.press(call.answer(), "1")
    record = root.find("Record")
    sid = "RE" + "ab" * 16  # Twilio says completed, but the audio is gone there
    _, root = call.record(root, recording_sid=sid)
    recording_callback(call, record, sid)
    call.press(root, "1")
    [reflection] = rows(services, Reflection)
    assert recordings.settle(services, reflection.id) == "failed"  # a 404: gone for good
    [flag] = rows(services, AttentionItem, AttentionItem.kind == "recording_problem")
    assert flag.detail.startswith("a kept recording could not be saved")
    assert get(services, Reflection, reflection.id).settled_at is not None


def test_twilio_down_then_back(services, ana, call, twilio_api, clock):
    at_step(services, ana.id, 3)
    root = call.press(call.answer(), "1")
    record = root.find("Record")
    sid = twilio_api.add_recording(duration=20, call_sid=call.sid)
    _, root = call.record(root, recording_sid=sid)
    recording_callback(call, record, sid)
    call.press(root, "1")
    [reflection] = rows(services, Reflection)
    down = TwilioGateway(ACCOUNT_SID, AUTH_TOKEN, api_base_url="http://127.0.0.1:9", timeout=1)
    services.gateway, real = down, services.gateway
    try:
        assert recordings.settle(services, reflection.id) == "retry"
        assert recordings.sweep(services) == 0  # not before the back-off
    finally:
        services.gateway = real
    clock.advance(minutes=2)
    assert recordings.sweep(services) == 1
    reflection = get(services, Reflection, reflection.id)
    assert reflection.storage_path and reflection.deleted_at_twilio is not None
    assert rows(services, AttentionItem, AttentionItem.kind == "recording_problem") == []


@pytest.mark.parametrize(
    "path",
    [
        "/twilio/voice",
        "/twilio/voice/menu",
        "/twilio/voice/recorded?purpose=reflection&tx=0",
        "/twilio/voice/keep?reflection=1",
        "/twilio/voice/checkin?checkin=1",
        "/twilio/voice/recording?purpose=reflection&tx=0",
        "/twilio/voice/transcription",
        "/twilio/voice/status",
    ],
)
def test_bad_signatures_get_403_and_nothing_is_stored(services, ana, twilio_post, path):
    at_step(services, ana.id, 3)
    form = voice_form(
        new_call_sid(),
        Digits="1",
        RecordingSid="RE" + "cd" * 16,
        RecordingDuration="20",
        RecordingStatus="completed",
        TranscriptionStatus="completed",
        TranscriptionText="x",
    )
    for signature in ("", "bm90IGEgc2lnbmF0dXJl"):
        response = twilio_post(path, form, signature=signature)
        assert response.status_code == 403
    # Signed for another URL (a replay to a different route) is refused too.
    assert (
        twilio_post(path, form, signature=_signature_for(services, "/twilio/sms", form)).status_code
        == 403
    )
    assert rows(services, Call) == [] and rows(services, Reflection) == []
    assert rows(services, Message, Message.direction == "in") == []


def _signature_for(services, path, form):
    from twilio.request_validator import RequestValidator

    url = services.settings.public_base_url + path
    return RequestValidator(services.webhook_token).compute_signature(url, form)


def test_logs_hold_no_number_and_no_recording_url(services, ana, call, twilio_api, run_jobs):
    # The app's logs at the production level; LocalTwilio (a test double) logs its own.
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            if not record.name.startswith("localtwilio"):
                lines.append(record.getMessage())

    handler = Keep(level=logging.INFO)
    handler.addFilter(RedactingFilter())  # what every configured handler carries
    root_logger = logging.getLogger()
    old_level = root_logger.level
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.INFO)
    try:
        at_step(services, ana.id, 3)
        root = call.press(call.answer(), "1")
        record = root.find("Record")
        sid = twilio_api.add_recording(duration=20, call_sid=call.sid)
        _, root = call.record(root, recording_sid=sid)
        recording_callback(call, record, sid)
        call.press(root, "1")
        run_jobs()
        PhoneCall(call.post, from_="+12015559999").answer()
    finally:
        root_logger.removeHandler(handler)
        root_logger.setLevel(old_level)
    text = "\n".join(lines)
    assert lines
    assert ANA not in text and ANA[1:] not in text and "+12015559999" not in text
    assert "/Recordings/" not in text and sid not in text


def test_call_menu_after_keeping_offers_whats_next(services, ana, call, twilio_api):
    at_step(services, ana.id, 3)
    root = call.press(call.answer(), "1")
    sid = twilio_api.add_recording(duration=20, call_sid=call.sid)
    _, root = call.record(root, recording_sid=sid)
    root = call.press(root, "1")
    assert options(root) == [
        "To hear your commitments, press 1, or say commitments.",
        "To leave a message for Dana Coach, press 2, or say message.",
    ]
