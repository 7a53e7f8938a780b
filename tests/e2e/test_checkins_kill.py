"""Exactly one text per due check-in, while workers are SIGKILLed again and again.

1,000 check-ins fall due at once; a real worker pool (`python -m jobs.worker --processes 3`,
as the Procfile runs it) sends them to the local Twilio API while the test kills a member in
the middle of a batch, again and again; the pool starts a new one each time. The sweeper
(what the cron runs) re-finds rows a dead member left claimed and settles them against the
API's message list. The API must receive each text once.
Set KILL_TEST_SIZE for a smaller or larger run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from service.messaging import delivery
from service.models import CheckIn, Message
from service.program import tick
from tests.support.factories import due_population
from tests.support.processes import children
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN, local_gateway, with_local_twilio

SIZE = int(os.environ.get("KILL_TEST_SIZE", "1000"))
WORKERS = 3
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clock():
    # Real time: worker processes and the local API use the machine's clock.
    return lambda: datetime.now(UTC)


@pytest.fixture
def settings(settings, local_twilio):
    return with_local_twilio(
        settings, local_twilio, twilio_timeout=1.0, claim_stale_seconds=6, sender_mps=0
    )


@pytest.fixture
def gateway(local_twilio):
    return local_gateway(local_twilio, timeout=1)


def _stale_claims(services) -> int:
    """Rows a killed worker left claimed (older than the stale window)."""
    cutoff = services.now() - timedelta(seconds=services.settings.claim_stale_seconds)
    with services.sessions() as session:
        return len(
            session.exec(
                select(Message.id).where(Message.status == "claimed", Message.claimed_at < cutoff)
            ).all()
        )


def _claimed_now(services) -> bool:
    with services.sessions() as session:
        return (
            session.exec(select(Message.id).where(Message.status == "claimed")).first() is not None
        )


def _busy_pids(services) -> set[int]:
    """Worker processes RQ reports as running a job (SimpleWorker: the job runs in them)."""
    from rq import Worker

    return {w.pid for w in Worker.all(connection=services.redis) if w.get_state() == "busy"}


def _pool(env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "jobs.worker", "--processes", str(WORKERS)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_sigkilled_workers_send_each_checkin_exactly_once(app, services, local_twilio, tmp_path):
    due_population(services, SIZE)
    result = tick.tick(services, limit=SIZE)  # its texts are queued as it commits
    assert result.created == SIZE

    settings = services.settings
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "REALIGN_INSTANCE_DIR": str(tmp_path / "worker"),
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_BASE_URL": local_twilio.base_url,
        "TWILIO_FROM_NUMBER": "+12015550100",
        "TWILIO_TIMEOUT": "1",
        "CLAIM_STALE_SECONDS": "6",  # sends may start until 3 s after a claim
        "SENDER_MPS": "0",
        "PUBLIC_BASE_URL": "http://127.0.0.1:9",  # callbacks go nowhere; harmless
        "LOG_LEVEL": "WARNING",
    }
    # Each API request takes 0.2 s, so kills land while requests are in flight.
    local_twilio.hang(0.2)
    rng = random.Random(7)
    stale_seen = 0
    pool = _pool(env)
    kills = 0
    deadline = time.monotonic() + 240
    last_sweep = 0.0
    try:
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(0.2, 0.5))
            assert pool.poll() is None, "the pool itself must outlive its members"
            # Only a member in the middle of a batch (busy in RQ while rows are claimed) is
            # killed: killing one still starting up (slow on a loaded machine) proves nothing.
            # (RQ lists a dead member until its registration lapses: only live ones count.)
            busy = _busy_pids(services) & children(pool.pid) if _claimed_now(services) else set()
            if busy and kills < 12:
                os.kill(min(busy), signal.SIGKILL)
                kills += 1
            if time.monotonic() - last_sweep > 1:
                stale_seen += _stale_claims(services)
                delivery.sweep(services)  # what the cron does every 30 s
                last_sweep = time.monotonic()
            with services.sessions() as session:
                open_rows = session.exec(
                    select(Message.id).where(
                        Message.direction == "out", Message.status.in_(("pending", "claimed"))
                    )
                ).all()
            if not open_rows and kills >= 5:
                break
        pool.send_signal(signal.SIGTERM)  # warm shutdown of every member, then the pool
        assert pool.wait(timeout=40) == 0
    finally:
        if pool.poll() is None:
            os.killpg(pool.pid, signal.SIGKILL)
            pool.wait()

    assert kills >= 5, "the run ended before enough workers were killed"
    assert stale_seen > 0, "no kill interrupted a send: the test proved nothing"
    received = Counter(m["to"] for m in local_twilio.messages())
    doubles = {to: n for to, n in received.items() if n > 1}
    assert doubles == {}
    assert len(received) == SIZE
    with services.sessions() as session:
        statuses = Counter(
            session.exec(select(Message.status).where(Message.direction == "out")).all()
        )
        assert set(statuses) <= {"queued", "sent", "delivered"}, statuses
        assert len(session.exec(select(CheckIn)).all()) == SIZE
