"""Short labels in the texts sent again and again; the full wording where it is agreed.

Driven through the real webhooks, tick and jobs, as a participant texting would see it.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from jobs import tasks
from service.core.segments import segment_info
from service.models import CheckIn, Commitment, Message, Participant
from service.program import actions, commitments
from service.unit_of_work import UnitOfWork
from tests.support.factories import ANA, make_participant, make_program, sms_form

_sids = itertools.count(5000)

WORDING = (
    "Tell Sam by Thursday if I can't make a meeting, and offer another time",
    "Share the weekly numbers with the whole team every Monday by noon",
    "Ask before I borrow the car, even when it seems like a small thing",
)
LABELS = (
    "Tell Sam if a meeting slips",
    "Weekly numbers by Monday noon",
    "Ask before borrowing the car",
)


@pytest.fixture
def text(twilio_post, run_jobs, services):
    def send(body, *, from_=ANA):
        before = {m.id for m in _outbound(services)}
        form = sms_form(body, sid=f"SM{next(_sids):032d}", from_=from_)
        assert twilio_post("/twilio/sms", form).status_code == 200
        run_jobs()
        return [m for m in _outbound(services) if m.id not in before]

    return send


def _outbound(services):
    with services.sessions() as session:
        return list(
            session.exec(select(Message).where(Message.direction == "out").order_by(Message.id))
        )


def _to_step5(services, run_jobs, text, participant_id, labels):
    now = services.now()
    with UnitOfWork(services) as uow:
        session = uow.session
        p = session.get(Participant, participant_id)
        p.status, p.consent_at, p.step = "active", now - timedelta(days=3), 3
        for words, label in zip(WORDING, labels, strict=True):
            commitments.add_commitment(session, p, words, label=label, now=now)
        actions.advance(uow, p, actor="facilitator:1")
        uow.commit()
    run_jobs()
    listed = [m for m in _outbound(services) if m.template == "commitments_list"][-1]
    for words in WORDING:
        assert words in listed.body  # the agreement quotes the full wording
    assert [m.template for m in text("AGREE")] == ["commitments_agreed"]


def test_checkin_nudge_and_weekly_summary_list_labels_in_one_segment(
    app, services, text, run_jobs, clock
):
    program = make_program(services, quiet_end="23:00")  # room for a nudge after 19:00
    ana = make_participant(services, program)
    run_jobs()
    _to_step5(services, run_jobs, text, ana.id, LABELS)

    # Tuesday 19:01 in New York: the check-in lists the labels, not the wording.
    clock.set(datetime(2026, 3, 4, 0, 1, tzinfo=UTC))
    tasks.tick()
    run_jobs()
    [checkin_text] = [m for m in _outbound(services) if m.template == "checkin"]
    assert checkin_text.body == (
        "Did you keep each one?\n1) Tell Sam if a meeting slips\n"
        "2) Weekly numbers by Monday noon\n3) Ask before borrowing the car\n"
        "Reply Y, N or P (partly)."
    )
    assert not any(words in checkin_text.body for words in WORDING)
    assert segment_info(checkin_text.body).segments == 1

    # Unanswered, the nudge names the same labels, in one segment.
    for _ in range(12):
        clock.advance(minutes=30)
        tasks.tick()
        run_jobs()
        nudges = [m for m in _outbound(services) if m.template == "checkin_nudge"]
        if nudges:
            break
    assert nudges, "a nudge is sent while the check-in stays open"
    assert "1) Tell Sam if a meeting slips\n" in nudges[0].body
    assert segment_info(nudges[0].body).segments == 1
    assert [m.template for m in text("Y N P")] == ["checkin_thanks"]

    # The rest of the week: the first kept each day, the second never. On Sunday the
    # summary leads with what was kept and leaves the second one (and any streak) out.
    for day in range(5, 10):
        clock.set(datetime(2026, 3, day, 0, 1, tzinfo=UTC))
        tasks.tick()
        run_jobs()
        if day < 9:
            assert [m.template for m in text("Y N Y")] == ["checkin_thanks"]
    [weekly] = [m for m in _outbound(services) if m.template == "weekly_summary"]
    assert weekly.body == (
        "This week you kept:\nTell Sam if a meeting slips: 5 of 5\n"
        "Ask before borrowing the car: 4 of 5\nThank you."
    )
    assert "streak" not in weekly.body.lower()
    assert segment_info(weekly.body).segments == 1


def test_a_week_with_nothing_kept_gets_a_fresh_start_not_a_zero(
    app, services, text, run_jobs, clock
):
    program = make_program(services)
    ana = make_participant(services, program)
    run_jobs()
    _to_step5(services, run_jobs, text, ana.id, LABELS)
    for day in range(4, 10):
        clock.set(datetime(2026, 3, day, 0, 1, tzinfo=UTC))
        tasks.tick()
        run_jobs()
        if day < 9:
            assert [m.template for m in text("N N N")] == ["checkin_thanks"]
    sent = [m for m in _outbound(services) if m.template.startswith("weekly_summary")]
    assert [m.template for m in sent] == ["weekly_summary_fresh"]
    assert "0" not in sent[0].body


def test_a_commitment_without_a_label_is_listed_by_its_suggestion(
    app, services, text, run_jobs, clock
):
    program = make_program(services)
    ana = make_participant(services, program)
    run_jobs()
    _to_step5(services, run_jobs, text, ana.id, ("", "", ""))
    with services.sessions() as session:
        stored = session.exec(select(Commitment).order_by(Commitment.id)).all()
    assert [c.label for c in stored] == [
        "Tell Sam by Thursday",
        "Share the weekly numbers",
        "Ask before I borrow the car",
    ]
    clock.set(datetime(2026, 3, 4, 0, 1, tzinfo=UTC))
    tasks.tick()
    run_jobs()
    [checkin_text] = [m for m in _outbound(services) if m.template == "checkin"]
    assert "1) Tell Sam by Thursday\n" in checkin_text.body
    with services.sessions() as session:
        assert session.exec(select(CheckIn)).one().status == "open"
