"""GET /metrics: every process's metrics (kept in Redis) and the outbox's gauges, for
Prometheus, behind a bearer token."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import redis as redis_lib
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from service.app import create_app
from service.infra import metrics
from service.infra.metrics import Metrics
from service.models import Message
from tests.support.factories import BEN, make_participant, make_program
from tests.support.twilio import free_port

TOKEN = "s3cret-metrics-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"metrics_token": TOKEN})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def other_process(redis_url):
    """A Metrics of its own on its own connection, as another process would record."""
    conn = redis_lib.Redis.from_url(redis_url)
    yield Metrics(conn)
    conn.close()


@pytest.fixture
def dead_redis():
    """A client for a Redis that is not there (a closed port)."""
    conn = redis_lib.Redis(
        host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5, socket_timeout=0.5
    )
    yield conn
    conn.close()


def scrape(client) -> dict[str, dict[tuple, float]]:
    """{sample name: {labels: value}} of one scrape."""
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            key = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[key] = sample.value
    return samples


def test_no_token_no_endpoint(settings, db, redis_conn, gateway, clock):
    app = create_app(
        settings.model_copy(update={"metrics_token": ""}),
        engine=db,
        redis=redis_conn,
        gateway=gateway,
        clock=clock,
    )
    client = app.test_client()
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    assert client.get("/metrics", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong-token",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Basic {TOKEN}",
        TOKEN,
    ],
)
def test_a_wrong_or_missing_bearer_is_refused(client, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert b"realign_" not in response.data


def test_the_right_bearer_gets_the_prometheus_text_format(client):
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.get_data(as_text=True)
    assert "# TYPE realign_outbound_texts gauge" in text
    assert "# TYPE realign_send_seconds histogram" in text
    assert "# TYPE realign_inbound_turns_total counter" in text
    # The scheme is case-insensitive.
    assert client.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200


def test_texts_by_status_and_the_retry_backlog(client, services):
    program = make_program(services)
    for i in range(5):
        make_participant(services, program, name=f"P{i}", phone=f"+1201555020{i}")
    make_participant(services, program, name="Ben", phone=BEN)
    with services.sessions() as session:
        ids = session.scalars(
            sa.select(Message.id).where(Message.direction == "out").order_by(Message.id)
        ).all()
        assert len(ids) == 6  # one invitation each, pending
        session.execute(sa.update(Message).where(Message.id == ids[0]).values(status="delivered"))
        session.execute(sa.update(Message).where(Message.id == ids[1]).values(status="failed"))
        # Tried twice, waiting for the next attempt; and one tried, then sent.
        session.execute(sa.update(Message).where(Message.id == ids[2]).values(attempts=2))
        session.execute(
            sa.update(Message).where(Message.id == ids[3]).values(attempts=1, status="sent")
        )
        # Inbound rows are not the outbox.
        session.add(Message(direction="in", from_number=BEN, body="hi", status="received"))
        session.add(Message(direction="in", from_number=BEN, body="ok", status="processed"))
        session.commit()

    samples = scrape(client)
    texts = {dict(k)["status"]: v for k, v in samples["realign_outbound_texts"].items()}
    assert texts["pending"] == 3
    assert texts["delivered"] == 1
    assert texts["failed"] == 1
    assert texts["sent"] == 1
    assert texts["queued"] == 0  # every outbound status is there, zero or not
    assert "received" not in texts and "processed" not in texts
    assert sum(texts.values()) == 6
    assert samples["realign_send_retry_backlog"][()] == 1
    up = {dict(k)["source"]: v for k, v in samples["realign_metrics_source_up"].items()}
    assert up == {"redis": 1, "database": 1}


def test_spool_depth(client, redis_conn):
    assert scrape(client)["realign_spool_depth"][()] == 0
    redis_conn.rpush(metrics.SPOOL_KEY, "a", "b", "c")
    assert scrape(client)["realign_spool_depth"][()] == 3


def test_histograms_and_counters_from_another_process(client, other_process, clock):
    for seconds in (0.03, 0.2, 0.2, 4.0, 99.0):
        other_process.observe(metrics.SEND_SECONDS, seconds)
    other_process.observe_many(metrics.SEND_SECONDS, [0.001])  # a batch of one fast send
    stored = clock() - timedelta(seconds=1.5)
    other_process.turn_done(stored, clock())
    other_process.turn_done(stored.replace(tzinfo=None), clock())  # SQLite's naive values
    other_process.tick_done(0.7, created=12)
    other_process.tick_done(1.2, created=0)
    other_process.count(metrics.CHECKINS_CREATED, 3)

    samples = scrape(client)
    buckets = {dict(k)["le"]: v for k, v in samples["realign_send_seconds_bucket"].items()}
    assert buckets["0.05"] == 2
    assert buckets["0.1"] == 2
    assert buckets["0.25"] == 4  # cumulative
    assert buckets["5.0"] == 5
    assert buckets["30.0"] == 5
    assert buckets["+Inf"] == 6
    assert samples["realign_send_seconds_count"][()] == 6
    assert samples["realign_send_seconds_sum"][()] == pytest.approx(103.43, abs=0.05)

    turns = {dict(k)["le"]: v for k, v in samples["realign_turn_seconds_bucket"].items()}
    assert turns["1.0"] == 0 and turns["2.5"] == 2
    assert samples["realign_turn_seconds_sum"][()] == pytest.approx(3.0)
    assert samples["realign_inbound_turns_total"][()] == 2

    assert samples["realign_tick_seconds_count"][()] == 2
    assert samples["realign_checkins_created_total"][()] == 15


def test_unknown_names_and_negative_values_are_harmless(client, other_process):
    other_process.observe("no_such_histogram", 1.0)
    other_process.count("no_such_counter")
    other_process.observe(metrics.TICK_SECONDS, -3)  # a clock step back counts as 0
    samples = scrape(client)
    assert samples["realign_tick_seconds_count"][()] == 1
    assert samples["realign_tick_seconds_sum"][()] == 0
    assert not any("no_such" in name for name in samples)


def test_a_redis_outage_never_raises_and_the_endpoint_still_answers(
    settings, db, gateway, clock, dead_redis
):
    down = Metrics(dead_redis)
    down.observe(metrics.SEND_SECONDS, 0.3)
    # After one failure, recording skips Redis for a while: nothing waits on it again.
    started = time.monotonic()
    down.count(metrics.INBOUND_TURNS)
    down.turn_done(clock(), clock())
    down.tick_done(1.0, created=4)
    down.observe_many(metrics.SEND_SECONDS, [0.1, 0.2])
    Metrics(dead_redis).count(metrics.INBOUND_TURNS)  # per client, not per instance
    assert time.monotonic() - started < 0.5

    app = create_app(settings, engine=db, redis=dead_redis, gateway=gateway, clock=clock)
    samples = scrape(app.test_client())
    up = {dict(k)["source"]: v for k, v in samples["realign_metrics_source_up"].items()}
    assert up == {"redis": 0, "database": 1}
    assert "realign_outbound_texts" in samples  # the database's gauges are still there
    assert "realign_spool_depth" not in samples


def test_nothing_goes_to_the_global_registry(client):
    from prometheus_client import REGISTRY

    scrape(client)
    assert not any(name.startswith("realign_") for name in REGISTRY._names_to_collectors)
