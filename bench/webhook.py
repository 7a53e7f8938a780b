"""The inbound SMS webhook under gunicorn, against a bare Flask INSERT on the same setup.

Two gunicorn servers run side by side with the same settings (gthread, 2 workers x 4
threads, keep-alive, --preload, no access log), on the same database:
- the real app: `POST /twilio/sms` signed like Twilio (validated against PUBLIC_BASE_URL),
  from 5,000 enrolled, consented participants with an open step-1 prompt, each post a new
  MessageSid: the text is stored and its conversation turn queued on RQ (no worker runs
  during the measurement, as in production they run elsewhere);
- the baseline (`bench/_apps.py:bare`): the same requests to a Flask endpoint doing one
  INSERT.

Load comes from this process over keep-alive connections (raw HTTP/1.1, prepared requests):
- closed loop, 16 connections, for the maximum rate; the servers take turns in rounds so a
  busy moment on the machine hits both alike. ratio = webhook rps / baseline rps (>= 0.5);
- open loop at a fixed 100 requests/s for 10 s: p50/p99 latency, measured from each
  request's scheduled start (so a stall counts for everything queued behind it). p99 < 50 ms.

Afterwards: every 200 was stored once, one turn job was queued for them all, and a sample
of the waiting texts is turned to show they are real conversation turns (their prompts answered).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys

import _common as c
import sqlalchemy as sa
from _apps import metadata

RATE = 100.0
WORKERS, THREADS = 2, 4
BODIES = (
    "We agreed to ship on Friday and I moved the date without telling anyone.",
    "Frustrated, and a bit ashamed. I think she felt ignored.",
    "Yes, it happened last spring too, with the budget.",
    "I see how my silence made you carry the whole launch alone.",
    "ok 👍",
    "Honestly I don't know yet — can we talk tomorrow?",
)


class Requests:
    """Signed, distinct webhook posts, pre-encoded as HTTP/1.1 requests."""

    def __init__(self, port: int, public_base: str, participants: int):
        from twilio.request_validator import RequestValidator

        self.port = port
        self.url = public_base + "/twilio/sms"
        self.validator = RequestValidator(c.AUTH_TOKEN)
        self.participants = participants
        self.counter = itertools.count()

    def make(self) -> bytes:
        i = next(self.counter)
        sender = c.phone(1 + i % self.participants)
        return c.signed_sms_request(
            self.validator, self.url, self.port, sender, BODIES[i % len(BODIES)]
        )

    def batch(self, count: int) -> list[bytes]:
        return [self.make() for _ in range(count)]


class Conn:
    """One keep-alive HTTP/1.1 connection that sends prepared requests."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Conn:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


class Server:
    """One gunicorn serving one of the apps, and what the load generator saw of it."""

    def __init__(self, label: str, app: str, port: int, proc: c.Proc, reqs: Requests):
        self.label, self.app, self.port, self.proc, self.reqs = label, app, port, proc, reqs
        self.ok = 0
        self.errors: dict = {}
        self.closed_done = 0
        self.closed_seconds = 0.0
        self.open_latencies: list[float] = []

    def record(self, status) -> None:
        if status == 200:
            self.ok += 1
        else:
            self.errors[status] = self.errors.get(status, 0) + 1

    async def closed_loop(self, seconds: float, connections: int, warmup: float = 0.0) -> float:
        """Keep `connections` requests in flight; returns completions per second."""
        loop = asyncio.get_running_loop()
        pool = self.reqs.batch(int(2500 * (seconds + warmup)))
        start = loop.time() + warmup
        end = start + seconds
        done = 0

        async def client() -> None:
            nonlocal done
            conn = await Conn.open(self.port)
            try:
                for sent in itertools.count(1):
                    if loop.time() >= end:
                        break
                    request = pool.pop() if pool else self.reqs.make()
                    status = await self._send(conn, request)
                    # A new connection when one broke, and every 50 requests: the kernel
                    # then spreads connections over both gunicorn workers evenly on average.
                    if isinstance(status, str) or sent % 50 == 0:
                        conn.close()
                        conn = await Conn.open(self.port)
                    self.record(status)
                    now = loop.time()
                    if start <= now <= end:
                        done += 1
            finally:
                conn.close()

        await asyncio.gather(*(client() for _ in range(connections)))
        if seconds > 0:
            self.closed_done += done
            self.closed_seconds += seconds
        return done / seconds if seconds > 0 else 0.0

    async def open_loop(self, rate: float, seconds: float) -> None:
        """Requests at fixed instants whatever the answers (new connections when all busy)."""
        loop = asyncio.get_running_loop()
        count = int(rate * seconds)
        requests = self.reqs.batch(count)
        idle = [await Conn.open(self.port) for _ in range(8)]
        start = loop.time() + 0.2

        async def one(i: int) -> None:
            scheduled = start + i / rate
            await asyncio.sleep(max(0.0, scheduled - loop.time()))
            conn = idle.pop() if idle else await Conn.open(self.port)
            status = await self._send(conn, requests[i])
            self.open_latencies.append(loop.time() - scheduled)
            self.record(status)
            if isinstance(status, int):
                idle.append(conn)

        await asyncio.gather(*(one(i) for i in range(count)))
        for conn in idle:
            conn.close()

    @staticmethod
    async def _send(conn: Conn, request: bytes):
        try:
            return await conn.send(request)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            conn.close()
            return type(exc).__name__  # counted as an error, never retried

    def ready(self) -> None:
        c.wait_for_port(self.port, self.proc, timeout=120)

    @property
    def rps(self) -> float:
        return self.closed_done / self.closed_seconds

    def latency_ms(self, pct: float) -> float:
        return c.percentile(self.open_latencies, pct) * 1000


def start_server(be: c.Backend, label: str, app: str, participants: int, extra_env) -> Server:
    """Start gunicorn (not waiting for it: see `Server.ready`)."""
    port = c.free_port()
    public = f"http://127.0.0.1:{port}"
    env = c.env_for(be, PUBLIC_BASE_URL=public, **extra_env)
    # bench/ after the checkout on the path (not gunicorn's --pythonpath, which puts it
    # first): bench/admin.py must not hide the project's `admin` package.
    env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], str(c.ROOT / "bench")])
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--threads",
        str(THREADS),
        "--worker-class",
        "gthread",
        "--keep-alive",
        "30",
        # Loaded once before the workers fork (neither app connects anywhere at start-up),
        # so both workers serve as soon as the port is open.
        "--preload",
        "--no-control-socket",
        "--log-level",
        "warning",
        f"_apps:{app}()",
    ]
    proc = c.Proc(f"gunicorn-{label}", argv, env, be.tmp)
    return Server(label, app, port, proc, Requests(port, public, participants))


def seed(be: c.Backend, participants: int) -> None:
    """Enrolled, consented participants in step 1 whose first prompt is open."""
    from datetime import UTC, datetime, timedelta

    from service.app import build_services

    services = build_services(c.settings_for(be), queue=False)
    program = c.make_program(services, timezone="America/New_York")
    now = datetime.now(UTC)
    consented = now - timedelta(days=1)
    rows = (
        (pid, program.id, f"Participant {pid}", c.phone(pid), "America/New_York", "en",
         "active", 1, "step1_what_happened", consented, False, None, 0, consented,
         consented)
        for pid in range(1, participants + 1)
    )  # fmt: skip
    c.bulk_insert(services.engine, "participant", c.PARTICIPANT_COLUMNS, rows)
    metadata.create_all(services.engine)
    c.analyze(services.engine)
    services.engine.dispose()


def check_stored(be: c.Backend, webhook: Server, sample: int) -> dict:
    """Every 200 stored once, one turn job queued; a sample of the texts turned for real."""
    import redis
    from rq import Queue
    from sqlmodel import select

    from service.app import build_services
    from service.infra.gateway import ConsoleGateway
    from service.models import Message
    from service.program import conversation

    services = build_services(c.settings_for(be), gateway=ConsoleGateway(), queue=False)
    with services.sessions() as session:
        stored = session.exec(
            select(sa.func.count()).select_from(Message).where(Message.direction == "in")
        ).one()
    queue = Queue("turns", connection=redis.Redis.from_url(be.redis_url))
    queued = queue.count
    assert stored == webhook.ok, f"{webhook.ok} posts answered 200 but {stored} stored"
    # One job takes every text waiting, so (nothing ran them) only a few were queued: one,
    # and another each time the nudge expired (a minute) while it waited.
    assert 1 <= queued <= max(1, stored // 100), f"{stored} stored, {queued} turn jobs queued"
    assert {j.func_name for j in queue.get_jobs()} == {"jobs.tasks.turn_inbound"}
    outcomes = conversation.turn_waiting(services, limit=sample, budget_s=600)
    assert set(outcomes) <= {"answer", "note"}, outcomes
    services.engine.dispose()
    return {"stored": stored, "queued": queued, "sample": outcomes}


async def measure(servers: list[Server], rounds: int, seconds: float, open_s: float) -> None:
    for server in servers:  # connections, pools and lazy imports: not counted
        await server.closed_loop(0, 16, warmup=1.0 if not c.SMOKE else 0.3)
    for r in range(rounds):
        for server in servers:
            rps = await server.closed_loop(seconds, 16, warmup=0.5)
            c.log(f"  round {r + 1}, {server.label}: {rps:.0f} requests/s (closed loop, 16)")
    for server in servers:
        await server.open_loop(RATE, open_s)
        c.log(
            f"  {server.label} at {RATE:.0f}/s for {open_s:.0f} s: "
            f"p50 {server.latency_ms(50):.1f} ms, p99 {server.latency_ms(99):.1f} ms"
        )


def main() -> None:
    participants = c.size(5_000, 100)
    rounds = c.size(3, 1)
    seconds = c.size(5.0, 1.0)
    open_s = c.size(10.0, 1.0)
    with c.backend() as be:
        c.log(f"webhook benchmark: {be.describe()}")
        seed(be, participants)
        c.log(f"enrolled {participants:,} consented participants with an open prompt")
        env = {
            "TWILIO_ACCOUNT_SID": c.ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": c.AUTH_TOKEN,
            # Nothing is sent during the run; were it, it would go nowhere real.
            "TWILIO_API_BASE_URL": "http://127.0.0.1:9",
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "INFO"),
        }
        servers: list[Server] = []
        try:
            servers.append(start_server(be, "baseline", "bare", participants, env))
            servers.append(start_server(be, "webhook", "realign", participants, env))
            for server in servers:  # both start at once
                server.ready()
            c.log(f"gunicorn gthread, {WORKERS} workers x {THREADS} threads each, keep-alive")
            asyncio.run(measure(servers, rounds, seconds, open_s))
        finally:
            for server in servers:
                server.proc.stop()
        for server in servers:
            if server.errors:
                c.log(f"{server.label} errors: {server.errors}\n{server.proc.tail()}")
        baseline, webhook = servers
        assert not baseline.errors and not webhook.errors, "requests failed"
        checked = check_stored(be, webhook, c.size(50, 3))
        c.log(
            f"verified: {checked['stored']:,} texts stored once, {checked['queued']} turn "
            f"job(s) queued for them; sample turned: {checked['sample']}"
        )

    ratio = webhook.rps / baseline.rps
    c.log(
        f"webhook {webhook.rps:.0f} requests/s vs bare INSERT {baseline.rps:.0f}/s: ratio "
        f"{ratio:.2f} (target >= 0.5); at {RATE:.0f}/s p50 {webhook.latency_ms(50):.1f} ms, "
        f"p99 {webhook.latency_ms(99):.1f} ms (target < 50)"
    )
    c.bench_line(
        "webhook",
        ratio=ratio,
        rps=webhook.rps,
        p50_ms=webhook.latency_ms(50),
        p99_ms=webhook.latency_ms(99),
        baseline_rps=baseline.rps,
        baseline_p50_ms=baseline.latency_ms(50),
        baseline_p99_ms=baseline.latency_ms(99),
        rate=RATE,
        db=be.database,
    )


if __name__ == "__main__":
    main()
