"""The program form guides: only the cadence fields that apply are read, the sender number
is read like participants' phones (in the program's country) with its error beside the
field, one time-zone picker on every form that takes a zone, and after creating a program
the coach lands on its page with the next steps."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from service.models import Facilitator, Participant, Program
from tests.support.admin import PASSWORD
from tests.support.admin_forms import program_form

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NEW = "/admin/programs/new/"


@pytest.fixture
def client(admin_app):
    return admin_app.test_client()


def login(client, email="ana@example.org"):
    token = TOKEN.search(client.get("/admin/login").text).group(1)
    data = {"email": email, "password": PASSWORD, "csrf_token": token}
    assert client.post("/admin/login", data=data).status_code == 302


def csrf(client, url):
    return TOKEN.search(client.get(url).text).group(1)


def program_named(app, name):
    with app.extensions["realign"].sessions() as s:
        return s.scalar(sa.select(Program).where(Program.name == name))


def beside(page: str, field: str) -> str:
    """The error shown beside one field of the form (its invalid-feedback)."""
    start = page.index(f'id="{field}"')
    match = re.search(r'class="invalid-feedback[^"]*">([^<]+)<', page[start : start + 40_000])
    assert match, f"no error beside {field}"
    return match.group(1)


def test_the_form_comes_in_sections_with_the_unused_cadence_fields_hidden(client, world):
    login(client)
    page = client.get(NEW).text
    for section in ("Basics", "Schedule", "Texts", "Options"):
        assert f'<legend class="h5">{section}</legend>' in page
    # "Every day" is chosen: the weekdays and the every-N field wait hidden.
    assert re.search(r'data-cadence-only="days" hidden', page)
    assert re.search(r'data-cadence-only="every_n_days" hidden', page)


def test_cadence_fields_that_do_not_apply_are_ignored(admin_app, client, world):
    login(client)
    data = program_form(
        name="Daily people", cadence_kind="daily", cadence_every="soon", cadence_days=["9"],
        csrf_token=csrf(client, NEW),
    )  # fmt: skip
    assert client.post(NEW, data=data).status_code == 302
    assert program_named(admin_app, "Daily people").cadence == "daily@19:00"
    # The same value is an error where it applies.
    data = program_form(
        name="Every other", cadence_kind="every_n_days", cadence_every="soon",
        csrf_token=csrf(client, NEW),
    )  # fmt: skip
    page = client.post(NEW, data=data).text
    assert "Not a valid integer value" in beside(page, "cadence_every")
    assert program_named(admin_app, "Every other") is None


def test_the_sender_number_is_read_in_the_programs_country_like_participants_phones(
    admin_app, client, world
):
    login(client)
    data = program_form(
        name="Boston", sender_number="(201) 555-0147", timezone="America/New_York",
        csrf_token=csrf(client, NEW),
    )  # fmt: skip
    assert client.post(NEW, data=data).status_code == 302
    assert program_named(admin_app, "Boston").sender_number == "+12015550147"
    data = program_form(
        name="London", sender_number="07911 123456", timezone="Europe/London",
        csrf_token=csrf(client, NEW),
    )  # fmt: skip
    assert client.post(NEW, data=data).status_code == 302
    london = program_named(admin_app, "London")
    assert (london.country, london.sender_number) == ("GB", "+447911123456")


def test_a_bad_sender_number_is_named_beside_the_field(admin_app, client, world):
    login(client)
    data = program_form(name="Typo", sender_number="555-01", csrf_token=csrf(client, NEW))
    response = client.post(NEW, data=data)
    assert response.status_code == 200
    assert beside(response.text, "sender_number").startswith("Sender number: ")
    assert 'value="555-01"' in response.text  # what was typed stays
    assert program_named(admin_app, "Typo") is None


def test_after_creating_a_program_its_page_says_what_to_do_next(admin_app, client, world):
    login(client)
    data = program_form(name="Fresh start", csrf_token=csrf(client, NEW))
    answer = client.post(NEW, data=data)
    program = program_named(admin_app, "Fresh start")
    assert answer.headers["Location"].endswith(f"/admin/programs/details/?id={program.id}")
    page = client.get(answer.headers["Location"]).text
    assert "Fresh start is ready. Next:" in page
    assert "add a sender number" in page and "review its texts" in page
    assert f"/admin/participants/new/?program_id={program.id}" in page
    # With a number already, that step is not suggested.
    data = program_form(name="Numbered", sender_number="+12015550148", csrf_token=csrf(client, NEW))
    page = client.post(NEW, data=data, follow_redirects=True).text
    assert "Numbered is ready. Next:" in page and "add a sender number" not in page


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("ana@example.org", NEW),
        ("ana@example.org", "/admin/participants/new/"),
        ("ana@example.org", "/admin/account/"),
        ("root@example.org", "/admin/facilitators/new/"),
    ],
)
def test_every_form_with_a_zone_has_the_one_searchable_picker(client, world, who, url):
    login(client, who)
    page = client.get(url).text
    assert re.search(r'<input[^>]*id="timezone"[^>]*list="timezone-zones"', page)
    assert '<datalist id="timezone-zones">' in page
    assert (
        '<option value="America/Argentina/Buenos_Aires">Buenos Aires, America / Argentina' in page
    )


def test_a_zone_typed_wrong_is_refused_beside_the_field_on_each_form(admin_app, client, world):
    login(client)
    page = client.post(NEW, data=program_form(timezone="Berlin", csrf_token=csrf(client, NEW)))
    assert "Berlin is not a time zone we know" in beside(page.text, "timezone")
    new = "/admin/participants/new/"
    data = {
        "csrf_token": csrf(client, new), "name": "Zed", "phone": "201 555 0190",
        "timezone": "Europe/Berlinn", "language": "en", "program_id": str(world.ana_program),
        "partner_id": "0",
    }  # fmt: skip
    page = client.post(new, data=data).text
    assert "Europe/Berlinn is not a time zone we know" in beside(page, "timezone")
    with admin_app.extensions["realign"].sessions() as s:
        assert s.scalar(sa.select(Participant).where(Participant.name == "Zed")) is None
    # Typed with spaces around it, a real zone is kept as its name.
    data["timezone"] = " Europe/Berlin "
    assert client.post(new, data={**data, "csrf_token": csrf(client, new)}).status_code == 302
    with admin_app.extensions["realign"].sessions() as s:
        zed = s.scalar(sa.select(Participant).where(Participant.name == "Zed"))
        assert zed.timezone == "Europe/Berlin"
        assert s.get(Facilitator, world.ana).timezone == "UTC"
