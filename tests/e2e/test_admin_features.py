"""Dashboard, programs, simulator and queue health in the admin (test client)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from service.models import (
    AttentionItem,
    AuditEvent,
    CheckIn,
    CheckInAnswer,
    Commitment,
    Message,
    Participant,
    Program,
    ProgramFacilitator,
    Statement,
)
from service.program import accounts
from tests.support.admin import PASSWORD
from tests.support.admin_forms import program_form

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def client(admin_app):
    return admin_app.test_client()


def csrf(client, path="/admin/login") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return TOKEN.search(page.text).group(1)


def login(client, email):
    data = {"email": email, "password": PASSWORD, "csrf_token": csrf(client)}
    assert client.post("/admin/login", data=data).status_code == 302


def sessions(app):
    return app.extensions["realign"].sessions()


# Dashboard ---------------------------------------------------------------------------------


def test_needs_attention_list_is_scoped_urgent_first_and_resolvable(admin_app, client, world):
    now = admin_app.extensions["realign"].now()
    with sessions(admin_app) as s:
        s.add_all(
            [
                AttentionItem(
                    program_id=world.ana_program,
                    participant_id=world.ana_participant,
                    kind="headsup",
                    detail="older",
                    created_at=now - timedelta(hours=2),
                ),
                AttentionItem(
                    program_id=world.shared_program,
                    participant_id=world.shared_participant,
                    kind="missed_run",
                    detail="newer",
                    created_at=now - timedelta(hours=1),
                ),
                AttentionItem(
                    program_id=world.ben_program,
                    participant_id=world.ben_participant,
                    kind="opted_out",
                    detail="BEN-ONLY",
                    created_at=now,
                ),
                Message(
                    direction="in",
                    program_id=world.ana_program,
                    from_number="+12015550999",
                    to_number="+12015550000",
                    body="who is this?",
                    status="processed",
                    created_at=now - timedelta(minutes=30),
                ),
                Message(
                    direction="in",
                    program_id=world.ben_program,
                    from_number="+12015550998",
                    body="BEN-UNMATCHED",
                    status="processed",
                    created_at=now,
                ),
            ]
        )
        s.commit()
        ben_item = s.scalar(sa.select(AttentionItem.id).where(AttentionItem.kind == "opted_out"))
        ana_item = s.scalar(sa.select(AttentionItem.id).where(AttentionItem.kind == "headsup"))
    login(client, "ana@example.org")
    page = client.get("/admin/").text
    assert "BEN-ONLY" not in page and "BEN-UNMATCHED" not in page
    # urgent kinds first: the HEADSUP (2 h), the missed run (1 h), then the unmatched text
    assert page.index("older") < page.index("newer") < page.index("who is this?")
    assert f"/admin/participants/details/?id={world.ana_participant}" in page
    assert page.index('id="attention"') < page.index('id="trends"')
    token = csrf(client, "/admin/")
    # another facilitator's item: 404, unchanged
    assert (
        client.post(f"/admin/attention/{ben_item}/resolve", data={"csrf_token": token}).status_code
        == 404
    )
    assert client.post(f"/admin/attention/{ana_item}/resolve").status_code == 400
    response = client.post(f"/admin/attention/{ana_item}/resolve", data={"csrf_token": token})
    assert response.status_code == 302
    with sessions(admin_app) as s:
        assert s.get(AttentionItem, ana_item).resolved_at is not None
        assert s.get(AttentionItem, ben_item).resolved_at is None
    assert "older" not in client.get("/admin/").text


def test_dashboard_charts_response_rate_and_kept_ratio_per_week(admin_app, client, world):
    now = admin_app.extensions["realign"].now()
    with sessions(admin_app) as s:
        c = Commitment(participant_id=world.ana_participant, text="call weekly", status="active")
        s.add(c)
        s.flush()
        for i, (status, result) in enumerate(
            [("answered", "kept"), ("answered", "partly"), ("missed", None), ("answered", "kept")]
        ):
            due = now - timedelta(days=i * 7)
            ci = CheckIn(
                participant_id=world.ana_participant,
                due_at=due,
                status=status,
                sent_at=due,
                answered_at=due if status == "answered" else None,
                commitment_ids=[c.id],
            )
            s.add(ci)
            s.flush()
            if result:
                s.add(CheckInAnswer(checkin_id=ci.id, commitment_id=c.id, result=result))
        s.commit()
    login(client, "ana@example.org")
    page = client.get("/admin/").text
    block = page[page.index(f'id="program-{world.ana_program}"') :]
    block = block[: block.index("</table>", block.index("trend-table"))]
    assert "<svg" in block and "<polyline" in block and "<title" in block
    # text alternative: this week 100% / 100%, two weeks ago 0% / 0%, ...
    assert "100%" in block and "50%" in block and "0%" in block


# Programs ----------------------------------------------------------------------------------


def test_create_program_with_every_setting(admin_app, client, world):
    login(client, "ana@example.org")
    url = "/admin/programs/new/"
    data = program_form(
        name="Founders",
        sender_number="+1 (201) 555-0147",
        timezone="America/New_York",
        language="es",
        cadence_kind="days",
        cadence_days=["0", "2", "4"],
        cadence_time="08:30",
        quiet_start="09:00",
        quiet_end="20:00",
        pacing="morning",
        start_date="2026-12-01",
        end_date="2027-03-01",
        nudge_delay_minutes="90",
        max_nudges="2",
        adaptive_cadence="y",
        ladder_step="4",
        two_sided="y",
        milestones="30, 7",
        daily_digest="y",
        weekly_summary=None,
        recording_max_seconds="240",
        delete_recordings_at_twilio=None,
        call_retries="3",
        quiet_days="5",
        co_facilitators=[str(world.ben)],
        csrf_token=csrf(client, url),
    )
    assert client.post(url, data=data).status_code == 302
    with sessions(admin_app) as s:
        p = s.scalar(sa.select(Program).where(Program.name == "Founders"))
        assert p.owner_id == world.ana and p.sender_number == "+12015550147"
        assert p.cadence == "days:0,2,4@08:30" and p.timezone == "America/New_York"
        assert (p.quiet_start, p.quiet_end, p.pacing, p.language) == (
            "09:00",
            "20:00",
            "morning",
            "es",
        )
        assert str(p.start_date) == "2026-12-01" and str(p.end_date) == "2027-03-01"
        assert p.options == {
            "nudge_delay_minutes": 90,
            "max_nudges": 2,
            "adaptive_cadence": True,
            "ladder_step": 4,
            "two_sided": True,
            "milestones": [7, 30],
            "weekly_summary": False,
            "daily_digest": True,
            "recording_max_seconds": 240,
            "delete_recordings_at_twilio": False,
            "call_retries": 3,
            "quiet_days": 5,
        }
        pid = p.id
        assert s.scalar(sa.select(AuditEvent).where(AuditEvent.action == "program.create"))
    # Ben is a co-facilitator now: he sees it.
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    login(client, "ben@example.org")
    assert client.get(f"/admin/programs/details/?id={pid}").status_code == 200
    edit = client.get(f"/admin/programs/edit/?id={pid}").text
    assert 'value="08:30"' in edit and "days:0,2,4" not in edit


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "is not a time zone we know"),
        ({"sender_number": "12"}, "sender number"),
        ({"messaging_service_sid": "XX123"}, "messaging service SID"),
        ({"cadence_kind": "days"}, "Choose at least one weekday"),
        ({"cadence_time": "25:00"}, "is not a time"),
        ({"start_date": "2027-01-02", "end_date": "2027-01-01"}, "end date is before"),
        ({"milestones": "7, soon"}, "is not a number of days"),
        ({"name": ""}, "This field is required"),
    ],
)
def test_invalid_program_settings_are_form_errors(admin_app, client, world, changes, message):
    login(client, "ana@example.org")
    url = "/admin/programs/new/"
    response = client.post(url, data=program_form(csrf_token=csrf(client, url), **changes))
    assert response.status_code == 200
    assert message in response.text
    with sessions(admin_app) as s:
        assert s.scalar(sa.select(sa.func.count(Program.id))) == 3


def test_texts_per_language_are_validated_and_saved(admin_app, client, world):
    login(client, "ana@example.org")
    url = f"/admin/programs/texts/?id={world.ana_program}"
    page = client.get(url).text
    assert 'id="text-invite-es"' in page and "segments.js" in page
    bad = {
        "csrf_token": csrf(client, url),
        "text-invite-en": "Hi {nickname}, want to start?",
        "text-consent_thanks-es": "Gracias, empezamos.",
    }
    response = client.post(url, data=bad)
    assert response.status_code == 200
    assert "Unknown placeholder {nickname}" in response.text
    assert "must say how to opt out" in response.text
    with sessions(admin_app) as s:
        assert s.get(Program, world.ana_program).text_overrides == {}
    good = {
        "csrf_token": csrf(client, url),
        "text-invite-en": "Hi from {program}. Reply YES to begin or STOP to opt out.",
        "text-consent_thanks-es": "Gracias, empezamos.",
    }
    assert client.post(url, data=good).status_code == 302
    with sessions(admin_app) as s:
        assert s.get(Program, world.ana_program).text_overrides == {
            "invite": {"en": "Hi from {program}. Reply YES to begin or STOP to opt out."},
            "consent_thanks": {"es": "Gracias, empezamos."},
        }
    assert client.get(f"/admin/programs/texts/?id={world.ben_program}").status_code == 404


def test_closing_a_program_closes_every_participant(admin_app, client, world):
    login(client, "ben@example.org")
    url = f"/admin/programs/close/?id={world.shared_program}"
    token = csrf(client, url)
    assert client.post(url, data={"csrf_token": token}).status_code == 400
    data = {"csrf_token": token, "outcome": "restored", "closing_message": "Thank you all."}
    assert client.post(url, data=data).status_code == 302
    with sessions(admin_app) as s:
        program = s.get(Program, world.shared_program)
        assert (program.status, program.outcome) == ("closed", "restored")
        cy = s.get(Participant, world.shared_participant)
        assert (cy.status, cy.outcome) == ("closed", "restored")
        closing = s.scalars(sa.select(Message).where(Message.participant_id == cy.id)).all()
        assert [m.body for m in closing] == ["Thank you all."]
        assert s.get(Participant, world.ben_participant).status == "invited"


# Simulator ---------------------------------------------------------------------------------


def thread(app, participant_id) -> list[tuple[str, str, str]]:
    with sessions(app) as s:
        rows = s.scalars(
            sa.select(Message).where(Message.participant_id == participant_id).order_by(Message.id)
        )
        return [(m.direction, m.status, m.body) for m in rows]


def test_simulator_runs_consent_and_steps_1_and_2_with_a_test_persona(admin_app, client, world):
    login(client, "ana@example.org")
    page = f"/admin/simulator/?program_id={world.ana_program}"
    response = client.post(
        "/admin/simulator/persona",
        data={"csrf_token": csrf(client, page), "program_id": world.ana_program},
    )
    assert response.status_code == 302
    with sessions(admin_app) as s:
        persona = s.scalar(sa.select(Participant).where(Participant.name.like("Test persona%")))
    assert persona.phone == "+12025550100" and persona.program_id == world.ana_program
    [invite] = thread(admin_app, persona.id)
    assert invite[:2] == ("out", "console") and "Reply YES" in invite[2]
    url = f"/admin/simulator/?participant_id={persona.id}"
    for body in (
        "YES",
        "We both missed the launch date.",
        "Frustrated, and she felt let down.",
        "Yes, it happened before.",
        "I see how my silence affected you.",
    ):
        response = client.post(
            "/admin/simulator/text",
            data={"csrf_token": csrf(client, url), "participant_id": persona.id, "body": body},
        )
        assert response.status_code == 302
    with sessions(admin_app) as s:
        statements = s.scalars(
            sa.select(Statement)
            .where(Statement.participant_id == persona.id)
            .order_by(Statement.id)
        ).all()
        persona = s.get(Participant, persona.id)
    assert [(st.step, st.kind) for st in statements] == [
        (1, "what_happened"),
        (1, "emotions"),
        (1, "pattern"),
        (2, "responsibility"),
    ]
    assert persona.status == "active" and persona.consent_at is not None
    messages = thread(admin_app, persona.id)
    assert [d for d, _, _ in messages].count("in") == 5
    assert all(status in ("console", "received", "processed") for _, status, _ in messages)
    assert any("Step 1" in body for _, _, body in messages)
    shown = client.get(url).text
    assert "I see how my silence affected you." in shown and 'id="thread"' in shown
    # The webhook checked a real signature: each inbound text went through /twilio/sms.
    assert all(m[1] == "processed" for m in messages if m[0] == "in")


def test_simulator_is_scoped(admin_app, client, world):
    login(client, "ana@example.org")
    token = csrf(client, "/admin/simulator/")
    assert client.get(f"/admin/simulator/?program_id={world.ben_program}").status_code == 404
    assert (
        client.get(f"/admin/simulator/?participant_id={world.ben_participant}").status_code == 404
    )
    r = client.post(
        "/admin/simulator/text",
        data={"csrf_token": token, "body": "hi", "participant_id": world.ben_participant},
    )
    assert r.status_code == 404
    r = client.post(
        "/admin/simulator/persona", data={"csrf_token": token, "program_id": world.ben_program}
    )
    assert r.status_code == 404
    assert thread(admin_app, world.ben_participant) == []


# Queue health ------------------------------------------------------------------------------


def test_queue_health_is_for_admins_only(admin_app, client, world):
    from rq import Queue

    assert client.get("/admin/queues/").status_code == 302
    login(client, "ana@example.org")
    assert client.get("/admin/queues/").status_code == 403
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    Queue("bulk", connection=admin_app.extensions["realign"].redis).enqueue("jobs.tasks.sweep")
    login(client, "root@example.org")
    page = client.get("/admin/queues/")
    assert page.status_code == 200
    # Every lane, in the order workers take them, the sweep waiting on bulk.
    lanes = re.findall(r"<td>(\w+)</td><td class=\"text-right\">(\d+)</td>", page.text)
    assert lanes == [("turns", "0"), ("sends", "0"), ("bulk", "1")]
    assert "No worker is running" in page.text


def test_rq_dashboard_is_mounted_for_admins_only(admin_app, client, world):
    from rq import Queue

    redis = admin_app.extensions["realign"].redis
    job = Queue("bulk", connection=redis).enqueue("jobs.tasks.sweep")
    assert client.get("/admin/rq/").status_code == 302  # anonymous: the sign-in page
    login(client, "ana@example.org")
    assert client.get("/admin/rq/").status_code == 403
    assert client.get("/admin/rq/0/data/queues.json").status_code == 403
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})

    login(client, "root@example.org")
    page = client.get("/admin/rq/")
    assert page.status_code == 200 and 'id="back-to-admin"' in page.text
    policy = page.headers["Content-Security-Policy"]
    assert (
        "'unsafe-eval'" in policy
        and "'nonce-" in policy
        and "'unsafe-inline'" not in (policy.split("script-src", 1)[1].split(";")[0])
    )
    assert "'unsafe-eval'" not in client.get("/admin/").headers["Content-Security-Policy"]
    queues = client.get("/admin/rq/0/data/queues.json").get_json()["queues"]
    assert [(q["name"], q["count"]) for q in queues] == [("bulk", 1)]
    assert client.get(f"/admin/rq/0/data/job/{job.id}.json").get_json()["id"] == job.id
    assert client.get("/admin/rq/0/data/job/gone.json").status_code == 404  # not a 500

    # Its buttons POST with the token in a header; without it nothing happens.
    assert client.post(f"/admin/rq/job/{job.id}/delete").status_code == 400
    token = csrf(client, "/admin/")
    deleted = client.post(f"/admin/rq/job/{job.id}/delete", headers={"X-CSRFToken": token})
    assert deleted.status_code == 200
    assert client.get("/admin/rq/0/data/queues.json").get_json()["queues"][0]["count"] == 0


def test_simulator_calls_the_voice_webhook(admin_app, client, world):
    login(client, "ana@example.org")
    page = f"/admin/simulator/?program_id={world.ana_program}"
    client.post(
        "/admin/simulator/persona",
        data={"csrf_token": csrf(client, page), "program_id": world.ana_program},
    )
    with sessions(admin_app) as s:
        persona = s.scalar(sa.select(Participant).where(Participant.name.like("Test persona%")))
    url = f"/admin/simulator/?participant_id={persona.id}"
    client.post(
        "/admin/simulator/text",
        data={"csrf_token": csrf(client, url), "participant_id": persona.id, "body": "YES"},
    )
    response = client.post(
        "/admin/simulator/call",
        data={"csrf_token": csrf(client, url), "participant_id": persona.id},
    )
    assert response.status_code == 302
    shown = client.get(url).text
    log = shown[shown.index('id="call-log"') :]
    log = log[: log.index("</ul>")]
    assert "<strong>Line:</strong>" in log, log
    assert "Sorry" not in log and "sorry" not in log
    if 'id="call-answer"' in shown:
        response = client.post(
            "/admin/simulator/call/answer",
            data={"csrf_token": csrf(client, url), "participant_id": persona.id, "digits": "1"},
        )
        assert response.status_code == 302
        assert "<strong>You:</strong> 1" in client.get(url).text
    client.post(
        "/admin/simulator/call/hangup",
        data={"csrf_token": csrf(client, url), "participant_id": persona.id},
    )
    assert 'id="call-log"' not in client.get(url).text


def test_dashboard_counts_participants_per_program(admin_app, client, world):
    login(client, "ana@example.org")
    page = client.get("/admin/").text
    shared = page[page.index(f'id="program-{world.shared_program}"') :]
    assert re.search(r'participant-count">1</span> participant, 1 active', shared)
    assert f'id="program-{world.ben_program}"' not in page


def test_the_co_facilitator_picker_shows_only_colleagues(admin_app, client, world):
    """Ana works with Ben (a shared program); Cal works with nobody she knows: his name is
    not hers to see, nor to add with a hand-made POST. An admin sees everyone."""
    with sessions(admin_app) as s:
        cal = accounts.create_facilitator(s, "cal@example.org", "Cal Stranger", PASSWORD)
        s.commit()
        cal_id = cal.id
    login(client, "ana@example.org")
    url = f"/admin/programs/edit/?id={world.ana_program}"
    page = client.get(url).text
    assert "Ben Coach" in page
    assert "Cal Stranger" not in page and "Ada Admin" not in page

    forged = program_form(name="Ana's program", co_facilitators=[str(world.ben), str(cal_id)])
    refused = client.post(url, data={**forged, "csrf_token": csrf(client, url)})
    assert refused.status_code == 200 and "not a valid choice" in refused.text.lower()
    form = program_form(name="Ana's program", co_facilitators=[str(world.ben)])
    assert client.post(url, data={**form, "csrf_token": csrf(client, url)}).status_code == 302
    with sessions(admin_app) as s:
        named = set(
            s.scalars(
                sa.select(ProgramFacilitator.facilitator_id).where(
                    ProgramFacilitator.program_id == world.ana_program
                )
            )
        )
    assert named == {world.ben}

    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    login(client, "root@example.org")
    assert "Cal Stranger" in client.get(url).text
