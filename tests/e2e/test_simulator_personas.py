"""The simulator acts only as test personas, and a persona's texts never reach Twilio.

The app here sends through the real twilio client to a local Twilio-compatible API (not the
console), as a deployment with credentials does, and a real RQ worker runs what was queued:
so a text that reached the gateway would show in the local API's message list.
"""

from __future__ import annotations

import re
import wave
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from rq import SimpleWorker

import jobs.context
import jobs.tasks
from service.config import load_settings
from service.messaging import delivery
from service.models import Call, Message, Participant, Reflection, Statement
from service.voice import calls as voice_calls
from tests.support.admin import PASSWORD
from tests.support.factories import FakeClock
from tests.support.queues import lane_queues, release_due
from tests.support.twilio import with_local_twilio

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SENDER = "+12015550000"


@pytest.fixture
def admin_clock():
    """Midday UTC: inside everyone's waking hours, so a real participant's text leaves."""
    now = datetime.now(UTC)
    return FakeClock(now.replace(hour=12, minute=0, second=0, microsecond=0))


@pytest.fixture
def admin_app(
    tmp_path, admin_db, admin_redis, admin_redis_url, admin_clock, fast_hashes, local_twilio
):
    """The admin app with Twilio credentials, sending to the local Twilio API."""
    from service.app import create_app

    settings = load_settings(
        database_url=str(admin_db.url.render_as_string(hide_password=False)),
        redis_url=admin_redis_url,
        secret_key="test",
        instance_dir=tmp_path,
        public_base_url="http://localhost",
        twilio_from_number=SENDER,
    )
    settings = with_local_twilio(settings, local_twilio)
    app = create_app(settings, engine=admin_db, redis=admin_redis, clock=admin_clock)
    app.config["TESTING"] = True
    jobs.context.use(app.extensions["realign"])
    yield app
    jobs.context.use(None)


@pytest.fixture
def client(admin_app):
    return admin_app.test_client()


def csrf(client, path="/admin/login") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return TOKEN.search(page.text).group(1)


def login(client, email="ana@example.org"):
    data = {"email": email, "password": PASSWORD, "csrf_token": csrf(client)}
    assert client.post("/admin/login", data=data).status_code == 302


def run_worker(app) -> None:
    """What a worker (and its scheduler) does with everything queued and due: run it."""
    services = app.extensions["realign"]
    queues = lane_queues(services.redis)
    worker = SimpleWorker(queues, connection=services.redis)
    while release_due(services.redis, services.now()) or sum(q.count for q in queues):
        worker.work(burst=True)


def sessions(app):
    return app.extensions["realign"].sessions()


def new_persona(client, admin_app, program_id) -> Participant:
    page = f"/admin/simulator/?program_id={program_id}"
    response = client.post(
        "/admin/simulator/persona",
        data={"csrf_token": csrf(client, page), "program_id": program_id},
    )
    assert response.status_code == 302
    with sessions(admin_app) as s:
        return s.scalar(
            sa.select(Participant).where(
                Participant.program_id == program_id, Participant.name.like("Test persona%")
            )
        )


def text_as(client, participant_id, body):
    return client.post(
        "/admin/simulator/text",
        data={
            "csrf_token": csrf(client, "/admin/simulator/"),
            "participant_id": participant_id,
            "body": body,
        },
    )


def what_ari_has(app, ari_id) -> dict:
    with sessions(app) as s:
        ari = s.get(Participant, ari_id)
        return {
            "status": ari.status,
            "consent_at": ari.consent_at,
            "step": ari.step,
            "messages": s.scalar(
                sa.select(sa.func.count(Message.id)).where(
                    sa.or_(Message.participant_id == ari_id, Message.from_number == ari.phone)
                )
            ),
            "statements": s.scalar(
                sa.select(sa.func.count(Statement.id)).where(Statement.participant_id == ari_id)
            ),
            "calls": s.scalar(
                sa.select(sa.func.count(Call.id)).where(Call.participant_id == ari_id)
            ),
        }


def test_the_simulator_offers_only_test_personas(admin_app, client, world):
    login(client)
    persona = new_persona(client, admin_app, world.ana_program)
    page = client.get(f"/admin/simulator/?program_id={world.ana_program}").text
    people = page[page.index('id="people"') : page.index("</ul>", page.index('id="people"'))]
    assert persona.name in people
    assert "Ari Ana-side" not in people  # the program's real participant
    assert f"participant_id={world.ana_participant}" not in page


def test_texting_or_calling_as_a_real_participant_is_refused_and_nothing_is_kept(
    admin_app, client, world, local_twilio
):
    login(client)
    before = what_ari_has(admin_app, world.ana_participant)
    assert before["status"] == "invited" and before["consent_at"] is None

    for body in ("YES", "STOP", "We both missed the launch date."):
        response = text_as(client, world.ana_participant, body)
        assert response.status_code == 403, body
        assert "acts only as test personas" in response.text
        assert "Ari Ana-side is a real participant" in response.text
    # Opening their thread, calling as them: refused the same way.
    page = client.get(f"/admin/simulator/?participant_id={world.ana_participant}")
    assert page.status_code == 403 and "only as test personas" in page.text
    token = csrf(client, "/admin/simulator/")
    for path, extra in (
        ("/admin/simulator/call", {}),
        ("/admin/simulator/call/answer", {"digits": "1"}),
    ):
        response = client.post(
            path, data={"csrf_token": token, "participant_id": world.ana_participant, **extra}
        )
        assert response.status_code == 403, path

    run_worker(admin_app)
    assert what_ari_has(admin_app, world.ana_participant) == before  # no consent, no STOP
    assert local_twilio.messages() == [] and local_twilio.calls() == []  # her phone: nothing


def test_a_personas_texts_never_reach_twilio_even_when_a_worker_sends_them(
    admin_app, client, world, local_twilio
):
    login(client)
    persona = new_persona(client, admin_app, world.ana_program)
    url = f"/admin/simulator/?participant_id={persona.id}"
    for body in ("YES", "We both missed the launch date."):
        assert text_as(client, persona.id, body).status_code == 302
    # The facilitator asks for the prompt again from the persona's page, and for Ari's
    # invitation again: both go to the queue, and the worker sends them.
    details = f"/admin/participants/details/?id={persona.id}"
    for pid, action in ((persona.id, "prompt"), (world.ana_participant, "invite")):
        response = client.post(
            "/admin/participants/do/",
            data={"csrf_token": csrf(client, details), "id": pid, "action": action},
        )
        assert response.status_code == 302
    run_worker(admin_app)

    with sessions(admin_app) as s:
        out = s.scalars(
            sa.select(Message).where(
                Message.participant_id == persona.id, Message.direction == "out"
            )
        ).all()
    # The local Twilio API was asked for Ari's invitation only: nothing of the persona's.
    assert [m["to"] for m in local_twilio.messages()] == ["+12015550111"]
    assert not [r for r in local_twilio.requests() if persona.phone in str(r)]
    assert len(out) >= 4  # the invitation, the welcome, two prompts
    assert {m.status for m in out} == {"console"}, [(m.template, m.status) for m in out]
    shown = client.get(url).text
    assert shown.count('data-direction="out"') == len(out)  # the thread shows them all


def test_a_call_a_persona_asks_for_is_never_placed_at_twilio(
    admin_app, client, world, local_twilio
):
    login(client)
    persona = new_persona(client, admin_app, world.ana_program)
    assert text_as(client, persona.id, "YES").status_code == 302
    details = f"/admin/participants/details/?id={persona.id}"
    for _ in range(2):  # on to step 3, the listening call
        response = client.post(
            "/admin/participants/do/",
            data={"csrf_token": csrf(client, details), "id": persona.id, "action": "advance"},
        )
        assert response.status_code == 302
    assert text_as(client, persona.id, "CALL").status_code == 302  # "call me"
    run_worker(admin_app)
    swept = voice_calls.sweep(admin_app.extensions["realign"])  # the scheduler's voice sweep
    assert (swept["due"], swept["placed"]) == (1, 1)

    with sessions(admin_app) as s:
        calls = s.scalars(sa.select(Call).where(Call.participant_id == persona.id)).all()
        assert s.get(Participant, persona.id).step == 3
    assert [c.status for c in calls] == ["console"]  # placed, on the console
    assert local_twilio.calls() == []
    assert not [r for r in local_twilio.requests() if persona.phone in str(r)]


# The simulator, trustworthy ------------------------------------------------------------


def act(client, participant_id, action):
    details = f"/admin/participants/details/?id={participant_id}"
    response = client.post(
        "/admin/participants/do/",
        data={"csrf_token": csrf(client, details), "id": participant_id, "action": action},
    )
    assert response.status_code == 302, action


def post_sim(client, path, participant_id, **extra):
    return client.post(
        f"/admin/simulator/{path}",
        data={
            "csrf_token": csrf(client, "/admin/simulator/"),
            "participant_id": participant_id,
            **extra,
        },
    )


def test_a_personas_texts_are_marked_when_written_and_the_real_claim_never_takes_them(
    admin_app, client, world, local_twilio
):
    login(client)
    persona = new_persona(client, admin_app, world.ana_program)
    assert text_as(client, persona.id, "YES").status_code == 302
    act(client, persona.id, "prompt")  # queued for the worker, as from the persona's page
    act(client, world.ana_participant, "invite")  # a real person's text, for comparison
    svc = admin_app.extensions["realign"]
    with sessions(admin_app) as s:
        theirs = s.scalars(
            sa.select(Message).where(Message.participant_id == persona.id).order_by(Message.id)
        ).all()
        [ari] = s.scalars(
            sa.select(Message).where(Message.participant_id == world.ana_participant)
        ).all()
        assert {m.direction for m in theirs} == {"in", "out"}
        assert all(m.simulated for m in theirs) and not ari.simulated
        [waiting] = [m for m in theirs if m.status == "pending"]
        # The real gateway's claim does not take it, however it is asked.
        assert delivery.claim(s, [waiting.id], svc.now()) == []
    with admin_app.app_context():
        outcome = jobs.tasks.send_messages([waiting.id])  # the worker's own send job
    assert outcome == {"console": 1}
    with sessions(admin_app) as s:
        sent = s.get(Message, waiting.id)
        assert (sent.status, sent.twilio_sid[:9]) == ("console", "SMconsole")
    assert not [r for r in local_twilio.requests() if persona.phone in str(r)]


def test_after_a_send_the_newest_text_is_in_view(admin_app, client, world):
    login(client)
    persona = new_persona(client, admin_app, world.ana_program)
    for n in range(22):  # a long thread: more than the page shows
        response = text_as(client, persona.id, "YES" if n == 0 else f"Answer number {n}")
        assert response.status_code == 302
    assert response.headers["Location"].endswith("#newest")
    page = client.get(response.headers["Location"].split("#")[0]).text
    with sessions(admin_app) as s:
        newest = s.scalars(
            sa.select(Message)
            .where(Message.participant_id == persona.id)
            .order_by(Message.created_at.desc(), Message.id.desc())
        ).first()
        total = s.scalar(
            sa.select(sa.func.count(Message.id)).where(Message.participant_id == persona.id)
        )
    assert total > 40
    at = page.index('id="newest"')
    assert newest.body.split("\n")[0] in page[at : at + 2000].replace("&#39;", "'")
    assert page.count('data-direction="') == 40
    assert f"{total - 40} earlier texts" in page
    assert page.index('id="newest"') < page.index('id="send-text"')  # right above the box


def test_the_page_says_plainly_it_never_acts_for_a_real_person(admin_app, client, world):
    login(client)
    page = client.get(f"/admin/simulator/?program_id={world.ana_program}").text
    assert "Only test personas, never a real person" in page
    assert "record consent, answers or keywords they never gave" in page
    refused = client.get(f"/admin/simulator/?participant_id={world.ana_participant}")
    assert refused.status_code == 403
    assert "would record consent and answers they never gave" in refused.text


def step3_call(client, admin_app, world):
    """A persona at step 3 on a call to the program, at the beep."""
    persona = new_persona(client, admin_app, world.ana_program)
    assert text_as(client, persona.id, "YES").status_code == 302
    act(client, persona.id, "advance")
    act(client, persona.id, "advance")
    assert post_sim(client, "call", persona.id).status_code == 302
    page = client.get(f"/admin/simulator/?participant_id={persona.id}").text
    if 'id="pretend-record"' not in page:  # a menu first: "press 1 to record"
        assert post_sim(client, "call/answer", persona.id, digits="1").status_code == 302
        page = client.get(f"/admin/simulator/?participant_id={persona.id}").text
    assert "Pretend I recorded 40 seconds" in page, page[page.index('id="call"') :][:3000]
    return persona


def test_step_3_is_walked_with_a_pretend_40_second_recording(
    admin_app, client, world, local_twilio
):
    login(client)
    persona = step3_call(client, admin_app, world)
    assert post_sim(client, "call/record", persona.id).status_code == 302
    page = client.get(f"/admin/simulator/?participant_id={persona.id}").text
    assert "speaks for 40 seconds" in page and "press 1" in page.lower()
    assert post_sim(client, "call/answer", persona.id, digits="1").status_code == 302
    with sessions(admin_app) as s:
        p = s.get(Participant, persona.id)
        [reflection] = s.scalars(
            sa.select(Reflection).where(Reflection.participant_id == persona.id)
        ).all()
    assert p.step == 4  # on to the commitments
    assert (reflection.purpose, reflection.status, reflection.duration_s) == (
        "reflection", "kept", 40,
    )  # fmt: skip
    assert reflection.recording_status == "completed" and reflection.settled_at is not None
    stored = Path(reflection.storage_path)
    assert re.fullmatch(r"[0-9a-f]{32}\.wav", stored.name)  # saved like a real recording
    with wave.open(str(stored)) as audio:
        assert audio.getnframes() / audio.getframerate() == 40
    assert stored.stat().st_size < 400_000
    details = client.get(f"/admin/participants/details/?id={persona.id}").text
    assert "<audio" in details  # the facilitator can listen to it
    run_worker(admin_app)  # the queued settle job: nothing left to do
    assert local_twilio.calls() == []
    assert not [r for r in local_twilio.requests() if "Recordings" in str(r)]


def test_a_personas_recording_is_never_fetched_from_or_deleted_at_twilio(
    admin_app, client, world, local_twilio
):
    """Straight through the voice webhooks, as a call to the program would come: the
    recording of a persona is settled without asking Twilio for its audio."""
    from admin.simulator import signed_post

    login(client)
    persona = new_persona(client, admin_app, world.ana_program)
    assert text_as(client, persona.id, "YES").status_code == 302
    act(client, persona.id, "advance")
    act(client, persona.id, "advance")
    call = {"CallSid": "CA" + "1" * 32, "AccountSid": "AC" + "0" * 32, "From": persona.phone,
            "To": SENDER, "Direction": "inbound", "CallStatus": "in-progress"}  # fmt: skip
    sid = "RE" + "2" * 32
    recording = {"RecordingSid": sid, "RecordingDuration": "40",
                 "RecordingUrl": f"https://api.twilio.com/x/Recordings/{sid}"}  # fmt: skip
    with admin_app.test_request_context():
        assert signed_post("/twilio/voice", call).status_code == 200
        signed_post("/twilio/voice/menu", {**call, "Digits": "1"})
        signed_post("/twilio/voice/recorded?purpose=reflection&tx=1", {**call, **recording})
        signed_post(
            "/twilio/voice/recording?purpose=reflection&tx=1",
            {**call, **recording, "RecordingStatus": "completed"},
        )
        with sessions(admin_app) as s:
            reflection_id = s.scalar(
                sa.select(Reflection.id).where(Reflection.recording_sid == sid)
            )
        signed_post(f"/twilio/voice/keep?reflection={reflection_id}", {**call, "Digits": "1"})
        signed_post(
            "/twilio/voice/transcription",
            {**call, "RecordingSid": sid, "TranscriptionStatus": "completed",
             "TranscriptionText": "I heard how much the launch mattered."},
        )  # fmt: skip
    run_worker(admin_app)
    with sessions(admin_app) as s:
        reflection = s.get(Reflection, reflection_id)
    assert reflection.status == "kept" and reflection.storage_path
    assert reflection.settled_at is not None
    assert not [r for r in local_twilio.requests() if sid in str(r)]


def test_a_persona_is_reset_to_the_start_or_deleted_and_a_real_person_never(
    admin_app, client, world
):
    login(client)
    persona = new_persona(client, admin_app, world.ana_program)
    for body in ("YES", "We both missed the launch date."):
        assert text_as(client, persona.id, body).status_code == 302
    with sessions(admin_app) as s:
        assert s.get(Participant, persona.id).status == "active"
    response = post_sim(client, "reset", persona.id)
    assert response.status_code == 302
    page = client.get(response.headers["Location"].split("#")[0]).text
    assert "is back at the start, invited again" in page
    with sessions(admin_app) as s:
        assert s.get(Participant, persona.id) is None
        again = s.scalar(sa.select(Participant).where(Participant.phone == persona.phone))
        assert (again.name, again.status, again.step, again.consent_at) == (
            persona.name, "invited", 1, None,
        )  # fmt: skip
        assert s.scalar(sa.select(sa.func.count(Statement.id)).where(
            Statement.participant_id.in_([persona.id, again.id]))) == 0  # fmt: skip
        texts = s.scalars(sa.select(Message).where(Message.participant_id == again.id)).all()
        assert [m.template for m in texts] == ["invite"]
    assert page.count('data-direction="') == 1

    before = what_ari_has(admin_app, world.ana_participant)
    for path in ("reset", "delete"):
        refused = post_sim(client, path, world.ana_participant)
        assert refused.status_code == 403 and "only as test personas" in refused.text
    assert what_ari_has(admin_app, world.ana_participant) == before

    response = post_sim(client, "delete", again.id)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert "were deleted" in page and persona.name not in page.split('id="people"')[1][:500]
    with sessions(admin_app) as s:
        assert s.get(Participant, again.id) is None
        assert (
            s.scalar(
                sa.select(sa.func.count(Message.id)).where(
                    sa.or_(Message.to_number == persona.phone, Message.from_number == persona.phone)
                )
            )
            == 0
        )
