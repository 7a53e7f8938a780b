"""Erasure leaves nothing behind: no row, no audit line, no file and no copy at Twilio names
the person afterwards, a Twilio outage only delays the deletions there, and an erased
person's ids are never handed to someone else.

The person goes through the real doors: enrolled (the invitation goes to the local Twilio
API), texting (each text kept by the local API first, as Twilio does, then posted to our
webhook), calling in and recording a reflection, and texting a number no program owns.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel, select

import jobs.tasks
from service.infra.twilio_gateway import TwilioGateway
from service.messaging.delivery import deliver_many
from service.models import AuditEvent, Message, Participant, Program, Reflection
from service.program.erasure import erase_participant, was_erased
from tests.support.factories import (
    ANA,
    BEN,
    PROGRAM_NUMBER,
    make_pair,
    make_participant,
    make_program,
    sms_form,
)
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN, free_port, local_gateway
from tests.support.voice import PhoneCall, at_step, recording_callback

UNOWNED = "+12015550999"  # a number of the account that no program has
ANA_DIGITS = ANA.removeprefix("+1")


@pytest.fixture
def gateway(local_twilio):
    return local_gateway(local_twilio)


def text(twilio_post, local_twilio, run_jobs, body, *, from_=ANA, to=PROGRAM_NUMBER, media=0):
    """A text reaches Twilio (which keeps it), then our webhook; its turn runs."""
    kept = local_twilio.add_inbound(from_, to, body, media=media)
    extra = {f"MediaUrl{i}": url for i, url in enumerate(kept["media_urls"])}
    form = sms_form(body, sid=kept["sid"], from_=from_, to=to, NumMedia=str(media), **extra)
    assert twilio_post("/twilio/sms", form).status_code == 200
    run_jobs()
    return kept["sid"]


def reflection_call(services, twilio_post, local_twilio, run_jobs, *, phone=ANA):
    """A call in (kept by Twilio): a reflection is recorded, kept and downloaded."""
    sid = local_twilio.add_inbound_call(phone, PROGRAM_NUMBER)
    call = PhoneCall(twilio_post, from_=phone, sid=sid)
    root = call.press(call.answer(), "1")
    record = root.find("Record")
    sid = local_twilio.add_recording(duration=3, call_sid=call.sid)
    _, root = call.record(root, recording_sid=sid, duration=3)
    recording_callback(call, record, sid, duration=3)
    call.press(root, "1")  # keep it
    run_jobs()
    with services.sessions() as session:
        reflection = session.exec(select(Reflection).where(Reflection.recording_sid == sid)).one()
    assert reflection.storage_path and Path(reflection.storage_path).exists()
    return reflection


@pytest.fixture
def story(services, twilio_post, local_twilio, run_jobs):
    """Ana and her partner Ben, both texting and calling; Ana also texts a stray number."""
    program = make_program(services)
    with services.sessions() as session:  # a program that keeps Twilio's copy of audio
        p = session.get(Program, program.id)
        p.options = {**p.options, "delete_recordings_at_twilio": False}
        session.commit()
    ana, ben = make_pair(services, program)
    run_jobs()  # the invitations go out
    for phone in (ANA, BEN):
        text(twilio_post, local_twilio, run_jobs, "Yes", from_=phone)
        text(twilio_post, local_twilio, run_jobs, "I missed the launch date", from_=phone)
    text(twilio_post, local_twilio, run_jobs, "and the photo", media=1)
    text(twilio_post, local_twilio, run_jobs, "is this Realign?", to=UNOWNED)
    for person in (ana, ben):
        at_step(services, person.id, 3)
    reflections = {
        phone: reflection_call(services, twilio_post, local_twilio, run_jobs, phone=phone)
        for phone in (ANA, BEN)
    }
    return program, ana, ben, reflections


def naming_rows(services, participant_id: int, phone: str = ANA) -> dict[str, int]:
    """Rows of every table that name the person: their number (however written) in any
    value, or their id in a column that points at a participant. The erasure marker holds
    neither, so it is never counted."""
    digits = phone.removeprefix("+1")
    found: dict[str, int] = {}
    with services.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)).mappings():
                values = {k: v for k, v in row.items()}
                blob = json.dumps(values, default=str)
                squeezed = "".join(ch for ch in blob if ch.isdigit() or ch == '"')
                by_id = any(
                    values.get(column) == participant_id
                    for column in ("participant_id", "partner_id", "subject_id")
                )
                if table.name == "participant" and values["id"] == participant_id:
                    by_id = True
                if table.name == "auditevent":
                    by_id = by_id or values["actor"] == f"participant:{participant_id}"
                    by_id = by_id or (
                        values["entity"] == "participant" and values["entity_id"] == participant_id
                    )
                if by_id or digits in squeezed:
                    found[table.name] = found.get(table.name, 0) + 1
    return found


def at_twilio(local_twilio, phone: str = ANA) -> dict[str, int]:
    """What the local Twilio API still keeps of the person: texts to or from them, their
    media, their calls and their calls' recordings."""
    messages = [m for m in local_twilio.messages() if phone in (m["to"], m["from"])]
    calls = {c["sid"] for c in local_twilio.calls() if phone in (c["to"], c["from"])}
    message_sids = {m["sid"] for m in messages}
    media = [m for m in local_twilio.media() if m["parent_sid"] in message_sids]
    every_call = {c["sid"] for c in local_twilio.calls()}
    # Their calls' recordings, and any whose call is gone (only theirs were deleted).
    recordings = [
        r
        for r in local_twilio.recordings()
        if r["call_sid"] in calls or r["call_sid"] not in every_call
    ]
    return {
        "messages": len(messages),
        "media": len(media),
        "calls": len(calls),
        "recordings": len(recordings),
    }


NOTHING = {"messages": 0, "media": 0, "calls": 0, "recordings": 0}


def test_erasure_leaves_nothing_that_names_them(services, settings, story, local_twilio, run_jobs):
    program, ana, ben, reflections = story
    before = at_twilio(local_twilio)
    assert before["messages"] >= 6 and before["media"] == 1
    assert (before["calls"], before["recordings"]) == (1, 1)
    assert naming_rows(services, ana.id)["auditevent"] >= 1  # the enrolment, the partner link
    ben_before = at_twilio(local_twilio, BEN)

    erase_participant(services, ana.id, actor="facilitator:1")
    run_jobs()  # the deletions at Twilio

    assert naming_rows(services, ana.id) == {}
    assert at_twilio(local_twilio) == NOTHING
    # On disk only the partner's own recording is left.
    folder = Path(reflections[BEN].storage_path).parent
    assert [p for p in folder.rglob("*") if p.is_file()] == [Path(reflections[BEN].storage_path)]
    # The partner keeps everything of their own, here and at Twilio.
    assert at_twilio(local_twilio, BEN) == ben_before
    with services.sessions() as session:
        assert session.get(Participant, ben.id).partner_id is None
        assert session.exec(select(Message).where(Message.participant_id == ben.id)).all()
        [marker] = session.exec(select(AuditEvent).where(AuditEvent.action == "erase_participant"))
        assert set(marker.detail) == {"phone_hmac", "program_id", "owner_id"}
        assert was_erased(session, ANA, settings.effective_secret_key(), program.owner_id)
    # Deleting at Twilio went through the real client's DELETE requests.
    deletes = {r["path"].split("/")[4] for r in local_twilio.requests() if r["method"] == "DELETE"}
    assert deletes == {"Messages", "Calls", "Recordings"}
    with services.sessions() as session:
        assert session.execute(sa.text("SELECT count(*) FROM pendingdeletion")).scalar() == 0


def test_a_twilio_outage_delays_the_deletions_there_but_not_the_erasure(
    services, clock, story, local_twilio, run_jobs
):
    _, ana, _, reflections = story
    before = at_twilio(local_twilio)
    working = services.gateway
    services.gateway = TwilioGateway(
        ACCOUNT_SID, AUTH_TOKEN, api_base_url=f"http://127.0.0.1:{free_port()}", timeout=1
    )

    erase_participant(services, ana.id, actor="facilitator:1")  # no error: Twilio waits
    run_jobs()  # the deletion job finds Twilio away
    assert naming_rows(services, ana.id) == {}
    assert not Path(reflections[ANA].storage_path).exists()
    assert at_twilio(local_twilio) == before  # still there, and remembered

    clock.advance(minutes=3)
    jobs.tasks.sweep()  # still away: tried again, kept for later
    assert at_twilio(local_twilio) == before

    services.gateway = working  # Twilio is back
    clock.advance(minutes=5)
    jobs.tasks.sweep()
    assert at_twilio(local_twilio) == NOTHING
    assert naming_rows(services, ana.id) == {}


def test_an_erased_participants_id_is_never_given_to_someone_else(services, run_jobs):
    program = make_program(services)
    make_participant(services, program, name="Cy First", phone="+12015550140")
    erased = make_participant(services, program)  # the highest ids so far
    with services.sessions() as session:
        invite = session.exec(select(Message).where(Message.participant_id == erased.id)).one()
    erase_participant(services, erased.id, actor="facilitator:1")
    newcomer = make_participant(services, program, name="Di New", phone="+12015550141")
    assert newcomer.id > erased.id
    with services.sessions() as session:
        theirs = session.exec(select(Message).where(Message.participant_id == newcomer.id)).one()
    assert theirs.id > invite.id


def test_a_partner_link_naming_them_goes_and_the_partners_own_lines_stay(services):
    program = make_program(services)
    ana, ben = make_pair(services, program)  # the link is Ana's row, naming Ben in its detail
    erase_participant(services, ben.id, actor="facilitator:1")
    with services.sessions() as session:
        left = session.exec(select(AuditEvent).where(AuditEvent.action != "erase_participant"))
        left = [(e.action, e.entity, e.entity_id, e.detail) for e in left]
    assert left == [
        ("create_program", "program", program.id, {}),
        ("enroll", "participant", ana.id, {}),
    ]
    assert naming_rows(services, ben.id, BEN) == {}


def test_a_text_erased_while_twilio_takes_it_is_deleted_there_too(services, local_twilio, run_jobs):
    program = make_program(services)
    ana = make_participant(services, program)
    with services.sessions() as session:
        invite = session.exec(select(Message).where(Message.participant_id == ana.id)).one()
    local_twilio.hang(1.0, ANA, after_record=True, times=1)  # Twilio keeps it, answers late
    sender = threading.Thread(target=deliver_many, args=(services, [invite.id]))
    sender.start()
    deadline = time.monotonic() + 5
    while not local_twilio.messages():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    erase_participant(services, ana.id, actor="facilitator:1")  # while the send is out
    sender.join(10)
    run_jobs()
    assert at_twilio(local_twilio) == NOTHING and local_twilio.recordings() == []
    assert naming_rows(services, ana.id) == {}


def test_a_recording_made_as_they_were_erased_is_deleted_at_twilio(
    services, twilio_post, local_twilio, run_jobs
):
    program = make_program(services)
    ana = make_participant(services, program)
    at_step(services, ana.id, 3)
    call = PhoneCall(twilio_post, sid=local_twilio.add_inbound_call(ANA, PROGRAM_NUMBER))
    root = call.press(call.answer(), "1")
    record = root.find("Record")
    erase_participant(services, ana.id, actor="facilitator:1")  # while they are speaking
    run_jobs()  # the call is deleted at Twilio; its recording is not finished yet
    sid = local_twilio.add_recording(duration=3, call_sid=call.sid)
    call.record(root, recording_sid=sid, duration=3)
    recording_callback(call, record, sid, duration=3)
    run_jobs()
    assert at_twilio(local_twilio) == NOTHING and local_twilio.recordings() == []
    assert naming_rows(services, ana.id) == {}
