"""A program's results export: one row per participant (test personas left out) with step,
status, outcome, check-ins sent and answered, the kept ratio overall and per commitment,
and the dates, as CSV or JSON; scoped like the admin; a constant few statements.

Flask's test client against a real database and Redis.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from service.core.enums import label
from service.models import AuditEvent, CheckIn, CheckInAnswer, Commitment, Participant
from service.program import results, scores
from tests.support.admin import PASSWORD
from tests.support.sql import statements

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")  # the zone, no microseconds


@pytest.fixture
def client(admin_app):
    return admin_app.test_client()


def services_of(app):
    return app.extensions["realign"]


def login(client, email="ana@example.org"):
    token = TOKEN.search(client.get("/admin/login").text).group(1)
    data = {"email": email, "password": PASSWORD, "csrf_token": token}
    assert client.post("/admin/login", data=data).status_code == 302


def token_for(client, program_id) -> str:
    page = client.get(f"/admin/programs/details/?id={program_id}")
    assert page.status_code == 200, page.status_code
    return TOKEN.search(page.text).group(1)


def export(client, program_id, kind="csv", token=None):
    token = token or token_for(client, program_id)
    return client.post(
        "/admin/programs/results/",
        data={"csrf_token": token, "id": program_id, "format": kind},
    )


def enrol_people(app, program_id: int, count: int, days: int = 6, persona: int = 107) -> list[int]:
    """`count` people at step 5, each with two commitments and `days` daily check-ins:
    the first commitment kept every day, the second partly; every third check-in missed."""
    svc = services_of(app)
    now = svc.now()
    made = []
    with svc.sessions() as s:
        k = s.scalar(sa.select(sa.func.count()).select_from(Participant)) or 0
        for _ in range(count):
            k += 1
            p = Participant(
                program_id=program_id,
                name=f"Person {k:03d}",
                phone=f"+1201555{k + 2000:04d}",
                status="active",
                step=5,
                consent_at=now - timedelta(days=20, microseconds=-123456),
                created_at=now - timedelta(days=21),
            )
            s.add(p)
            s.flush()
            first = Commitment(participant_id=p.id, text="Call on Sundays", status="active")
            second = Commitment(participant_id=p.id, text="Say when I'm late", status="active")
            s.add_all([first, second])
            s.flush()
            for day in range(days):
                due = now - timedelta(days=day, hours=1)
                missed = day % 3 == 2
                ci = CheckIn(
                    participant_id=p.id,
                    due_at=due,
                    status="missed" if missed else "answered",
                    sent_at=due,
                    answered_at=None if missed else due,
                    commitment_ids=[first.id, second.id],
                )
                s.add(ci)
                s.flush()
                if not missed:
                    s.add(CheckInAnswer(checkin_id=ci.id, commitment_id=first.id, result="kept"))
                    s.add(CheckInAnswer(checkin_id=ci.id, commitment_id=second.id, result="partly"))
            made.append(p.id)
        s.add(  # a test persona of the simulator: never in the results
            Participant(
                program_id=program_id,
                name=f"Test persona {persona - 100}",
                phone=f"+12025550{persona}",
                status="active",
            )
        )
        s.commit()
    return made


def test_the_csv_has_one_row_per_participant_with_their_figures_and_dates(admin_app, client, world):
    ids = enrol_people(admin_app, world.ana_program, 2)
    login(client)
    response = export(client, world.ana_program)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "realign-results-" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["name"] for r in rows] == ["Ari Ana-side", "Person 004", "Person 005"]
    assert not [r for r in rows if "Test persona" in r["name"]]

    ari, person = rows[0], rows[1]
    assert (ari["step"], ari["step_name"]) == ("1", "1. Naming the misalignment")
    assert ari["status"] == label("participant_status", "invited")
    assert ari["consented_at"] == "" and ari["kept_ratio"] == ""
    assert (person["checkins_sent"], person["checkins_answered"]) == ("6", "4")
    svc = services_of(admin_app)
    with svc.sessions() as s:
        p = s.get(Participant, ids[0])
        expected = scores.kept_ratio(s, p, svc.now(), 30)  # the one score, as elsewhere
        commitments = s.scalars(
            sa.select(Commitment).where(Commitment.participant_id == p.id).order_by(Commitment.id)
        ).all()
        per = [scores.commitment_ratio(s, c, svc.now(), 30) for c in commitments]
    # Kept every answered day, partly every answered day, missed every third: 6 / 12.
    assert float(person["kept_ratio"]) == pytest.approx(expected) == pytest.approx(0.5)
    assert person["commitment_1"] == "Call on Sundays"
    assert float(person["commitment_1_kept_ratio"]) == pytest.approx(per[0]) == 1.0
    assert person["commitment_2"] == "Say when I'm late"
    assert float(person["commitment_2_kept_ratio"]) == pytest.approx(per[1]) == 0.5
    assert person["commitment_1_status"] == "Active"
    for key in ("enrolled_at", "consented_at"):
        assert ISO.match(person[key]), person[key]  # 2026-12-03T11:00:00+00:00
    assert ISO.match(ari["enrolled_at"]) and ari["closed_at"] == ""

    with svc.sessions() as s:
        event = s.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export_results")).one()
    assert event.actor == f"facilitator:{world.ana}"
    assert event.detail == {"format": "csv", "participants": 3}


def test_the_json_holds_the_same_rows_with_commitments_as_a_list(admin_app, client, world):
    enrol_people(admin_app, world.ana_program, 1)
    login(client)
    response = export(client, world.ana_program, "json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = json.loads(response.get_data(as_text=True))
    assert data["program"]["name"] == "Ana's program"
    names = [p["name"] for p in data["participants"]]
    assert names == ["Ari Ana-side", "Person 004"]
    person = data["participants"][1]
    assert person["kept_ratio"] == 0.5 and person["checkins_sent"] == 6
    assert [c["kept_ratio"] for c in person["commitments"]] == [1.0, 0.5]
    assert ISO.match(person["consented_at"])
    assert data["participants"][0]["consented_at"] is None


def test_only_the_programs_facilitators_and_admins_get_its_results(admin_app, client, world):
    login(client, "ben@example.org")
    assert export(client, world.ben_program).status_code == 200
    page = client.get(f"/admin/programs/details/?id={world.ben_program}").text
    token = TOKEN.search(page).group(1)
    response = client.post(  # Ana's program: not his, so not there at all
        "/admin/programs/results/",
        data={"csrf_token": token, "id": world.ana_program, "format": "csv"},
    )
    assert response.status_code == 404
    assert "Ari Ana-side" not in response.get_data(as_text=True)
    bad = client.post(
        "/admin/programs/results/",
        data={"csrf_token": token, "id": world.ben_program, "format": "xlsx"},
    )
    assert bad.status_code == 400
    # No state change by GET: the export is a form post only.
    assert client.get(f"/admin/programs/results/?id={world.ben_program}").status_code == 405
    client.get("/admin/logout/")
    other = admin_app.test_client()
    login(other, "root@example.org")
    text = export(other, world.ana_program).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["name"] for r in rows] == ["Ari Ana-side"]


def test_the_export_costs_the_same_statements_for_each_page_of_participants(
    admin_app, client, world, monkeypatch
):
    # A page of 10 here (50 in use): 3 people are one page, 30 are three.
    monkeypatch.setattr(results, "PAGE", 10)
    engine = services_of(admin_app).engine
    enrol_people(admin_app, world.ana_program, 2, days=3)
    login(client)
    token = token_for(client, world.ana_program)
    with statements(engine) as few:
        small = export(client, world.ana_program, token=token)
        assert small.get_data(as_text=True).count("\n") == 4  # header + Ari + 2
    enrol_people(admin_app, world.ana_program, 27, days=3, persona=108)
    with statements(engine) as many:
        big = export(client, world.ana_program, token=token)
        assert big.get_data(as_text=True).count("\n") == 31  # header + Ari + 29
    page_read = "SELECT participant.id, participant.name, participant.phone, participant.step,"
    pages_few = len([sql for sql in few if sql.startswith(page_read)])
    pages_many = len([sql for sql in many if sql.startswith(page_read)])
    # 4 people and a persona: one page; 30 and two personas: 10, 10, 10 and 2.
    assert (pages_few, pages_many) == (1, 4), many
    # The view's own few, then the same handful for each page, however many it holds.
    per_page = (len(many) - len(few)) / (pages_many - pages_few)
    assert per_page == int(per_page) and per_page <= 5, many
    assert len(few) <= 14, few


def test_a_big_programs_export_streams_a_page_at_a_time(admin_app, client, world, monkeypatch):
    monkeypatch.setattr(results, "PAGE", 10)
    enrol_people(admin_app, world.ana_program, 24, days=2)
    login(client)
    answer = export(client, world.ana_program)
    chunks = [c for c in answer.response if c]  # the body as the server hands it out
    assert len(chunks) >= 3  # header and first page, then the next pages as they are read
    rows = list(
        csv.DictReader(
            io.StringIO("".join(c.decode() if isinstance(c, bytes) else c for c in chunks))
        )
    )
    assert len(rows) == 25 and len({r["participant_id"] for r in rows}) == 25
    data = json.loads(export(client, world.ana_program, "json").get_data(as_text=True))
    assert [p["participant_id"] for p in data["participants"]] == [
        int(r["participant_id"]) for r in rows
    ]
