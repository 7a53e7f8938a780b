"""Each facilitator's admin language (test client): their saved choice wins, else what the
browser asks for; admins set it on the facilitator form; a bad value is a form error."""

from __future__ import annotations

import pytest

from service.models import Facilitator
from tests.e2e.test_admin_forms import csrf, facilitator, login

SPANISH = {"Accept-Language": "es-MX,es;q=0.9"}
ACCOUNT = "/admin/account/"


@pytest.fixture
def client(admin_app):
    return admin_app.test_client()


def set_language(admin_app, pk, language):
    with admin_app.extensions["realign"].sessions() as s:
        s.get(Facilitator, pk).language = language
        s.commit()


def test_the_login_page_speaks_the_browser_s_language(client):
    assert "Inicio de sesión para facilitadores" in client.get("/admin/login", headers=SPANISH).text
    assert "Facilitator sign-in" in client.get("/admin/login").text


@pytest.mark.parametrize(
    ("saved", "browser", "expected", "absent"),
    [
        (None, SPANISH, "Hoy", ">Today<"),  # no choice: the browser's language
        ("en", SPANISH, ">Today<", ">Hoy<"),  # her choice wins over the browser
        ("es", {}, ">Hoy<", ">Today<"),
        (None, {}, ">Today<", ">Hoy<"),
    ],
)
def test_a_saved_choice_wins_over_the_browser(
    admin_app, client, world, saved, browser, expected, absent
):
    set_language(admin_app, world.ana, saved)
    login(client, "ana@example.org")
    page = client.get("/admin/", headers=browser).text
    assert expected in page and absent not in page


def test_a_facilitator_chooses_spanish_and_back_on_my_account(admin_app, client, world):
    login(client, "ana@example.org")
    form = client.get(ACCOUNT).text
    assert '<option selected value="">As my browser asks</option>' in form
    data = {"timezone": "UTC", "language": "es", "csrf_token": csrf(client, ACCOUNT)}
    assert client.post(ACCOUNT, data=data).status_code == 302
    assert facilitator(admin_app, world.ana).language == "es"
    page = client.get(ACCOUNT).text
    assert "Tu cuenta quedó guardada." in page and "Mi cuenta" in page
    data = {"timezone": "UTC", "language": "", "csrf_token": csrf(client, ACCOUNT)}
    assert client.post(ACCOUNT, data=data).status_code == 302
    assert facilitator(admin_app, world.ana).language is None


def test_an_unknown_language_is_a_form_error(admin_app, client, world):
    login(client, "ana@example.org")
    data = {"timezone": "UTC", "language": "fr", "csrf_token": csrf(client, ACCOUNT)}
    page = client.post(ACCOUNT, data=data)
    assert page.status_code == 200
    assert "Choose one of the languages in the list." in page.text
    assert facilitator(admin_app, world.ana).language is None


def test_an_admin_sets_a_facilitator_s_language(admin_app, client, world):
    login(client, "root@example.org")
    path = f"/admin/facilitators/edit/?id={world.ben}"
    form = client.get(path).text
    assert 'id="language"' in form and ">Español</option>" in form
    data = {
        "name": "Ben Coach",
        "contact": "",
        "phone": "",
        "timezone": "UTC",
        "language": "es",
        "role": "facilitator",
        "is_active": "y",
        "password": "",
        "csrf_token": csrf(client, path),
    }
    saved = client.post(path, data=data)
    assert saved.status_code == 302, saved.text
    assert facilitator(admin_app, world.ben).language == "es"
    listing = client.get("/admin/facilitators/").text
    assert "Facilitators" in listing  # the admin's own screens stay in English
