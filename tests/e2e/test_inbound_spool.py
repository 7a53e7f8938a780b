"""Nothing Twilio delivered is lost while the database is away: signed texts, delivery
statuses and recording callbacks are answered normally and spooled in Redis, then stored
and taken through their turns in arrival order once it is back. When Redis is away too,
the webhook answers 503 at once, so that Twilio retries or tries its fallback URL.

The database goes away for real: PostgreSQL behind a TCP proxy that turns into a black
hole (connections accepted, never answered), SQLite under another process's exclusive
lock.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from sqlmodel import select
from twilio.request_validator import RequestValidator

import jobs.context
from service.app import create_app
from service.core.enums import MessageStatus
from service.infra.db import make_engine
from service.infra.spool import Spool
from service.models import Message, Participant, Statement
from tests.support.factories import make_participant, make_program, mark_sent, sms_form
from tests.support.outage import SqliteLock, TcpProxy

TWILIO_TIMEOUT_S = 15  # Twilio gives up on a webhook after this long
PARTICIPANTS = 10


@pytest.fixture
def outage(database_url):
    """(the URL the app uses, the part that goes away: .down() / .up())."""
    if database_url.startswith("postgresql"):
        parts = urlsplit(database_url)
        part = TcpProxy((parts.hostname, parts.port or 5432))
        url = part.url_for(database_url)
    else:
        part = SqliteLock(database_url)
        url = database_url
    yield url, part
    part.close()


def build(settings, outage, redis, gateway, clock):
    url, _ = outage
    engine = make_engine(url)
    quick = make_engine(url, timeout=settings.webhook_db_timeout)
    app = create_app(
        settings, engine=engine, quick_engine=quick, redis=redis, gateway=gateway, clock=clock
    )
    app.config["TESTING"] = True
    return app, (engine, quick)


@pytest.fixture
def away(settings, db, outage, redis_conn, gateway, clock):
    """The app on a database that can go away; its jobs run in this process."""
    app, engines = build(settings, outage, redis_conn, gateway, clock)
    services = app.extensions["realign"]
    jobs.context.use(services)
    yield app, services, outage[1]
    jobs.context.use(None)
    for engine in engines:
        engine.dispose()


def signed_post(app, path: str, form: dict):
    """POST as Twilio does, timed: (response, seconds taken)."""
    services = app.extensions["realign"]
    base = services.settings.public_base_url
    signature = RequestValidator(services.webhook_token).compute_signature(base + path, form)
    started = time.monotonic()
    response = app.test_client().post(
        path, data=form, headers={"X-Twilio-Signature": signature}, base_url=base
    )
    return response, time.monotonic() - started


def participants(services, count: int) -> list[Participant]:
    program = make_program(services)
    return [
        make_participant(services, program, name=f"Person {n}", phone=f"+1415555{n:04d}")
        for n in range(count)
    ]


def test_texts_arriving_while_the_database_is_away_are_kept_and_turned_in_order(
    away, database_url, clock, run_jobs
):
    app, services, part = away
    people = participants(services, PARTICIPANTS)
    run_jobs()  # the invitations
    on_postgres = database_url.startswith("postgresql")
    outage_s, count = (60.0, 100) if on_postgres else (20.0, 40)

    part.down()
    sent: dict[str, list[str]] = {p.phone: [] for p in people}
    answers, slowest = [], 0.0
    for n in range(count):
        person = people[n % PARTICIPANTS]
        body = "YES" if not sent[person.phone] else f"{person.name}, text {n // PARTICIPANTS}"
        sent[person.phone].append(body)
        form = sms_form(body, sid=f"SM{n:032d}", from_=person.phone)
        response, seconds = signed_post(app, "/twilio/sms", form)
        answers.append(response.status_code)
        slowest = max(slowest, seconds)
        if n % 17 == 3:  # Twilio retrying a text it thinks was lost: the same SID again
            retried, seconds = signed_post(app, "/twilio/sms", form)
            answers.append(retried.status_code)
            slowest = max(slowest, seconds)
        clock.advance(seconds=outage_s / count)
        time.sleep(outage_s / count)

    assert set(answers) == {200}  # answered normally, every one
    assert slowest < TWILIO_TIMEOUT_S  # and in time for Twilio
    assert Spool(services.redis).depth() == count + len(range(3, count, 17))

    part.up()
    run_jobs()  # the drain the webhooks queued, then every turn

    with services.sessions() as session:
        stored = session.exec(
            select(Message).where(Message.direction == "in").order_by(Message.id)
        ).all()
        assert len(stored) == count  # the retries stored once
        assert [m.twilio_sid for m in stored] == [
            f"SM{n:032d}" for n in range(count)
        ]  # arrival order
        assert all(m.status == MessageStatus.PROCESSED for m in stored)
        times = [m.created_at for m in stored]
        assert times == sorted(times) and len(set(times)) == count  # when each came in
        for person in people:
            statements = session.exec(
                select(Statement.body)
                .where(Statement.participant_id == person.id)
                .order_by(Statement.id)
            ).all()
            assert statements == sent[person.phone][1:]  # each person's words, in order
            assert session.get(Participant, person.id).status == "active"  # their YES
    assert Spool(services.redis).depth() == 0


def test_delivery_statuses_arriving_while_the_database_is_away_are_applied(away, clock, run_jobs):
    app, services, part = away
    [person] = participants(services, 1)
    run_jobs()
    invite = mark_sent(services, status=MessageStatus.SENT)

    part.down()
    form = {
        "MessageSid": invite.twilio_sid,
        "MessageStatus": "delivered",
        "AccountSid": "AC" + "0" * 32,
    }
    response, seconds = signed_post(app, "/twilio/sms/status", form)
    assert response.status_code == 204 and seconds < TWILIO_TIMEOUT_S
    part.up()
    run_jobs()  # nothing queued a drain: the spool waits for the scheduled one
    from jobs import tasks

    tasks.drain_spool()
    with services.sessions() as session:
        assert session.get(Message, invite.id).status == MessageStatus.DELIVERED
    assert Spool(services.redis).depth() == 0


def test_with_the_database_and_redis_both_away_twilio_gets_503_at_once(
    settings, db, outage, dead_redis, gateway, clock
):
    app, engines = build(settings, outage, dead_redis, gateway, clock)
    part = outage[1]
    part.down()
    try:
        timings = []
        for n in range(5):
            response, seconds = signed_post(
                app, "/twilio/sms", sms_form("hello", sid=f"SM{n:032d}")
            )
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "30"
            timings.append(seconds)
    finally:
        part.up()
        for engine in engines:
            engine.dispose()
    # None waits longer than the database's short timeout (the first one waits it out,
    # the rest find the breaker open): Twilio moves on to its retry or fallback URL.
    assert max(timings) < settings.webhook_db_timeout + 2
