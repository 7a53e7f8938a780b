"""A pool of worker processes: `python -m jobs.worker --processes N`.

Each member is a whole `python -m jobs.worker` process of its own (its own database pool,
Twilio client and Redis-outage handling), started fresh rather than forked from here, so
nothing this process built is shared. RQ's own `worker-pool` forks members that run RQ's
plain work loop; ours keep the loop in jobs/worker.py that outlives Redis errors.

A member that dies (killed, out of memory, an unhandled crash) is started again after a
backoff; the jobs it held are found again by RQ's maintenance and the sweeps. SIGTERM or
SIGINT to the pool is passed on to every member (RQ's warm shutdown: each finishes its
job), and the pool ends when they have. In burst mode a member that ends by itself (its
queues empty) is not started again, and the pool ends when all have.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time

from jobs.backoff import Backoff

log = logging.getLogger("jobs.pool")

# A member still running this long after the pool passed on SIGTERM gets SIGKILL: RQ's
# warm shutdown waits for the job in hand, and a platform kills the whole dyno at 30 s.
STOP_GRACE_S = 25.0


class Pool:
    def __init__(self, size: int, member_args: list[str]):
        self.size = size
        self.argv = [sys.executable, "-m", "jobs.worker", "--processes", "1", *member_args]
        self.burst = "--burst" in member_args
        # Per member: one that keeps dying at start (a bad setting) is started again ever
        # more slowly; one that ran for a while is started again after half a second.
        self.backoff = [Backoff(first=0.5, cap=30.0, settle=10.0) for _ in range(size)]
        self.members: list[tuple[subprocess.Popen, float] | None] = [None] * size
        self.stopping = False

    def _start(self, slot: int) -> None:
        proc = subprocess.Popen(self.argv)
        self.members[slot] = (proc, time.monotonic())
        log.info("worker %d started (pid %d)", slot + 1, proc.pid)

    def _stop(self, signum, frame) -> None:
        if not self.stopping:
            log.info("stopping %d workers", sum(m is not None for m in self.members))
        self.stopping = True
        for member in self.members:
            if member is not None and member[0].poll() is None:
                member[0].send_signal(signal.SIGTERM)

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        for slot in range(self.size):
            self._start(slot)
        restart_at: dict[int, float] = {}
        stop_deadline = None
        while True:
            for slot, member in enumerate(self.members):
                if member is None or member[0].poll() is None:
                    continue
                proc, started = member
                self.members[slot] = None
                if self.stopping or (self.burst and proc.returncode == 0):
                    continue
                delay = self.backoff[slot].next(time.monotonic() - started)
                log.warning(
                    "worker %d (pid %d) exited with %s: starting it again in %.1f s",
                    slot + 1, proc.pid, proc.returncode, delay,
                )  # fmt: skip
                restart_at[slot] = time.monotonic() + delay
            if self.stopping:
                restart_at.clear()
                stop_deadline = stop_deadline or time.monotonic() + STOP_GRACE_S
                if time.monotonic() > stop_deadline:
                    for member in self.members:
                        if member is not None and member[0].poll() is None:
                            member[0].kill()
            for slot, when in list(restart_at.items()):
                if time.monotonic() >= when:
                    del restart_at[slot]
                    self._start(slot)
            if all(m is None for m in self.members) and not restart_at:
                return 0
            time.sleep(0.1)
