"""`python -m jobs.worker --processes N`: a pool of worker processes that outlives its
members. The Procfile's `worker:` runs one; these tests run a real one on its own Redis."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import redis
from rq import Worker
from rq.registry import FinishedJobRegistry

from service.infra.queue import Lane, RQDispatcher
from tests.support.processes import children, kill_all, process_env, start, tails, wait_for


def _members(pool) -> set[int]:
    return children(pool.pid)


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _registered(conn) -> set[int]:
    return {w.pid for w in Worker.all(connection=conn)}


def test_a_pool_runs_its_members_restarts_a_dead_one_and_stops_on_sigterm(
    settings, db, own_redis, tmp_path
):
    sock, _servers = own_redis
    conn = redis.Redis(unix_socket_path=str(sock), socket_timeout=5)
    log = tmp_path / "pool.log"
    pool = start("jobs.worker", process_env(settings, sock, tmp_path), log, "--processes", "3")
    try:
        wait_for("three workers", lambda: len(_registered(conn)) == 3, 40, [log])
        first = _members(pool)
        assert first == _registered(conn), "each member is a worker of its own"

        # Jobs on every lane are done by the pool.
        dispatcher = RQDispatcher(conn)
        for i in range(6):
            dispatcher.enqueue("sweep", job_id=f"pool-{i}")
        finished = FinishedJobRegistry(Lane.BULK.value, connection=conn)
        wait_for("six sweeps", lambda: finished.count >= 6, 40, [log])

        # A member killed outright (out of memory, say) is started again; the scheduler
        # process RQ forked from it (one member runs it) does not live on by itself.
        wait_for("a scheduler", lambda: any(children(m) for m in first), 20, [log])
        victim = next(m for m in sorted(first) if children(m))
        [scheduler] = children(victim)
        os.kill(victim, signal.SIGKILL)
        wait_for(
            "a member in the dead one's place",
            lambda: len(_members(pool)) == 3 and victim not in _members(pool),
            20,
            [log],
        )
        assert pool.poll() is None
        # (Waited for, not read at once: on a loaded machine the orphaned scheduler may
        # count as a member for a moment, before the pool has logged the restart.)
        restarted = "exited with -9: starting it again"
        wait_for("the restart logged", lambda: restarted in log.read_text(), 20, [log])
        wait_for("the orphaned scheduler to end", lambda: not alive(scheduler), 10, [log])

        # SIGTERM: every member stops (warm shutdown), then the pool, with no error.
        members = _members(pool)
        pool.send_signal(signal.SIGTERM)
        assert pool.wait(timeout=30) == 0, tails([log])
        time.sleep(0.2)
        assert not [p for p in members if Path(f"/proc/{p}").exists()]
    finally:
        kill_all([pool])


def test_a_burst_pool_ends_when_its_queues_are_empty(settings, db, own_redis, tmp_path):
    sock, _servers = own_redis
    log = tmp_path / "pool.log"
    conn = redis.Redis(unix_socket_path=str(sock), socket_timeout=5)
    RQDispatcher(conn).enqueue("sweep", job_id="burst-1")
    env = process_env(settings, sock, tmp_path)
    pool = start("jobs.worker", env, log, "--processes", "2", "--burst")
    try:
        assert pool.wait(timeout=60) == 0, tails([log])
        assert FinishedJobRegistry(Lane.BULK.value, connection=conn).count == 1
        assert "starting it again" not in log.read_text()
    finally:
        kill_all([pool])
