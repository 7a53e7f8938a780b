"""At most one delivery of each webhook event, while workers are SIGKILLed mid-delivery.

A real worker pool (`python -m jobs.worker --processes 2`, as the Procfile runs it) sends
events to a real local receiver that holds each request; the test SIGKILLs the process
running the job (RQ's SimpleWorker runs it in the pool member itself; its scheduler child
follows it through PR_SET_PDEATHSIG) while the receiver holds the request, and at the end
the whole process group at once (what a platform's hard stop does). The sweeper (what the
cron runs) then finds the dead tries. Each event must have reached the receiver exactly
once; the ones whose request may have left are "unknown" in the delivery log.

A member killed while it had only claimed a delivery (before its request could leave)
leaves it to the sweep, which has it sent: the waits below sweep as the cron does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from service.core.enums import WebhookEvent
from service.models import Facilitator, Participant, WebhookDelivery
from service.program import webhooks
from service.unit_of_work import UnitOfWork
from tests.support.factories import ANA, make_participant, make_program
from tests.support.processes import children

WORKERS = 2
STALE_SECONDS = 3  # WEBHOOK_CLAIM_STALE_SECONDS for the workers and the test's sweeps
ROOT = Path(__file__).resolve().parents[2]


class HoldingReceiver:
    """A local HTTP receiver that records each event as soon as its body is read (it is
    then handled, whatever happens to the answer), and answers only when released."""

    def __init__(self):
        self.handled: Counter[str] = Counter()
        self.held: list[threading.Event] = []
        self.holding = True
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def do_POST(self):  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers["Content-Length"]))
                release = threading.Event()
                with receiver.lock:
                    receiver.handled[self.headers["Realign-Delivery"]] += 1
                    if receiver.holding:
                        receiver.held.append(release)
                    else:
                        release.set()
                release.wait(30)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def waiting(self) -> int:
        with self.lock:
            return sum(not e.is_set() for e in self.held)

    def release_all(self, *, hold_more=True):
        with self.lock:
            self.holding = hold_more
            for e in self.held:
                e.set()

    def close(self):
        self.release_all(hold_more=False)
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def clock():
    # Real time: the worker processes use the machine's clock.
    return lambda: datetime.now(UTC)


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"webhook_claim_stale_seconds": STALE_SECONDS})


@pytest.fixture
def receiver():
    r = HoldingReceiver()
    yield r
    r.close()


@pytest.fixture
def world(services, receiver):
    """An endpoint that wants enrolments, and a participant the events are about."""
    program = make_program(services)
    with services.sessions() as s:
        owner = s.get(Facilitator, program.owner_id)
        endpoint = webhooks.register(s, owner, receiver.url, ["participant.enrolled"],
                                     now=services.now(), allow_local=True)  # fmt: skip
        s.commit()
        endpoint_id = endpoint.id
    participant = make_participant(services, program, phone=ANA)
    return endpoint_id, participant.id


def emit(services, participant_id, n) -> None:
    """`n` events, each its own delivery; their jobs are queued as it commits."""
    with UnitOfWork(services) as uow:
        p = uow.session.get(Participant, participant_id)
        for _ in range(n):
            webhooks.emit(uow, WebhookEvent.PARTICIPANT_ENROLLED, p)
        uow.commit()


def rows(services) -> list[WebhookDelivery]:
    with services.sessions() as s:
        return list(s.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)))


def busy_members(services, pool) -> set[int]:
    """Pool members RQ reports as running a job (SimpleWorker: the job runs in them)."""
    from rq import Worker

    busy = {w.pid for w in Worker.all(connection=services.redis) if w.get_state() == "busy"}
    return busy & children(pool.pid)


def start_pool(services, tmp_path) -> subprocess.Popen:
    settings = services.settings
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "REALIGN_INSTANCE_DIR": str(tmp_path / "worker"),
        "WEBHOOK_CLAIM_STALE_SECONDS": str(STALE_SECONDS),
        "PUBLIC_BASE_URL": "http://127.0.0.1:9",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "jobs.worker", "--processes", str(WORKERS)],
        cwd=ROOT,
        env=env,
        stdout=(tmp_path / "worker.log").open("a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(pool, *, hard=False) -> None:
    if pool.poll() is None:
        if hard:
            os.killpg(pool.pid, signal.SIGKILL)
        else:
            pool.send_signal(signal.SIGTERM)
        try:
            pool.wait(timeout=40)
        finally:
            if pool.poll() is None:
                os.killpg(pool.pid, signal.SIGKILL)
                pool.wait()


def until(what, check, services, timeout=90.0, sweep=True):
    """Wait for `check()`, sweeping every second as the cron does."""
    deadline, last_sweep = time.monotonic() + timeout, 0.0
    while not check():
        assert time.monotonic() < deadline, (
            f"timed out waiting for {what}",
            [(r.id, r.status, r.claimed_at, r.sending_at, r.attempts) for r in rows(services)],
        )
        if sweep and time.monotonic() - last_sweep > 1:
            webhooks.sweep(services)
            last_sweep = time.monotonic()
        time.sleep(0.05)


def test_workers_sigkilled_while_the_receiver_holds_the_request_deliver_each_event_once(
    services, world, receiver, tmp_path
):
    endpoint_id, participant_id = world
    emit(services, participant_id, 4)
    events = len(rows(services))  # (with the participant's own enrolment)
    pool = start_pool(services, tmp_path)
    kills = 0
    try:
        # Each round: the receiver holds requests; SIGKILL the member(s) that sent them.
        while sum(receiver.handled.values()) < events:
            # (A member killed while it was only claiming leaves its delivery to the sweep.)
            until("a held request", lambda: receiver.waiting() > 0, services)
            time.sleep(0.2)  # the other member may be sending too
            busy = busy_members(services, pool)
            assert busy, "a request is held but no member is busy"
            if sum(receiver.handled.values()) >= events - 1:
                os.killpg(pool.pid, signal.SIGKILL)  # the last: the whole dyno at once
                pool.wait()
                kills += len(busy)
            else:
                for pid in busy:
                    os.kill(pid, signal.SIGKILL)
                kills += len(busy)
            receiver.release_all()  # its answer goes to a dead socket
            if pool.poll() is not None and sum(receiver.handled.values()) < events:
                pool = start_pool(services, tmp_path)  # workers start again
        stop(pool, hard=True)
        receiver.release_all(hold_more=False)
        # The sweeps (what the cron runs) find every dead try once its claim is stale.
        pool = start_pool(services, tmp_path)
        until(
            "every delivery settled",
            lambda: all(r.status != "pending" for r in rows(services)),
            services,
        )
        time.sleep(STALE_SECONDS + 1)  # nothing more goes out later, by itself either
        webhooks.sweep(services)
        time.sleep(1)
    finally:
        stop(pool, hard=True)

    assert kills >= events
    found = rows(services)
    assert len(found) == events
    assert receiver.handled == Counter({r.event_id: 1 for r in found})  # each exactly once
    assert {r.status for r in found} == {"unknown"}
    assert all(r.last_error == webhooks.UNSURE for r in found)
