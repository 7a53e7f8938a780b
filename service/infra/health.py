"""Whether the parts the service depends on answer."""

from __future__ import annotations

import sqlalchemy as sa

from service.infra.spool import Spool


def check_health(services) -> dict:
    report = {"database": _check(lambda: _ping_db(services.engine))}
    report["redis"] = _check(services.redis.ping)
    report["ok"] = report["database"] == "ok" and report["redis"] == "ok"
    if report["redis"] == "ok":
        # Inbound texts waiting for the database to come back (normally 0).
        report["spooled"] = Spool(services.redis).depth()
    return report


def _ping_db(engine) -> None:
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


def _check(fn) -> str:
    try:
        fn()
    except Exception as exc:  # report, never raise: this is what monitoring reads
        return f"error: {type(exc).__name__}"
    return "ok"
