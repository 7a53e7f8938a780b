"""The simulator acts only as test personas, and a persona's texts never reach Twilio.

The app here sends through the real twilio client to a local Twilio-compatible API (not the
console), as a deployment with credentials does, and a real RQ worker runs what was queued:
so a text that reached the gateway would show in the local API's message list.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from rq import SimpleWorker

import jobs.context
from service.config import load_settings
from service.models import Call, Message, Participant, Statement
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
    assert {m.status for m in out} == {"console"}
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
