"""One facilitator's participants stay theirs: a number belongs to one owner's programs, a
phone has one open enrolment on a number programs share, STOP reaches every program on the
number, and nothing on enrolment tells one facilitator about another's participants.

Through the app's own doors (admin form, CLI, signed SMS webhook) on a real database and Redis.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from service.models import Message, Participant, Program
from service.program import enrollment
from service.program.erasure import erase_participant
from service.unit_of_work import UnitOfWork
from tests.support.admin_forms import program_form
from tests.support.admin_walk import login, token_for
from tests.support.factories import ANA, PROGRAM_NUMBER, make_participant, make_program, sms_form

BENS_NUMBER = "+12015550177"


def rows(services, model, *where):
    with services.sessions() as s:
        return list(s.scalars(sa.select(model).where(*where).order_by(model.id)))


# A number of one's own belongs to one owner's programs --------------------------------------


def test_a_program_cannot_take_another_facilitators_number(admin_app, world):
    services = admin_app.extensions["realign"]
    with services.sessions() as s:
        s.get(Program, world.ben_program).sender_number = BENS_NUMBER
        s.commit()
    client = admin_app.test_client()
    login(client, "ana@example.org")
    data = program_form(name="Taken line", sender_number=BENS_NUMBER)
    page = client.post("/admin/programs/new/", data={**data, "csrf_token": token_for(client)})
    assert page.status_code == 200
    assert "used by another facilitator&#39;s programs" in page.text
    assert "Ben" not in page.text.split("<form")[1].split("</form>")[0].replace("Ben Coach", "")
    assert rows(services, Program, Program.name == "Taken line") == []
    # Nor by moving one of her own programs onto it.
    edit = f"/admin/programs/edit/?id={world.ana_program}"
    data = program_form(name="Ana's program", sender_number=BENS_NUMBER)
    page = client.post(edit, data={**data, "csrf_token": token_for(client)})
    assert page.status_code == 200 and "used by another facilitator" in page.text
    assert rows(services, Program, Program.sender_number == BENS_NUMBER)[0].owner_id == world.ben
    # Its owner may give the number to another of his programs.
    ben = admin_app.test_client()
    login(ben, "ben@example.org")
    data = program_form(name="Ben's second", sender_number=BENS_NUMBER)
    assert (
        ben.post("/admin/programs/new/", data={**data, "csrf_token": token_for(ben)}).status_code
        == 302
    )
    assert len(rows(services, Program, Program.sender_number == BENS_NUMBER)) == 2


# On a shared number, one open enrolment per phone --------------------------------------------


def test_another_facilitator_cannot_capture_a_participants_texts(services, twilio_post, run_jobs):
    # Both programs answer on the account's default number (neither has its own).
    bens = make_program(services, email="ben@example.org", name="Ben's", sender_number=None)
    anas = make_program(services, email="ana@example.org", name="Ana's", sender_number=None)
    theirs = make_participant(services, bens, name="Rosa Private", phone=ANA)
    with UnitOfWork(services) as uow, pytest.raises(enrollment.EnrollmentError) as refused:
        enrollment.enroll(uow, uow.session.get(Program, anas.id), name="Rosa?", phone=ANA)
    said = str(refused.value)
    assert "already in an open program" in said
    assert "Rosa" not in said and "Ben" not in said and str(bens.id) not in said
    assert rows(services, Participant, Participant.program_id == anas.id) == []

    # Her next text still reaches her own program, and only it.
    assert twilio_post("/twilio/sms", sms_form("YES", sid="SM" + "c" * 32)).status_code == 200
    run_jobs()
    [text] = rows(services, Message, Message.direction == "in")
    assert (text.program_id, text.participant_id) == (bens.id, theirs.id)
    assert rows(services, Message, Message.program_id == anas.id) == []


def test_the_admin_form_refuses_a_second_enrolment_and_names_nobody(admin_app, world):
    # The world's programs have no numbers and the app none either: they share every line.
    client = admin_app.test_client()
    login(client, "ana@example.org")
    url = "/admin/participants/new/"
    page = client.get(url)
    data = {
        "csrf_token": token_for(client),
        "program_id": str(world.ana_program),
        "name": "Guess",
        "phone": "+12015550122",  # Bo, Ben's participant
        "timezone": "America/New_York",
        "language": "en",
        "partner_id": "0",
    }
    assert page.status_code == 200
    page = client.post(url, data=data)
    assert page.status_code == 200
    assert "already in an open program on the same texting number" in page.text
    assert "Bo Ben-side" not in page.text and "Ben&#39;s program" not in page.text
    services = admin_app.extensions["realign"]
    assert len(rows(services, Participant, Participant.phone == "+12015550122")) == 1


def test_a_new_number_cannot_give_a_participant_two_open_enrolments(admin_app, world):
    services = admin_app.extensions["realign"]
    with services.sessions() as s:
        s.get(Program, world.ana_program).sender_number = "+12015550188"
        second = Program(name="Ana's second", owner_id=world.ana, sender_number=BENS_NUMBER)
        s.add(second)
        s.flush()
        # Ari is in both: two numbers, so each text still reaches one.
        s.add(Participant(program_id=second.id, name="Ari Ana-side", phone="+12015550111"))
        s.commit()
    client = admin_app.test_client()
    login(client, "ana@example.org")
    edit = f"/admin/programs/edit/?id={world.ana_program}"
    data = program_form(name="Ana's program", sender_number=BENS_NUMBER)
    page = client.post(edit, data={**data, "csrf_token": token_for(client)})
    assert page.status_code == 200 and "a text must reach exactly one" in page.text
    with services.sessions() as s:
        assert s.get(Program, world.ana_program).sender_number == "+12015550188"


# STOP on a number is STOP for every program on it --------------------------------------------


def test_stop_opts_the_phone_out_of_every_program_on_the_number(services, twilio_post, run_jobs):
    first = make_program(services, email="ana@example.org", name="First", sender_number=None)
    second = make_program(services, email="ana@example.org", name="Second", sender_number=None)
    elsewhere = make_program(
        services, email="ana@example.org", name="Own number", sender_number=BENS_NUMBER
    )
    one = make_participant(services, first, phone=ANA)
    # Two open enrolments on one number, as data from before the rule could hold them.
    with services.sessions() as s:
        two = Participant(program_id=second.id, name="Ana Reyes", phone=ANA, status="active")
        s.add(two)
        s.commit()
        two_id = two.id
    three = make_participant(services, elsewhere, phone=ANA)
    run_jobs()

    form = sms_form("STOP", sid="SM" + "d" * 32, to=PROGRAM_NUMBER)
    assert twilio_post("/twilio/sms", form).status_code == 200
    run_jobs()
    status = {p.id: p.status for p in rows(services, Participant, Participant.phone == ANA)}
    assert status == {one.id: "opted_out", two_id: "opted_out", three.id: "invited"}


# An erasure is told only to the programs of the owner it was erased from ---------------------


def test_an_erasure_is_told_only_to_its_owners_programs(admin_app, world):
    import io

    services = admin_app.extensions["realign"]
    erase_participant(services, world.ben_participant, actor=f"facilitator:{world.ben}")
    bo = "+12015550122"

    def new_participant(client, program_id):
        data = {
            "csrf_token": token_for(client),
            "program_id": str(program_id),
            "name": "Bo Again",
            "phone": bo,
            "timezone": "America/New_York",
            "language": "en",
            "partner_id": "0",
        }
        return client.post("/admin/participants/new/", data=data)

    ana = admin_app.test_client()
    login(ana, "ana@example.org")
    url = "/admin/participants/import/"
    ana.get(url)
    preview = ana.post(
        url,
        data={
            "csrf_token": token_for(ana),
            "program_id": str(world.ana_program),
            "file": (io.BytesIO(f"name,phone\nBo Again,{bo}\n".encode()), "people.csv"),
        },
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200 and "Bo Again" in preview.text
    assert "erased" not in preview.text

    ben = admin_app.test_client()
    login(ben, "ben@example.org")
    page = new_participant(ben, world.ben_program)
    assert page.status_code == 200 and "asked to be erased" in page.text

    page = new_participant(ana, world.ana_program)
    assert page.status_code == 302, page.text
    assert len(rows(services, Participant, Participant.phone == bo)) == 1


def test_test_personas_of_programs_on_one_number_get_numbers_of_their_own(services):
    from service.program import personas

    anas = make_program(services, email="ana@example.org", name="Ana's", sender_number=None)
    bens = make_program(services, email="ben@example.org", name="Ben's", sender_number=None)
    made = []
    for program in (anas, bens, anas):
        with UnitOfWork(services) as uow:
            persona = personas.enrol(
                uow, uow.session.get(Program, program.id), language=None, actor="test"
            )
            uow.commit()
            made.append(persona.phone)
    assert len(set(made)) == 3
