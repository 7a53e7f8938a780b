"""Forms that guide: a facilitator's own phone and time zone, the admin's 404 and 403 pages
with its menu, the favicon, and the close forms (test client)."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape
from sqlmodel import select

from service.core import texts
from service.models import AuditEvent, Facilitator, Message, Participant
from tests.support.admin import PASSWORD

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


def facilitator(app, pk) -> Facilitator:
    with app.extensions["realign"].sessions() as s:
        return s.get(Facilitator, pk)


# A facilitator's own phone and time zone ---------------------------------------------------

ACCOUNT = "/admin/account/"


def test_a_facilitator_sets_their_own_phone_and_time_zone(admin_app, client, world):
    login(client, "ana@example.org")
    assert "My account" in client.get("/admin/").text  # in the menu
    page = client.get(ACCOUNT)
    assert page.status_code == 200
    assert 'value="UTC"' in page.text
    data = {"phone": "(201) 555-0177", "timezone": "America/Chicago"}
    saved = client.post(ACCOUNT, data={**data, "csrf_token": csrf(client, ACCOUNT)})
    assert saved.status_code == 302
    ana = facilitator(admin_app, world.ana)
    assert (ana.phone, ana.timezone) == ("+12015550177", "America/Chicago")
    assert "Your account is saved" in client.get(ACCOUNT).text
    with admin_app.extensions["realign"].sessions() as s:
        [event] = s.exec(select(AuditEvent).where(AuditEvent.action == "facilitator.update")).all()
    assert event.detail == {"fields": ["phone", "timezone"]}
    assert facilitator(admin_app, world.ben).phone is None  # only her own


def test_a_bad_phone_or_zone_is_named_beside_the_field_and_nothing_is_saved(
    admin_app, client, world
):
    login(client, "ana@example.org")
    data = {"phone": "555-01", "timezone": "Mars/Base", "csrf_token": csrf(client, ACCOUNT)}
    page = client.post(ACCOUNT, data=data)
    assert page.status_code == 200
    assert page.text.count("invalid-feedback") == 2
    assert "Phone: " in page.text and "Mars/Base is not a time zone we know" in page.text
    ana = facilitator(admin_app, world.ana)
    assert (ana.phone, ana.timezone) == (None, "UTC")


def test_an_empty_phone_turns_the_digest_texts_off(admin_app, client, world):
    login(client, "ana@example.org")
    data = {"phone": "+12015550177", "timezone": "UTC"}
    client.post(ACCOUNT, data={**data, "csrf_token": csrf(client, ACCOUNT)})
    data = {"phone": " ", "timezone": "UTC"}
    client.post(ACCOUNT, data={**data, "csrf_token": csrf(client, ACCOUNT)})
    assert facilitator(admin_app, world.ana).phone is None


def test_the_account_page_needs_a_sign_in(client, world):
    page = client.get(ACCOUNT)
    assert page.status_code == 302
    assert "/admin/login" in page.headers["Location"]


def test_an_admin_sets_a_facilitators_phone_and_zone(admin_app, client, world):
    login(client, "root@example.org")
    url = "/admin/facilitators/new/"
    form = {"email": "nia@example.org", "name": "Nia", "role": "facilitator", "is_active": "y"}
    page = client.get(url).text
    assert 'name="phone"' in page and 'name="timezone"' in page
    bad = {**form, "password": "long enough pw", "phone": "12", "timezone": "UTC"}
    assert "Phone: " in client.post(url, data={**bad, "csrf_token": csrf(client, url)}).text
    good = {**bad, "phone": "+44 7911 123456", "timezone": "Europe/London"}
    assert client.post(url, data={**good, "csrf_token": csrf(client, url)}).status_code == 302
    with admin_app.extensions["realign"].sessions() as s:
        nia = s.exec(select(Facilitator).where(Facilitator.email == "nia@example.org")).one()
    assert (nia.phone, nia.timezone) == ("+447911123456", "Europe/London")
    edit = f"/admin/facilitators/edit/?id={world.ana}"
    data = {"name": "Ana Coach", "role": "facilitator", "is_active": "y"}
    data["timezone"] = "Asia/Nowhere"
    refused = client.post(edit, data={**data, "csrf_token": csrf(client, edit)})
    assert "Asia/Nowhere is not a time zone we know" in refused.text
    assert facilitator(admin_app, world.ana).timezone == "UTC"
    data = {**data, "timezone": "Asia/Tokyo", "phone": "201 555 0188"}
    assert client.post(edit, data={**data, "csrf_token": csrf(client, edit)}).status_code == 302
    ana = facilitator(admin_app, world.ana)
    assert (ana.phone, ana.timezone) == ("+12015550188", "Asia/Tokyo")


# Not found, not allowed, and the tab icon ---------------------------------------------------


def test_not_found_under_admin_is_a_page_with_the_menu(client, world):
    login(client, "ana@example.org")
    for url in ("/admin/no-such-page/", "/admin/participants/details/?id=999999"):
        page = client.get(url)
        assert page.status_code == 404, url
        assert "Page not found" in page.text
        assert 'href="/admin/participants/"' in page.text  # the menu
        assert "Back to Today" in page.text
    assert 'id="sign-out"' in page.text


def test_not_allowed_under_admin_is_a_page_with_the_menu(client, world):
    login(client, "ana@example.org")
    page = client.get("/admin/facilitators/")
    assert page.status_code == 403
    assert "Not allowed" in page.text
    assert 'href="/admin/participants/"' in page.text
    assert "Facilitators</a>" not in page.text  # her menu: not the admin's


def test_other_paths_keep_their_own_errors(client, world):
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert "Page not found" not in page.text


def test_the_favicon_is_served_and_linked(client, world):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.mimetype == "image/svg+xml"
    assert icon.data.startswith(b"<svg")
    assert 'rel="icon" href="/favicon.ico"' in client.get("/admin/login").text


# The close forms ----------------------------------------------------------------------------

RESTORED = texts.closing_texts("en")["restored"]


def participant_close(world):
    return f"/admin/participants/close/?id={world.ana_participant}"


def test_the_participant_close_form_asks_for_an_outcome_and_shows_the_texts(client, world):
    login(client, "ana@example.org")
    page = client.get(participant_close(world)).text
    assert "checked" not in page  # nothing chosen for her
    assert page.count('name="outcome"') == 2 and page.count(" required") >= 2
    assert escape(RESTORED) in page and escape(texts.closing_texts("en")["ended"]) in page
    assert 'class="form-control js-segments' in page and 'class="segment-counter' in page
    assert ">Close Ari Ana-side's program</button>" in page
    data = {"id": world.ana_participant, "csrf_token": csrf(client, participant_close(world))}
    refused = client.post(participant_close(world), data=data)
    assert "Choose an outcome." in refused.text


def test_closing_with_the_standard_text_sends_it_and_an_edit_sends_the_edit(
    admin_app, client, world
):
    login(client, "ana@example.org")
    url = participant_close(world)
    data = {"id": world.ana_participant, "outcome": "restored", "message": RESTORED}
    assert client.post(url, data={**data, "csrf_token": csrf(client, url)}).status_code == 302
    with admin_app.extensions["realign"].sessions() as s:
        [sent] = s.exec(select(Message).where(Message.template == "closing_restored")).all()
        ari = s.get(Participant, world.ana_participant)
    assert (sent.body, ari.status) == (RESTORED, "closed")
    assert texts.custom_closing(RESTORED + " ", "restored", "en") is None
    assert texts.custom_closing("Thanks, Ari.", "restored", "en") == "Thanks, Ari."


def test_the_program_close_form_says_what_it_closes(client, world):
    login(client, "ben@example.org")
    url = f"/admin/programs/close/?id={world.ben_program}"
    page = client.get(url).text
    assert "checked" not in page
    assert f'data-standard="{escape(RESTORED)}"' in page
    assert ">Close Ben&#39;s program and its 1 participant</button>" in page
    refused = client.post(url, data={"csrf_token": csrf(client, url), "closing_message": "Hi"})
    assert refused.status_code == 400
    assert "Choose an outcome." in refused.text and ">Hi</textarea>" in refused.text
