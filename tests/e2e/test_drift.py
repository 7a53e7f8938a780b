"""Behaviour that drifted while the rules of the five steps were written in several places.

Each test drives the real webhooks and jobs, as a participant texting from a phone would.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from jobs import tasks
from service.core import schedule
from service.core.options import quiet_hours
from service.models import CheckIn, Message, Participant, Program, Statement
from service.program import actions, commitments
from service.unit_of_work import UnitOfWork
from tests.support.factories import (
    ANA,
    BEN,
    get,
    make_pair,
    make_participant,
    make_program,
    sms_form,
)
from tests.support.voice import new_call_sid, said, twiml, voice_form

_sids = itertools.count(1)


@pytest.fixture
def text(twilio_post, run_jobs, services):
    """The participant texts `body`; returns the texts written in answer."""

    def send(body, *, from_=ANA, **extra):
        before = {m.id for m in _outbound(services)}
        response = twilio_post(
            "/twilio/sms", sms_form(body, sid=f"SM{next(_sids):032d}", from_=from_, **extra)
        )
        assert response.status_code == 200
        run_jobs()
        return [m for m in _outbound(services) if m.id not in before]

    return send


def _outbound(services):
    with services.sessions() as session:
        return list(
            session.exec(select(Message).where(Message.direction == "out").order_by(Message.id))
        )


def templates(messages):
    return [m.template for m in messages]


def tick(run_jobs):
    tasks.tick()
    run_jobs()


def to_step4(services, run_jobs, participant_id, *texts):
    """Consented, steps 1-3 done, commitments written and sent for agreement."""
    now = services.now()
    with UnitOfWork(services) as uow:
        session = uow.session
        p = session.get(Participant, participant_id)
        p.status, p.consent_at, p.step = "active", now - timedelta(days=3), 3
        for words in texts or ("Call Ben before I cancel anything",):
            commitments.add_commitment(session, p, words, now=now)
        actions.advance(uow, p, actor="facilitator:1")
        uow.commit()
    run_jobs()


def to_step5(services, run_jobs, text, participant_id, *texts, from_=ANA):
    to_step4(services, run_jobs, participant_id, *texts)
    assert templates(text("AGREE", from_=from_)) == ["commitments_agreed"]
    return get(services, Participant, participant_id)


def checkins_of(services, participant_id):
    with services.sessions() as session:
        return list(
            session.exec(
                select(CheckIn).where(CheckIn.participant_id == participant_id).order_by(CheckIn.id)
            )
        )


def in_waking_hours(services, participant, instant) -> bool:
    program = get(services, Program, participant.program_id)
    return schedule.is_allowed(instant, participant.timezone, quiet_hours(program))


# Every way back in puts the participant where they were -----------------------------------


@pytest.mark.parametrize("word", ["START", "unstop", "Yes"])
def test_back_in_after_stop_schedules_the_next_checkin_from_now(
    app, services, text, run_jobs, clock, word
):
    program = make_program(services)  # New York, daily at 19:00, waking 08:00-21:00
    ana = make_participant(services, program)
    run_jobs()
    p = to_step5(services, run_jobs, text, ana.id)
    assert p.next_checkin_at == datetime(2026, 3, 4, 0, 0, tzinfo=UTC)  # 19:00 New York

    assert templates(text("STOP")) == []
    clock.set(datetime(2026, 3, 4, 0, 1, tzinfo=UTC))  # the check-in falls due while out
    tick(run_jobs)
    assert checkins_of(services, ana.id) == []

    clock.set(datetime(2026, 3, 4, 3, 30, tzinfo=UTC))  # 22:30 in New York: quiet hours
    assert templates(text(word)) == ["resumed"]
    p = get(services, Participant, ana.id)
    assert p.status == "active"
    # The next check-in is the next one from now, at 19:00 tomorrow, never tonight.
    assert p.next_checkin_at == datetime(2026, 3, 5, 0, 0, tzinfo=UTC)

    tick(run_jobs)  # still 22:30: nothing missed is sent late at night
    assert checkins_of(services, ana.id) == []
    clock.set(datetime(2026, 3, 5, 0, 1, tzinfo=UTC))
    tick(run_jobs)
    tick(run_jobs)  # a second tick doubles nothing
    [checkin] = checkins_of(services, ana.id)
    assert checkin.status == "open"
    sent = [m for m in _outbound(services) if m.template == "checkin"]
    assert [(m.status, m.to_number) for m in sent] == [("console", ANA)]


def _two_sided_pair(services, run_jobs, text):
    program = make_program(services, options={"two_sided": True})
    ana, ben = make_pair(services, program)
    run_jobs()
    with services.sessions() as session:
        for person in (ana, ben):
            p = session.get(Participant, person.id)
            p.share_with_partner = True
            session.add(p)
        session.commit()
    now = services.now()
    with UnitOfWork(services) as uow:
        session = uow.session
        a, b = session.get(Participant, ana.id), session.get(Participant, ben.id)
        for p in (a, b):
            p.status, p.consent_at, p.step = "active", now - timedelta(days=3), 3
        commitments.add_commitment(
            session, a, "Say so by Friday if a meeting moves", shared=True, now=now
        )
        actions.advance(uow, a, actor="facilitator:1")
        actions.advance(uow, b, actor="facilitator:1")
        uow.commit()
    run_jobs()
    text("AGREE", from_=ANA)
    text("AGREE", from_=BEN)
    a, b = get(services, Participant, ana.id), get(services, Participant, ben.id)
    assert a.step == b.step == 5 and a.next_partner_checkin_at is not None
    return a, b


@pytest.mark.parametrize("way", ["text", "facilitator"])
def test_resume_after_a_pause_schedules_the_partner_checkin_again(
    app, services, text, run_jobs, clock, way
):
    ana, _ben = _two_sided_pair(services, run_jobs, text)
    partner_due = ana.next_partner_checkin_at
    if way == "text":
        assert templates(text("PAUSE")) == ["paused"]
    else:
        with UnitOfWork(services) as uow:
            actions.pause(uow, uow.session.get(Participant, ana.id), actor="f:1")
            uow.commit()
    clock.set(partner_due + timedelta(minutes=1))  # the weekly partner question falls due
    tick(run_jobs)
    clock.set(partner_due + timedelta(days=1, hours=-6))
    if way == "text":
        assert templates(text("RESUME")) == ["unpaused"]
    else:
        with UnitOfWork(services) as uow:
            actions.resume(uow, uow.session.get(Participant, ana.id), actor="f:1")
            uow.commit()
    p = get(services, Participant, ana.id)
    assert p.status == "active"
    assert p.next_checkin_at is not None and p.next_checkin_at > services.now()
    assert p.next_partner_checkin_at is not None and p.next_partner_checkin_at > services.now()
    assert in_waking_hours(services, p, p.next_partner_checkin_at)


def test_back_in_after_stop_schedules_the_partner_checkin_again(
    app, services, text, run_jobs, clock
):
    ana, _ben = _two_sided_pair(services, run_jobs, text)
    partner_due = ana.next_partner_checkin_at
    text("STOP", from_=ANA)
    clock.set(partner_due + timedelta(minutes=1))
    tick(run_jobs)
    assert templates(text("START", from_=ANA)) == ["resumed"]
    p = get(services, Participant, ana.id)
    assert p.next_partner_checkin_at is not None and p.next_partner_checkin_at > services.now()
    assert p.next_checkin_at is not None and p.next_checkin_at > services.now()
    assert in_waking_hours(services, p, p.next_checkin_at)


# A text that answers nothing gets the open question again ---------------------------------


def test_at_step4_any_other_text_gets_the_agreement_question(app, services, text, run_jobs):
    program = make_program(services)
    ana = make_participant(services, program)
    run_jobs()
    to_step4(services, run_jobs, ana.id)
    sent = text("sounds good, I think")
    assert templates(sent) == ["agreement_reminder"]
    assert "AGREE" in sent[0].body
    assert "nothing else is needed" not in sent[0].body
    assert get(services, Participant, ana.id).step == 4


def test_at_step3_any_other_text_gets_the_call_again(app, services, text, run_jobs):
    program = make_program(services)
    ana = make_participant(services, program)
    run_jobs()
    text("YES")
    with services.sessions() as session:
        p = session.get(Participant, ana.id)
        p.step, p.prompt, p.prompt_due_at = 3, None, None
        session.commit()
    sent = text("ok when?")
    assert templates(sent) == ["call_reminder"]
    assert "CALL" in sent[0].body and "nothing else is needed" not in sent[0].body


def test_nothing_else_is_needed_only_when_nothing_is_open(app, services, text, run_jobs):
    program = make_program(services)
    ana = make_participant(services, program)
    run_jobs()
    to_step5(services, run_jobs, text, ana.id)
    sent = text("thinking of you all")  # step 5, no check-in open
    assert templates(sent) == ["note_saved"]
    assert "nothing else is needed" in sent[0].body


def test_a_second_unclear_checkin_answer_is_kept_and_the_checkin_stays_open(
    app, services, text, run_jobs, clock
):
    program = make_program(services)
    ana = make_participant(services, program)
    run_jobs()
    to_step5(services, run_jobs, text, ana.id, "Call Ben before I cancel", "Walk on Sunday")
    clock.set(datetime(2026, 3, 4, 0, 1, tzinfo=UTC))
    tick(run_jobs)
    assert templates(text("N")) == ["checkin_clarify"]  # which of the two?
    sent = text("no")
    assert templates(sent) == ["checkin_note_kept"]
    assert "Y" in sent[0].body and "N" in sent[0].body  # how to answer
    [checkin] = checkins_of(services, ana.id)
    assert checkin.status == "open"
    assert "no" in (checkin.note or "")
    assert templates(text("N Y")) == ["checkin_thanks"]
    [checkin] = checkins_of(services, ana.id)
    assert checkin.status == "answered"


def test_words_during_an_open_checkin_are_kept_on_it(app, services, text, run_jobs, clock):
    program = make_program(services)
    ana = make_participant(services, program)
    run_jobs()
    to_step5(services, run_jobs, text, ana.id)
    clock.set(datetime(2026, 3, 4, 0, 1, tzinfo=UTC))
    tick(run_jobs)
    sent = text("stop texting me so early")
    assert templates(sent) == ["checkin_note_kept"]
    [checkin] = checkins_of(services, ana.id)
    assert checkin.status == "open"
    assert checkin.note == "stop texting me so early"
    p = get(services, Participant, ana.id)
    assert p.status == "active"  # not an opt-out: a sentence about the check-in
    # The facilitator sees it with that check-in on the participant's page.
    assert templates(text("Y")) == ["checkin_thanks"]
    [checkin] = checkins_of(services, ana.id)
    assert checkin.note == "stop texting me so early"


# Before consent, a text always gets an answer (at most once an hour) ----------------------


def test_a_text_before_consent_gets_who_is_writing_and_how_to_answer(
    app, services, text, run_jobs, clock
):
    program = make_program(services)
    ana = make_participant(services, program)
    run_jobs()
    clock.advance(minutes=5)
    sent = text("Who is this?")
    assert templates(sent) == ["consent_reminder"]
    body = sent[0].body
    assert "Founders Reset" in body and "YES" in body and "STOP" in body
    assert sent[0].status == "console"
    clock.advance(minutes=20)
    assert templates(text("hello??")) == []  # once an hour at most
    clock.advance(minutes=41)
    assert templates(text("is this a scam")) == ["consent_reminder"]
    p = get(services, Participant, ana.id)
    assert p.status == "invited"
    with services.sessions() as session:
        kept = session.exec(select(Statement.body).where(Statement.participant_id == ana.id)).all()
    assert kept == ["Who is this?", "hello??", "is this a scam"]


# One rule matches a caller and a texter to their program ----------------------------------

SERVICE_SID = "MG" + "a" * 32


def test_a_call_reaches_a_messaging_service_program_only_on_its_number(
    app, services, twilio_post, text, run_jobs
):
    program = make_program(services, sender_number=None, messaging_service_sid=SERVICE_SID)
    make_participant(services, program)
    run_jobs()
    # A text to the service reaches her program, as does a call to the default number.
    assert templates(text("YES", to="+12015550177", MessagingServiceSid=SERVICE_SID)) == [
        "consent_thanks",
        "step1_what_happened",
    ]
    answer = twiml(twilio_post("/twilio/voice", voice_form(new_call_sid(), to="+12015550100")))
    assert "Ana" in said(answer)
    # A call to some other number of the account is not hers.
    answer = twiml(twilio_post("/twilio/voice", voice_form(new_call_sid(), to="+12015550177")))
    assert "can't find this number" in said(answer)
    # Nor is a text to that number without the service.
    assert templates(text("hello", to="+12015550177")) == ["unknown_sender"]
