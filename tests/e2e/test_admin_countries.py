"""Programs in any country: the admin and the CSV import read national numbers in the
program's country, store E.164 and show the program's national format."""

from __future__ import annotations

import re

import pytest

from service.models import Participant, Program
from service.program.enrollment import enroll
from service.unit_of_work import UnitOfWork
from tests.e2e.test_admin_participants import (
    confirm_fields,
    csrf,
    form_data,
    get,
    login,
    rows,
    run_import,
    sessions,
    upload,
)
from tests.support.admin import as_shown
from tests.support.admin_forms import program_form


@pytest.fixture
def client(admin_app):
    return admin_app.test_client()


@pytest.fixture
def london(admin_app, world) -> int:
    with sessions(admin_app) as s:
        program = s.get(Program, world.ana_program)
        program.country, program.timezone = "GB", "Europe/London"
        s.commit()
    return world.ana_program


def test_a_uk_program_enrols_a_national_number_and_shows_it_nationally(admin_app, client, london):
    login(client)
    create = "/admin/participants/new/"
    data = form_data(
        client, create, program_id=str(london), phone="07911 123456", timezone="Europe/London"
    )
    response = client.post(create, data=data)
    assert response.status_code == 302, response.text
    [dee] = rows(admin_app, Participant, Participant.name == "Dee New")
    assert dee.phone == "+447911123456"

    edit = client.get(f"/admin/participants/edit/?id={dee.id}").text
    assert re.search(r'id="phone"[^>]*value="07911 123456"', edit)
    listed = client.get("/admin/participants/").text
    assert "+447911123456" not in listed and "••••• ••••56" in listed
    details = client.get(f"/admin/participants/details/?id={dee.id}").text
    assert "+447911123456" not in as_shown(details, "+447911123456") and "••••• ••••56" in details
    found = client.get("/admin/participants/?search=07911+123456").text
    assert "Dee New" in found

    # Saved again as shown, the number stays the same.
    url = f"/admin/participants/edit/?id={dee.id}"
    data = form_data(
        client, url, program_id=str(london), phone="07911 123456", timezone="Europe/London"
    )
    assert client.post(url, data=data).status_code == 302
    assert get(admin_app, Participant, dee.id).phone == "+447911123456"


def test_a_us_number_typed_nationally_in_a_uk_program_is_a_clear_error(admin_app, client, london):
    login(client)
    create = "/admin/participants/new/"
    data = form_data(client, create, program_id=str(london), phone="(415) 555-0132")
    page = client.post(create, data=data).text
    assert "is not a valid phone number" in page
    assert rows(admin_app, Participant, Participant.name == "Dee New") == []


def test_the_csv_import_reads_numbers_in_the_programs_country(admin_app, client, london):
    login(client)
    csv = "name,phone,timezone\nEve Good,07911 123457,Europe/London\nFay Good,+1 201 555 0177,\n"
    fields = confirm_fields(upload(client, london, csv).text)
    assert [r["name"] for r in fields["rows"]] == ["Eve Good", "Fay Good"]
    assert run_import(client, fields, Accept="application/json").json["ok"]
    eve, fay = (
        rows(admin_app, Participant, Participant.name == n)[0] for n in ("Eve Good", "Fay Good")
    )
    assert (eve.phone, fay.phone) == ("+447911123457", "+12015550177")


def test_program_country_is_set_in_the_form_or_follows_the_time_zone(admin_app, client, world):
    login(client)
    url = "/admin/programs/new/"
    form = program_form(name="London reset", timezone="Europe/London", country="")
    data = {"csrf_token": csrf(client, url), **form}
    assert client.post(url, data=data).status_code == 302
    [london] = rows(admin_app, Program, Program.name == "London reset")
    assert london.country == "GB"
    form = program_form(name="Madrid", timezone="UTC", country="es")
    data = {"csrf_token": csrf(client, url), **form}
    assert client.post(url, data=data).status_code == 302
    assert rows(admin_app, Program, Program.name == "Madrid")[0].country == "ES"
    data = {"csrf_token": csrf(client, url), **program_form(name="Nowhere", country="XX")}
    page = client.post(url, data=data).text
    assert "not saved: country: &#39;XX&#39; is not a two-letter country code" in page
    assert rows(admin_app, Program, Program.name == "Nowhere") == []
    edit = client.get(f"/admin/programs/edit/?id={london.id}").text
    assert re.search(r'id="country"[^>]*value="GB"', edit)


def test_enrolment_outside_the_admin_reads_the_programs_country(admin_app, london):
    services = admin_app.extensions["realign"]
    with UnitOfWork(services) as uow:
        program = uow.session.get(Program, london)
        person = enroll(uow, program, name="Gil", phone="07911 123458", timezone="Europe/London")
        uow.commit()
    assert get(admin_app, Participant, person.id).phone == "+447911123458"
