"""Every text's fate is known, whatever order Twilio's answers come in and however long it
is away: statuses that beat their SID, a half-hour outage, a day that ends before Twilio
is back, a callback that never comes.

The real twilio client talks to the local Twilio API; its status callbacks reach the app
on its public URL (a live server), signed with the account's token.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from service.core.delivery_rules import FINAL
from service.messaging import delivery, outbox
from service.models import AttentionItem, CheckIn, Message, Participant
from service.program import commitments, tick
from service.unit_of_work import UnitOfWork
from tests.support.factories import due_population, enter_step5, make_participant, make_program
from tests.support.queues import release_due
from tests.support.stack import health as health_of
from tests.support.twilio import live_settings, local_gateway

DELIVERY_ERRORS = (30003, 30004, 30005, 30006, 30007)


@pytest.fixture
def twilio_api(local_twilio):
    return local_twilio


@pytest.fixture
def settings(tmp_path, database_url, redis_url, live_port):
    return live_settings(tmp_path, database_url, redis_url, live_port, sender_mps=0)


@pytest.fixture
def gateway(twilio_api):
    return local_gateway(twilio_api, timeout=10)


def outbound(services) -> list[Message]:
    with services.sessions() as session:
        return list(session.exec(select(Message).where(Message.direction == "out")))


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.2)


def sent_to(twilio_api) -> Counter:
    return Counter(m["to"] for m in twilio_api.messages())


def test_statuses_that_beat_their_sid_are_all_applied(services, live, twilio_api, run_jobs, clock):
    due_population(services, 200)
    with services.sessions() as session:
        phones = sorted(p.phone for p in session.exec(select(Participant)))
    unreachable = phones[:30]
    for i, phone in enumerate(unreachable):
        twilio_api.fail(DELIVERY_ERRORS[i % len(DELIVERY_ERRORS)], to=phone)
    # Twilio records each text and posts its callbacks, then answers the create 2 s later.
    twilio_api.hang(2.0, after_record=True)

    assert tick.tick(services).created == 200  # their texts are queued as it commits
    run_jobs()
    wait_for(lambda: len(twilio_api.callbacks()) >= 400)  # sent, then the final word
    time.sleep(0.5)
    delivery.sweep(services)

    rows = outbound(services)
    assert len(rows) == 200 and all(m.status in FINAL for m in rows), Counter(
        m.status for m in rows
    )
    assert Counter(m.status for m in rows) == {"delivered": 170, "undelivered": 30}
    assert {m.to_number for m in rows if m.status == "undelivered"} == set(unreachable)
    with services.sessions() as session:
        marked = session.exec(
            select(Participant.phone).where(Participant.status == "undeliverable")
        ).all()
        flagged = session.exec(
            select(AttentionItem).where(AttentionItem.kind == "undeliverable")
        ).all()
    assert sorted(marked) == unreachable
    assert len(flagged) == 30 and len({i.participant_id for i in flagged}) == 30
    assert sum(sent_to(twilio_api).values()) == 200


def test_a_half_hour_outage_loses_nothing_and_doubles_nothing(
    app, services, twilio_api, run_jobs, clock, caplog
):
    due_population(services, 40)
    with services.sessions() as session:
        phones = sorted(p.phone for p in session.exec(select(Participant)))
    twilio_api.fail(500)  # Twilio answers 500 to every create, until cleared
    tick.tick(services)
    run_jobs()
    outage_ends = clock() + timedelta(minutes=30)
    while clock() < outage_ends:
        clock.advance(minutes=1)
        delivery.sweep(services)
        release_due(services.redis, clock())  # the retries' own timed jobs
        run_jobs()
    assert twilio_api.messages() == []
    assert all(m.status == "pending" and m.failing_since for m in outbound(services))
    # Hundreds of failed sends within a few real seconds: one ERROR line, with the count.
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "Twilio unavailable" in errors[0]
    health = health_of(app.test_client())
    assert health.status_code == 200  # the service is up; Twilio is what is away
    assert health.get_json()["twilio"] == "degraded"
    assert health.get_json()["waiting_on_twilio"] == 40

    twilio_api.clear_faults()
    for _ in range(20):
        clock.advance(minutes=1)
        delivery.sweep(services)
        release_due(services.redis, clock())  # the retries' own timed jobs
        run_jobs()
    assert sent_to(twilio_api) == Counter({phone: 1 for phone in phones})  # each once
    assert {m.status for m in outbound(services)} <= {"queued", "sent", "delivered"}
    with services.sessions() as session:
        assert session.exec(select(AttentionItem)).all() == []  # a pause, not a failure
    health = health_of(app.test_client()).get_json()
    assert (health["twilio"], health["waiting_on_twilio"]) == ("ok", 0)


def test_a_permanent_failure_is_told_once_never_silent(services, twilio_api, run_jobs):
    program = make_program(services)
    ana = make_participant(services, program, invite=False)
    twilio_api.fail(21213, to=ana.phone)  # our mistake, not hers: no From number
    with UnitOfWork(services) as uow:
        person = uow.session.get(Participant, ana.id)
        outbox.queue_text(uow, person, "help", key="help:1", reply=True)
        uow.commit()
    run_jobs()
    [message] = outbound(services)
    assert message.status == "failed" and message.error_code == 21213
    with services.sessions() as session:
        [item] = session.exec(select(AttentionItem)).all()
        assert item.kind == "send_failed" and item.participant_id == ana.id
        assert "could not be sent" in item.detail
        assert session.get(Participant, ana.id).status == "invited"  # not about her


def test_a_check_in_that_could_only_leave_after_its_day_is_not_sent_late(
    services, twilio_api, run_jobs, clock
):
    # New York, waking 08:00-21:00, the check-in due at 20:55.
    clock.set(datetime(2026, 3, 4, 1, 55, tzinfo=UTC))
    program = make_program(services, cadence="daily@20:55")
    ana = make_participant(services, program, invite=False)
    with UnitOfWork(services) as uow:
        person = uow.session.get(Participant, ana.id)
        person.status, person.consent_at, person.step = "active", clock(), 4
        commitments.add_commitment(uow.session, person, "Call before cancelling", now=clock())
        commitments.agree(uow.session, person, now=clock())
        enter_step5(uow, person)
        person.next_checkin_at = clock() - timedelta(seconds=1)
        uow.commit()
    twilio_api.fail(503)
    tick.tick(services)
    run_jobs()
    for _ in range(12):  # ten minutes of retries (each its own timed job), past 21:00
        clock.advance(minutes=1)
        release_due(services.redis, clock())
        run_jobs()
    twilio_api.clear_faults()
    clock.advance(hours=12)  # the next morning: nothing from last night goes now
    delivery.sweep(services)
    release_due(services.redis, clock())
    run_jobs()
    assert twilio_api.messages() == []
    [message] = [m for m in outbound(services) if m.template == "checkin"]
    assert message.status == "expired"
    with services.sessions() as session:
        [checkin] = session.exec(select(CheckIn)).all()
        assert checkin.status == "unsent"  # neither kept nor missed: it was never asked
        assert session.get(Participant, ana.id).streak == 0


def test_a_row_whose_final_word_never_came_is_asked_about(services, twilio_api, run_jobs, clock):
    # The callbacks go nowhere (no live server): the row stays "queued" until asked.
    program = make_program(services)
    make_participant(services, program)
    run_jobs()
    [message] = outbound(services)
    assert message.status == "queued" and message.twilio_sid
    assert delivery.sweep(services)["asked"] == 0  # too soon to ask
    clock.advance(minutes=4)
    assert delivery.sweep(services)["asked"] == 1
    [message] = outbound(services)
    assert message.status == "delivered"
