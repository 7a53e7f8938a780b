"""service/program/actions.py: what a facilitator does to one participant; and the CSV
import rules (service/program/imports.py)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from service.models import AuditEvent, Commitment, Participant
from service.program import actions, imports
from service.program.commitments import add_commitment
from service.program.matching import defaults_of
from service.unit_of_work import UnitOfWork
from tests.support.factories import ANA, get, make_participant, make_program, outbound

ACTOR = "facilitator:1"


def activate(services, pid, **fields):
    with services.sessions() as s:
        p = s.get(Participant, pid)
        p.status = "active"
        for name, value in fields.items():
            setattr(p, name, value)
        s.commit()


def run(services, func, pid):
    """Do the action; the texts it queued."""
    with UnitOfWork(services) as uow:
        p = uow.session.get(Participant, pid)
        func(uow, p, actor=ACTOR)
        uow.commit()
        return uow.queued


def actions_logged(services, name):
    with services.sessions() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == name)))


def test_reinvite_only_for_the_invited_and_once_a_day(services):
    program = make_program(services)
    p = make_participant(services, program, invite=False)
    [message] = run(services, actions.reinvite, p.id)
    assert message.template == "invite"
    with pytest.raises(actions.ActionError, match="already queued today"):
        run(services, actions.reinvite, p.id)
    activate(services, p.id)
    with pytest.raises(actions.ActionError, match="no invitation needed"):
        run(services, actions.reinvite, p.id)
    assert len(actions_logged(services, "reinvite")) == 1


def test_send_prompt_now_repeats_the_open_prompt_or_opens_the_step(services):
    program = make_program(services)
    p = make_participant(services, program, invite=False)
    with pytest.raises(actions.ActionError, match="only to active"):
        run(services, actions.send_prompt_now, p.id)
    activate(services, p.id, prompt="step1_emotions")
    [message] = run(services, actions.send_prompt_now, p.id)
    assert message.template == "step1_emotions"  # the open one, not the step's first
    activate(services, p.id, step=3, prompt=None)
    [message] = run(services, actions.send_prompt_now, p.id)
    assert message.template == "step3_intro"
    activate(services, p.id, step=4)
    with pytest.raises(actions.ActionError, match="no commitments are waiting"):
        run(services, actions.send_prompt_now, p.id)
    with services.sessions() as s:
        add_commitment(s, s.get(Participant, p.id), "Call weekly", now=services.now())
        s.commit()
    templates = [m.template for m in run(services, actions.send_prompt_now, p.id)]
    assert templates == ["commitments_list", "commitment_agree_prompt"]
    activate(services, p.id, step=5)
    with pytest.raises(actions.ActionError, match="scheduled check-ins"):
        run(services, actions.send_prompt_now, p.id)


def test_advance_pause_and_resume(services):
    program = make_program(services)
    p = make_participant(services, program, invite=False)
    with pytest.raises(actions.ActionError, match="only active"):
        run(services, actions.advance, p.id)
    activate(services, p.id)
    [message] = run(services, actions.advance, p.id)
    assert message.template == "step2_responsibility" and get(services, Participant, p.id).step == 2
    run(services, actions.pause, p.id)
    assert get(services, Participant, p.id).status == "paused"
    with pytest.raises(actions.ActionError):
        run(services, actions.pause, p.id)
    run(services, actions.resume, p.id)
    assert get(services, Participant, p.id).status == "active"
    # Resuming in step 5 schedules the next check-in from now.
    with services.sessions() as s:
        person = s.get(Participant, p.id)
        add_commitment(s, person, "Call weekly", now=services.now())
        s.exec(select(Commitment)).one().status = "active"
        person.step, person.status, person.next_checkin_at = 5, "paused", None
        s.commit()
    run(services, actions.resume, p.id)
    assert get(services, Participant, p.id).next_checkin_at is not None
    assert [len(actions_logged(services, a)) for a in ("pause", "resume")] == [1, 2]


def test_import_checks_every_row_and_enrols_all_in_one_go(services):
    program = make_program(services)
    make_participant(services, program)  # ANA
    text = (
        "Name,Phone,Language\n"
        "Good One,(201) 555-0191,es\n"
        ",+12015550192,\n"
        "Bad Lang,+12015550193,fr\n"
        "Twice,201-555-0191,\n"
        f"Taken,{ANA},\n"
    )
    with services.sessions() as s:
        rows = imports.check_import(
            s, program, imports.parse_csv(text), "k", defaults_of(services.settings)
        )
    assert [r.errors for r in rows][0] == []
    assert "name is missing" in rows[1].errors[0]
    assert "language" in rows[2].errors[0]
    assert "same number as line 2" in rows[3].errors[0]
    assert "already in the program" in rows[4].errors[0]
    with UnitOfWork(services) as uow:
        imports.import_rows(uow, program, [rows[0].as_dict()], actor=ACTOR)
        uow.commit()
        invitations = uow.queued
    [person] = [p for p in outbound(services) if p.id == invitations[0].id]
    assert person.template == "invite" and person.to_number == "+12015550191"
    with UnitOfWork(services) as uow:
        # A row that fails at enrolment (here: now a duplicate) rolls the whole batch back.
        with pytest.raises(actions.ActionError, match="line 2"):
            imports.import_rows(
                uow,
                program,
                [{**rows[0].as_dict(), "phone": "+12015550199", "line": 1}, rows[0].as_dict()],
                actor=ACTOR,
            )
        uow.rollback()
    with services.sessions() as s:
        phones = set(s.exec(select(Participant.phone)))
    assert "+12015550199" not in phones


def test_parse_csv_needs_name_and_phone_columns(services):
    with pytest.raises(actions.ActionError, match="missing: phone"):
        imports.parse_csv("name,number\nA,1\n")
    with pytest.raises(actions.ActionError, match="no participants"):
        imports.parse_csv("name,phone\n\n")
