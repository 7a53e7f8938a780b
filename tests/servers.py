"""Where the suite's real servers are: one private database and Redis db per xdist worker."""

from __future__ import annotations

import os
import re

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
