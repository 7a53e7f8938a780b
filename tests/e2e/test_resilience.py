"""Redis down: what comes in is stored and answered, and goes out once Redis is back.

A second app is built on the same database with its Redis pointing at a port nobody
listens on, the way a web process finds itself when Redis restarts. The test's own app
(real Redis) plays the worker and the cron process once Redis is back.
"""

from __future__ import annotations

import itertools

import pytest
from twilio.request_validator import RequestValidator

from service.app import create_app
from service.messaging import delivery
from service.models import Message, Participant
from service.program import conversation
from tests.support.factories import (
    ANA,
    get,
    inbound,
    make_participant,
    make_program,
    outbound,
    sms_form,
)
from tests.support.queues import queued_count
from tests.support.stack import health
from tests.support.twilio import local_gateway


@pytest.fixture
def gateway(local_twilio):
    """This module's texts and calls go to the local Twilio API."""
    return local_gateway(local_twilio)


_sids = itertools.count(1)


@pytest.fixture
def down_app(app, settings, db, dead_redis, gateway, clock):
    """The web app as it runs while Redis is down (same database, settings and clock)."""
    down = create_app(settings, engine=db, redis=dead_redis, gateway=gateway, clock=clock)
    down.config["TESTING"] = True
    return down


def post_sms(flask_app, form: dict):
    """POST a text to `flask_app`'s webhook, signed the way Twilio signs it."""
    services = flask_app.extensions["realign"]
    base = services.settings.public_base_url
    signature = RequestValidator(services.webhook_token).compute_signature(
        base + "/twilio/sms", form
    )
    return flask_app.test_client().post(
        "/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}, base_url=base
    )


def text(body: str) -> dict:
    return sms_form(body, sid=f"SM{next(_sids):032x}", from_=ANA)


def queued_jobs(redis_conn) -> int:
    return queued_count(redis_conn)


def test_inbound_sms_is_stored_and_answered_when_redis_is_down_then_replied_to_once(
    services, down_app, run_jobs, redis_conn, local_twilio, clock
):
    program = make_program(services)
    ana = make_participant(services, program)
    run_jobs()
    assert [m["to"] for m in local_twilio.messages()] == [ANA]  # the invitation

    form = text("Yes")
    response = post_sms(down_app, form)
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    # A retried delivery from Twilio while Redis is still down: still fine, still one row.
    assert post_sms(down_app, form).status_code == 200

    [stored] = inbound(services)
    assert (stored.body, stored.status, stored.twilio_sid) == (
        "Yes",
        "received",
        form["MessageSid"],
    )
    assert queued_jobs(redis_conn) == 0  # nothing reached the queue
    assert get(services, Participant, ana.id).status == "invited"

    # Redis is back; the cron tick's sweep job finds the text and the worker handles it.
    clock.advance(minutes=2)
    services.dispatcher.enqueue("sweep")
    run_jobs()
    assert get(services, Message, stored.id).status == "processed"
    assert get(services, Participant, ana.id).status == "active"
    replies = [m for m in outbound(services, ana.id) if m.template != "invite"]
    assert [m.template for m in replies] == ["consent_thanks", "step1_what_happened"]
    assert all(m.status == "queued" and m.twilio_sid for m in replies)
    sent = local_twilio.messages()[1:]  # one batch job sends them concurrently: any order
    assert sorted(m["sid"] for m in sent) == sorted(m.twilio_sid for m in replies)
    assert sorted(m["body"] for m in sent) == sorted(m.body for m in replies)

    # Later sweeps find nothing more to do: each reply went out once.
    clock.advance(minutes=5)
    assert conversation.sweep_inbound(services) == 0
    services.dispatcher.enqueue("sweep")
    run_jobs()
    assert len(local_twilio.messages()) == 3


def test_text_queued_while_redis_is_down_is_sent_by_the_sweeper(
    services, down_app, run_jobs, redis_conn, local_twilio, clock
):

    down = down_app.extensions["realign"]
    program = make_program(down)
    ana = make_participant(down, program)  # enrolment queues the invitation; Redis refuses
    [invite] = outbound(services, ana.id)
    assert invite.status == "pending"
    assert queued_jobs(redis_conn) == 0

    swept = delivery.sweep(services)
    assert (swept["due"], swept["stale"]) == (1, 0)
    run_jobs()
    assert get(services, Message, invite.id).status == "queued"
    assert [m["to"] for m in local_twilio.messages()] == [ANA]

    clock.advance(hours=1)
    delivery.sweep(services)
    run_jobs()
    assert len(local_twilio.messages()) == 1


def test_healthz_reports_redis_down(down_app):
    response = health(down_app.test_client())
    assert response.status_code == 503
    report = response.get_json()
    assert report["database"] == "ok"
    assert report["redis"].startswith("error")
    assert report["ok"] is False


def test_healthz_ok_when_both_answer(client):
    response = health(client)
    assert response.status_code == 200
    report = response.get_json()
    assert (report["database"], report["redis"], report["ok"]) == ("ok", "ok", True)


def test_healthz_reports_database_down(settings, redis_conn, gateway, clock, tmp_path):
    import sqlalchemy as sa

    # A PostgreSQL server nobody runs: the engine is built lazily, connecting fails.
    engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    broken = create_app(settings, engine=engine, redis=redis_conn, gateway=gateway, clock=clock)
    response = health(broken.test_client())
    assert response.status_code == 503
    report = response.get_json()
    assert report["database"].startswith("error") and report["redis"] == "ok"
    engine.dispose()


def test_sweep_leaves_a_fresh_inbound_text_to_its_own_job(services, down_app, clock, run_jobs):
    """The sweeper waits a minute before re-queueing, so a live job is not doubled."""
    program = make_program(services)
    make_participant(services, program)
    run_jobs()
    assert post_sms(down_app, text("Yes")).status_code == 200
    assert conversation.sweep_inbound(services) == 0
    clock.advance(seconds=conversation.INBOUND_STALE_AFTER.total_seconds() + 1)
    assert conversation.sweep_inbound(services) == 1
    run_jobs()
    clock.advance(minutes=5)
    assert conversation.sweep_inbound(services) == 0
