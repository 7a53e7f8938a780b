"""Unit tests: the pure core, no database, no Redis, no app.

A unit test that asks for a fixture that needs a server is refused at collection, so this
folder stays fast enough to run on every save (`make test-fast`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent

NEEDS_A_SERVER = {
    "database_url", "engine", "db", "redis_url", "redis_conn", "settings", "app", "services",
    "client", "run_jobs", "twilio_post", "local_twilio", "callback_receiver",
}  # fmt: skip


def pytest_collection_modifyitems(items):
    for item in items:
        asked = NEEDS_A_SERVER & set(getattr(item, "fixturenames", ()))
        if asked and item.path.is_relative_to(HERE):
            raise pytest.UsageError(f"{item.nodeid} is a unit test but asks for {sorted(asked)}")
