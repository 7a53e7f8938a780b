"""A participant walks from invitation to agreed commitments by text alone."""

from __future__ import annotations

import itertools

import pytest
from sqlmodel import select

from service.models import Commitment, Message, Participant, Statement
from service.program import actions, commitments
from service.unit_of_work import UnitOfWork
from tests.support.factories import (
    ANA,
    BEN,
    get,
    make_pair,
    make_participant,
    make_program,
    outbound,
    sms_form,
)

_sids = itertools.count(1)


@pytest.fixture
def text(twilio_post, run_jobs):
    """The participant texts `body`; returns the texts that went out in answer."""

    def send(services, body, *, from_=ANA, **extra):
        before = {m.id for m in outbound(services)}
        response = twilio_post(
            "/twilio/sms", sms_form(body, sid=f"SM{next(_sids):032d}", from_=from_, **extra)
        )
        assert response.status_code == 200
        assert response.mimetype == "application/xml"
        run_jobs()
        return [m for m in outbound(services) if m.id not in before]

    return send


def templates(messages):
    return [m.template for m in messages]


def statements(services, participant_id):
    with services.sessions() as session:
        return list(
            session.exec(
                select(Statement)
                .where(Statement.participant_id == participant_id)
                .order_by(Statement.id)
            )
        )


def test_invitation_to_agreed_commitments(app, services, text, run_jobs, gateway):
    program = make_program(services)
    ana = make_participant(services, program)
    run_jobs()

    # The invitation names program and facilitator and asks for YES; nothing else goes out.
    [invite] = outbound(services, ana.id)
    assert invite.template == "invite" and invite.status == "console"
    assert "Founders Reset" in invite.body and "Dana Coach" in invite.body and "YES" in invite.body
    assert [sent["to"] for sent in gateway.sent] == [ANA]

    # Before consent, other text is kept but no step begins.
    sent = text(services, "who is this?")
    assert templates(sent) == ["consent_reminder"]  # who is writing, and how to say yes
    assert get(services, Participant, ana.id).status == "invited"

    sent = text(services, "Yes")
    assert templates(sent) == ["consent_thanks", "step1_what_happened"]
    assert all(m.status == "console" for m in sent)
    p = get(services, Participant, ana.id)
    assert p.status == "active" and p.consent_at is not None and p.prompt == "step1_what_happened"

    sent = text(services, "I missed the investor meeting we had planned.")
    assert templates(sent) == ["ack_statement", "step1_emotions"]
    sent = text(services, "Ashamed. Ben felt let down 😞")
    assert templates(sent) == ["ack_statement", "step1_pattern"]
    sent = text(services, "yes")  # a bare yes answers the pattern question
    assert templates(sent) == ["ack_statement", "step2_responsibility"]
    assert get(services, Participant, ana.id).step == 2
    sent = text(services, "I see how skipping it left you alone in the room.")
    assert templates(sent) == ["ack_statement", "step3_intro"]
    assert "+12015550100" in sent[1].body

    kinds = [(s.step, s.kind, s.body) for s in statements(services, ana.id)]
    assert kinds == [
        (1, "note", "who is this?"),
        (1, "what_happened", "I missed the investor meeting we had planned."),
        (1, "emotions", "Ashamed. Ben felt let down 😞"),
        (1, "pattern", "yes"),
        (2, "responsibility", "I see how skipping it left you alone in the room."),
    ]
    assert get(services, Participant, ana.id).step == 3

    # The facilitator writes a commitment with her after the call and moves her to step 4.
    with UnitOfWork(services) as uow:
        session = uow.session
        p = session.get(Participant, ana.id)
        commitments.add_commitment(
            session,
            p,
            "Send the weekly numbers by Friday noon",
            sign="The update is in the channel",
            now=services.now(),
        )
        actions.advance(uow, p, actor="facilitator:1")
        uow.commit()
    run_jobs()
    listed = outbound(services, ana.id)[-2:]
    assert templates(listed) == ["commitments_list", "commitment_agree_prompt"]
    assert "1) Send the weekly numbers by Friday noon" in listed[0].body

    # She adds one of her own, then agrees to both.
    sent = text(services, "COMMIT Call Ben before I cancel anything")
    assert templates(sent) == ["commitment_added", "commitments_list", "commitment_agree_prompt"]
    assert "2) Call Ben before I cancel anything" in sent[1].body
    sent = text(services, "agree")
    assert templates(sent) == ["commitments_agreed"]
    p = get(services, Participant, ana.id)
    assert p.step == 5
    with services.sessions() as session:
        rows = session.exec(select(Commitment).where(Commitment.participant_id == ana.id)).all()
    assert [(c.status, c.agreed_text == c.text, c.agreed_at is not None) for c in rows] == [
        ("active", True, True),
        ("active", True, True),
    ]


def test_linked_pair_cosigns_a_shared_commitment(app, services, text, run_jobs):
    program = make_program(services)
    ana, ben = make_pair(services, program)
    for phone in (ANA, BEN):
        text(services, "YES", from_=phone)
    with UnitOfWork(services) as uow:
        session = uow.session
        a, b = session.get(Participant, ana.id), session.get(Participant, ben.id)
        a.step = b.step = 3
        [shared, _] = commitments.add_commitment(
            session,
            a,
            "Say so by Friday if a meeting can't happen",
            shared=True,
            sign="A message every Friday",
            now=services.now(),
        )
        actions.advance(uow, a, actor="facilitator:1")
        actions.advance(uow, b, actor="facilitator:1")
        uow.commit()
    run_jobs()

    sent = text(services, "AGREE", from_=ANA)
    assert templates(sent) == ["commitment_waiting_partner"]
    assert "Ben" in sent[0].body
    assert get(services, Participant, ana.id).step == 4

    # The facilitator edits the wording before Ben answers: Ana must agree again.
    with UnitOfWork(services) as uow:
        session = uow.session
        commitment = session.get(Commitment, shared.id)
        commitments.edit_commitment(uow, commitment, "Say so by Thursday if a meeting can't happen")
        uow.commit()
    run_jobs()
    # Both are asked again, with the new wording.
    reasked = outbound(services)[-4:]
    assert sorted(m.template for m in reasked) == [
        "commitment_agree_prompt",
        "commitment_agree_prompt",
        "commitments_list",
        "commitments_list",
    ]
    assert all("Thursday" in m.body for m in reasked if m.template == "commitments_list")
    sent = text(services, "AGREE", from_=BEN)
    assert templates(sent) == ["commitment_waiting_partner"]
    assert get(services, Participant, ben.id).step == 4

    sent = text(services, "agree", from_=ANA)
    # Ana's agreement completes the pair: both go live and both are told.
    assert sorted(templates(sent)) == ["commitments_agreed", "commitments_agreed"]
    assert {m.to_number for m in sent} == {ANA, BEN}
    with services.sessions() as session:
        rows = session.exec(select(Commitment).order_by(Commitment.id)).all()
        assert [(c.participant_id, c.status, c.agreed_text) for c in rows] == [
            (ana.id, "active", "Say so by Thursday if a meeting can't happen"),
            (ben.id, "active", "Say so by Thursday if a meeting can't happen"),
        ]
        assert session.get(Participant, ana.id).step == 5
        assert session.get(Participant, ben.id).step == 5


def test_change_request_goes_to_the_facilitator(app, services, text, run_jobs):
    program = make_program(services)
    ana = make_participant(services, program)
    text(services, "yes")
    with UnitOfWork(services) as uow:
        session = uow.session
        p = session.get(Participant, ana.id)
        p.step = 3
        commitments.add_commitment(session, p, "Daily stand-up at 9", now=services.now())
        actions.advance(uow, p, actor="facilitator:1")
        uow.commit()
    run_jobs()
    sent = text(services, "CHANGE stand-up at 9:30 on weekdays")
    assert templates(sent) == ["commitment_change_received"]
    with services.sessions() as session:
        from service.models import AttentionItem

        [item] = session.exec(
            select(AttentionItem).where(AttentionItem.kind == "commitment_change")
        ).all()
        assert item.participant_id == ana.id
        [c] = session.exec(select(Commitment)).all()
        assert c.status == "change_requested"
    assert statements(services, ana.id)[-1].body == "stand-up at 9:30 on weekdays"


def test_morning_pacing_waits_for_local_morning(app, services, text, run_jobs, clock):
    from datetime import UTC, datetime

    program = make_program(services, pacing="morning")
    make_participant(services, program)
    sent = text(services, "YES")  # 10:00 in New York: the first question comes at once
    assert [(m.template, m.status) for m in sent][-1] == ("step1_what_happened", "console")
    clock.set(datetime(2026, 3, 4, 1, 30, tzinfo=UTC))  # 20:30 in New York
    sent = text(services, "what happened, in facts")
    assert templates(sent) == ["next_prompt_morning", "step1_emotions"]
    prompt = sent[-1]
    assert prompt.status == "pending"
    # 08:00 the next morning in New York (EST, UTC-5).
    assert prompt.send_after == datetime(2026, 3, 4, 13, 0, tzinfo=UTC)
    with services.sessions() as session:
        assert session.get(Message, prompt.id).status == "pending"
    # A text before the prompt arrives is a note, not an answer.
    sent = text(services, "also, I'm nervous")
    assert templates(sent) == ["note_saved"]
