"""Dispatching 10,000 due check-ins to the local Twilio API, against the raw client.

The real path: 10,000 participants in step 5 fall due at once; `tick.tick` writes their
check-ins and outbox rows (timed separately); the send jobs queue them as RQ
`send_messages` jobs of 100; W real RQ worker processes (`python -m jobs.worker`) send them
with `deliver_many` (atomic claim per row, pooled twilio client, C threads each).
The dispatch rate is 10,000 / (time from enqueue until no row is pending or claimed).

The baseline: the raw twilio client (`TwilioGateway.send_message`, no database, no queue)
from a ThreadPoolExecutor of W x C threads, the same requests (To, From, Body,
StatusCallback) to the same local API, measured half before and half after the dispatch.

The local API runs in its own process; its status callbacks are parked (never fire).
The per-sender MPS cap is off (SENDER_MPS=0): this measures raw capacity, and the cap's
own cost is one Redis round trip per send. Afterwards the API's record must show exactly
one message per due check-in. Targets: ratio >= 0.5 and rate >= 300 messages/s.

BENCH_WORKERS (default 2) and BENCH_CONCURRENCY (threads per worker, default 8) change W, C;
BENCH_PROFILE=1 runs the workers under bench/_sampler.py and prints where their time went;
BENCH_WORKER_SCRIPT=path runs that script as the worker instead (to measure a change before
making it); BENCH_DISPATCH_N overrides the 10,000.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import _common as c
import requests
import sqlalchemy as sa

RAW_PREFIX = 5_000_000  # raw sends go to other numbers than the participants'


def raw_rate(gateway, body: str, start: int, count: int, threads: int, callback: str):
    """Messages/s of the bare client: `count` sends from `threads` threads."""

    def send(i: int):
        return gateway.send_message(
            to=c.phone(RAW_PREFIX + start + i), body=body, from_=c.SENDER, status_callback=callback
        )

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(send, range(-threads, 0)))  # warm the connection pool, not counted
        began = time.perf_counter()
        results = list(pool.map(send, range(count)))
        seconds = time.perf_counter() - began
    assert all(r.sid.startswith("SM") for r in results)
    return count, seconds


def wait_until_sent(engine, timeout: float, left: int = 0) -> None:
    """Poll until no more than `left` outbox rows are pending or claimed."""
    query = sa.text(
        "SELECT count(*) FROM message WHERE direction = 'out' AND status IN ('pending', 'claimed')"
    )
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as conn:
            if conn.execute(query).scalar_one() <= left:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the outbox was not sent within {timeout:.0f} s")
        time.sleep(0.02 if c.SMOKE else 0.1)


def main() -> None:
    from rq import Worker

    from service.app import build_services
    from service.infra.queue import NullDispatcher
    from service.infra.twilio_gateway import TwilioGateway
    from service.program import tick
    from service.unit_of_work import send_jobs

    n = int(os.environ.get("BENCH_DISPATCH_N") or c.size(10_000, 200))
    workers = int(os.environ.get("BENCH_WORKERS", "2"))
    per_worker = int(os.environ.get("BENCH_CONCURRENCY", "8"))
    threads = workers * per_worker
    with c.backend() as be:
        c.log(f"dispatch benchmark: {be.describe()}")
        procs: list[c.Proc] = []
        try:
            api, api_url = c.start_localtwilio(be, be.tmp)
            procs.append(api)
            settings = c.settings_for(
                be,
                twilio_account_sid=c.ACCOUNT_SID,
                twilio_auth_token=c.AUTH_TOKEN,
                twilio_api_base_url=api_url,
                sender_mps=0,
                send_concurrency=per_worker,
            )
            services = build_services(settings)
            env = c.env_for(
                be,
                TWILIO_ACCOUNT_SID=c.ACCOUNT_SID,
                TWILIO_AUTH_TOKEN=c.AUTH_TOKEN,
                TWILIO_API_BASE_URL=api_url,
                SENDER_MPS="0",
                SEND_CONCURRENCY=str(per_worker),
                PUBLIC_BASE_URL=settings.public_base_url,
                LOG_LEVEL="WARNING",
            )
            argv = [sys.executable, "-m", "jobs.worker"]
            if os.environ.get("BENCH_PROFILE"):
                argv = [sys.executable, str(c.ROOT / "bench" / "_sampler.py"), "-m", "jobs.worker"]
            if os.environ.get("BENCH_WORKER_SCRIPT"):  # try a patched worker; see the docstring
                argv = [sys.executable, os.environ["BENCH_WORKER_SCRIPT"]]
            # Started now so their imports overlap the set-up; idle until the warm-up.
            for i in range(workers):
                procs.append(c.Proc(f"worker{i}", argv, env, be.tmp))
            # Whatever the hour: every text is inside waking hours in this program.
            program = c.make_program(
                services, timezone="UTC", quiet_start="00:00", quiet_end="23:59", options={}
            )
            now = datetime.now(UTC)
            due_at = now - timedelta(seconds=30)
            warm = workers * per_worker  # one send per worker thread before the clock starts
            total = n + warm
            seconds = c.load_step5(
                services.engine, program.id, range(1, total + 1), lambda _pid: due_at, now=now
            )
            c.log(f"loaded {total:,} participants in step 5, all due, in {seconds:.1f} s")

            began = time.perf_counter()
            # The tick's own commit would queue the sends at once: here they wait for the clock.
            quiet = dataclasses.replace(services, dispatcher=NullDispatcher())
            result = tick.tick(quiet, limit=total)
            tick_s = time.perf_counter() - began
            messages = [m for m in result.messages if m is not None]
            assert result.created == total and len(messages) == total, result
            c.log(f"tick wrote {total:,} check-ins and their texts in {tick_s:.1f} s")
            warmup, messages = messages[:warm], messages[warm:]
            body = messages[0].body
            callback = settings.public_base_url + "/twilio/sms/status"

            gateway = TwilioGateway(
                c.ACCOUNT_SID, c.AUTH_TOKEN, api_base_url=api_url, timeout=10, pool_size=threads
            )
            half = n // 2
            raw_sent, raw_seconds = raw_rate(gateway, body, 0, half, threads, callback)
            c.log(f"raw client, {threads} threads: {raw_sent / raw_seconds:.0f} msgs/s (before)")
            requests.post(api_url + "/_control/reset", timeout=10).raise_for_status()

            deadline = time.monotonic() + 60
            while len(Worker.all(connection=services.redis)) < workers:
                for proc in procs:
                    if not proc.alive():
                        raise RuntimeError(f"{proc.name} exited early:\n{proc.tail()}")
                if time.monotonic() > deadline:
                    raise RuntimeError("RQ workers did not start")
                time.sleep(0.1)
            # Each worker builds its services, database pool and HTTP pool on its first job:
            # one job of `per_worker` texts each, not counted.
            for start in range(0, warm, per_worker):
                ids = [m.id for m in warmup[start : start + per_worker]]
                services.dispatcher.enqueue("send_messages", ids)
            wait_until_sent(services.engine, 60, left=n)
            time.sleep(0.5)

            began = time.perf_counter()
            for job in send_jobs(messages, services.now()):
                services.dispatcher.enqueue(job.task, *job.args, at=job.at, job_id=job.job_id)
            wait_until_sent(services.engine, max(120, n / 20))
            dispatch_seconds = time.perf_counter() - began
            rate = n / dispatch_seconds
            c.log(f"dispatch, {workers} workers x {per_worker} threads: {rate:.0f} msgs/s")

            sent_b, seconds_b = raw_rate(gateway, body, half, n - half, threads, callback)
            c.log(f"raw client, {threads} threads: {sent_b / seconds_b:.0f} msgs/s (after)")
            raw = (raw_sent + sent_b) / (raw_seconds + seconds_b)

            for proc in procs[1:]:
                proc.stop()
                if os.environ.get("BENCH_PROFILE"):
                    c.log(f"--- {proc.name} profile:\n{proc.tail(120)}")
            received = requests.get(api_url + "/_control/messages", timeout=30).json()
            verify(services, received, total)
            services.engine.dispose()
        finally:
            for proc in reversed(procs):
                proc.stop()

    c.log(
        f"dispatch {rate:.0f} msgs/s vs raw client {raw:.0f} msgs/s at {threads} in flight: "
        f"ratio {rate / raw:.2f} (targets: ratio >= 0.5, rate >= 300)"
    )
    c.bench_line(
        "dispatch",
        ratio=rate / raw,
        rate=rate,
        raw_rate=raw,
        n=n,
        concurrency=threads,
        workers=workers,
        threads_per_worker=per_worker,
        tick_s=tick_s,
        db=be.database,
    )


def verify(services, received: list[dict], n: int) -> None:
    """The API got exactly one message per due check-in, and the outbox agrees."""
    expected = {c.phone(pid) for pid in range(1, n + 1)}
    to_participants = Counter(m["to"] for m in received if m["to"] in expected)
    twice = [to for to, k in to_participants.items() if k > 1]
    missing = expected - set(to_participants)
    assert not twice, f"{len(twice)} participants got their check-in more than once"
    assert not missing, f"{len(missing)} participants got no check-in"
    with services.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT status, count(*), count(DISTINCT twilio_sid) FROM message "
                "WHERE direction = 'out' GROUP BY status"
            )
        ).all()
    by_status = {status: (count, sids) for status, count, sids in rows}
    sent = sum(count for status, (count, _) in by_status.items() if status not in ("pending",))
    assert sent == n and all(count == sids for count, sids in by_status.values()), by_status
    c.log(f"verified: the local API received exactly {n:,} check-ins, none twice ({by_status})")


if __name__ == "__main__":
    main()
