"""The participants list says what we wait for from each person and leaves test personas
out until the coach asks for them (Flask's test client; the browser test looks at it)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from service.core import personas
from service.models import CheckIn, Participant
from tests.support.admin import PASSWORD

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def client(admin_app):
    return admin_app.test_client()


def login(client, email="ana@example.org"):
    token = TOKEN.search(client.get("/admin/login").text).group(1)
    data = {"email": email, "password": PASSWORD, "csrf_token": token}
    assert client.post("/admin/login", data=data).status_code == 302


def waiting_of(page: str, name: str) -> str:
    row = page[page.index(name) :].split("</tr>", 1)[0]
    return re.search(r'class="waiting-on[^"]*">([^<]*)<', row).group(1)


def test_what_we_wait_for_from_each_person(admin_app, client, world):
    services = admin_app.extensions["realign"]
    now = services.now()
    with services.sessions() as s:
        ari = s.get(Participant, world.ana_participant)
        ari.status, ari.step, ari.prompt = "active", 2, "step2_responsibility"
        cy = s.get(Participant, world.shared_participant)
        cy.status, cy.step = "active", 5
        s.add(CheckIn(participant_id=cy.id, due_at=now - timedelta(minutes=30),
                      sent_at=now - timedelta(minutes=30), status="open"))  # fmt: skip
        s.commit()
    login(client)
    page = client.get("/admin/participants/").text
    assert waiting_of(page, "Ari Ana-side") == "Their answer to step 2"
    assert waiting_of(page, "Cy Shared") == "Their check-in reply"
    with services.sessions() as s:
        s.get(Participant, world.shared_participant).status = "paused"
        s.commit()
    page = client.get("/admin/participants/").text
    assert waiting_of(page, "Cy Shared") == "Nothing"


def test_test_personas_are_hidden_until_the_filter_shows_them(admin_app, client, world):
    services = admin_app.extensions["realign"]
    with services.sessions() as s:
        s.add(Participant(program_id=world.ana_program, name=f"{personas.NAME} 1",
                          phone=personas.number(personas.FIRST)))  # fmt: skip
        s.commit()
    login(client)
    page = client.get("/admin/participants/").text
    assert "Test persona 1" not in page and "List (2)" in page
    assert "Test personas are hidden:" in page
    shown = re.search(r'href="([^"]+)" id="show-personas"', page).group(1).replace("&amp;", "&")
    page = client.get(shown).text
    assert "Test persona 1" in page and "Ari Ana-side" in page and "List (3)" in page
    assert "Test personas are hidden:" not in page
    page = client.get("/admin/participants/?flt0_3=only").text
    assert "Test persona 1" in page and "Ari Ana-side" not in page
    # Searched by its number's last digits, it is still left out unless asked for.
    page = client.get("/admin/participants/", query_string={"search": "0100"}).text
    assert "Test persona 1" not in page
