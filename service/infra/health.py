"""Whether the parts the service depends on answer."""

from __future__ import annotations

import sqlalchemy as sa


def check_health(services) -> dict:
    report = {"database": _check(lambda: _ping_db(services.engine))}
    report["redis"] = _check(services.redis.ping)
    report["twilio"] = "console" if services.settings.twilio_console_mode else "configured"
    report["ok"] = report["database"] == "ok" and report["redis"] == "ok"
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
