"""Run an RQ worker (with the scheduler, for retries and timed sends) on the configured Redis.

A Redis error (a restart, a failover, a dropped connection, a failed heartbeat) never ends
the process: the worker logs one warning, waits (0.5 s, doubling to 30 s; back to 0.5 s once
a worker has run for a minute) and carries on with a fresh worker under a new name. The
scheduler process it runs retries the same way. SIGTERM/SIGINT still stop it (RQ's warm
shutdown), and --burst still stops when the queue is empty.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import time
import uuid

import redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker, Worker
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.exceptions import StopRequested
from rq.scheduler import RQScheduler

from jobs.backoff import Backoff
from service.config import load_settings
from service.infra.logs import install_redaction
from service.infra.queue import LANES

log = logging.getLogger("jobs.worker")  # (run as `python -m`, __name__ is "__main__")


class Stopped(Exception):
    """SIGTERM or SIGINT arrived while RQ's own handlers were not installed."""


def stop_on_signals() -> None:
    """Until RQ installs its handlers again, SIGTERM and SIGINT raise `Stopped`."""

    def stop(signum, frame):
        raise Stopped(signal.Signals(signum).name)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)


class RedisLost(SystemExit):
    """A Redis error inside RQ's work loop. RQ's loop logs any other exception with its
    traceback and returns as if done; a SystemExit it re-raises once it has torn down."""


@contextlib.contextmanager
def _redis_lost():
    try:
        yield
    except RedisError as exc:
        raise RedisLost(exc) from exc


def die_with_parent(parent_pid: int) -> None:
    """This (forked) process gets SIGTERM when `parent_pid`, which forked it, dies.

    RQ forks the scheduler from its worker and stops it from the worker's teardown, so a
    worker killed outright (SIGKILL, the OOM killer) leaves it running on its own, still
    moving scheduled jobs, for good; in a pool, one more such orphan with every kill.
    """
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG (Linux)
        # The parent may have died before the line above. (Compared with its pid, not with
        # 1: in a container the worker itself may be pid 1.)
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGTERM)


class _Scheduler(RQScheduler):
    """RQ's scheduler process, retrying on Redis errors instead of dying with a traceback."""

    worker_pid: int | None = None  # the worker that forks it (set before the fork)

    def work(self):
        if self.worker_pid is not None:
            die_with_parent(self.worker_pid)
        backoff = Backoff()
        while True:
            started = time.monotonic()
            try:
                return super().work()
            except RedisError as exc:
                if self._stop_requested:  # stopping while Redis is down: its locks expire
                    return None
                delay = backoff.next(time.monotonic() - started)
                log.warning("Redis unavailable (%s): scheduler retrying in %.1f s", exc, delay)
                deadline = time.monotonic() + delay
                while not self._stop_requested and time.monotonic() < deadline:
                    time.sleep(0.1)


class _Resilient:
    """Mixed into RQ's worker classes: every Redis error in the work loop (heartbeats
    included) ends `work()` as `RedisLost`, teardown survives a Redis that is gone, and the
    scheduler is a `_Scheduler` whose name (so its lock) is kept across fresh workers."""

    scheduler_name: str | None = None
    stopping = False  # a stop signal arrived
    torn_down = False
    death_pending = False  # its death could not be registered: do it when Redis is back

    def request_stop(self, signum, frame):
        self.stopping = True
        super().request_stop(signum, frame)

    def check_for_suspension(self, burst):
        with _redis_lost():
            return super().check_for_suspension(burst)

    def run_maintenance_tasks(self):
        with _redis_lost():
            return super().run_maintenance_tasks()

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        with _redis_lost():
            return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)

    def execute_job(self, job, queue):
        with _redis_lost():
            return super().execute_job(job, queue)

    def heartbeat(self, timeout=None, pipeline=None):
        if pipeline is not None:  # queued on a pipeline: nothing is sent yet
            return super().heartbeat(timeout, pipeline)
        with _redis_lost():
            return super().heartbeat(timeout)

    def _start_scheduler(
        self,
        burst: bool = False,
        logging_level: str | None = "INFO",
        date_format: str = DEFAULT_LOGGING_DATE_FORMAT,
        log_format: str = DEFAULT_LOGGING_FORMAT,
    ):
        # RQ's own, with `_Scheduler` and a kept name: a fresh worker's scheduler then
        # refreshes the queue's scheduler lock its predecessor may still hold after a blip.
        self.scheduler = _Scheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format,
            log_format=log_format,
            serializer=self.serializer,
            name=self.scheduler_name,
        )
        self.scheduler.worker_pid = os.getpid()
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()

    def teardown(self):
        if self.torn_down or self.is_horse:
            return
        self.torn_down = True
        if self.scheduler:
            self.stop_scheduler()  # a signal and a join: no Redis
        if self.birth_date is not None:
            try:
                self.register_death()
            except RedisError:
                self.death_pending = True
        self.unsubscribe()

    def unsubscribe(self):
        if not self.pubsub_thread:
            return
        self.pubsub_thread.stop()  # its loop ends after the wait it is in
        with contextlib.suppress(RedisError):
            self.pubsub.unsubscribe()
        self.pubsub_thread.join(timeout=1)
        with contextlib.suppress(RedisError):
            self.pubsub.close()
        self.pubsub_thread = None


class ResilientSimpleWorker(_Resilient, SimpleWorker):
    pass


class ResilientWorker(_Resilient, Worker):
    pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    parser.add_argument("--fork", action="store_true", help="fork a child process per job")
    parser.add_argument(
        "--processes",
        type=int,
        help="worker processes to run (a pool, see jobs/pool.py); default WORKER_PROCESSES",
    )
    args = parser.parse_args(argv)
    settings = load_settings()
    install_redaction(settings.log_level)
    processes = args.processes or settings.worker_processes
    if processes > 1:
        from jobs.pool import Pool  # (it runs members of this module)

        member_args = [flag for flag, on in (("--burst", args.burst), ("--fork", args.fork)) if on]
        raise SystemExit(Pool(processes, member_args).run())
    connection = redis.Redis.from_url(settings.effective_redis_url)
    # Jobs run in the worker process by default: its database pool and Twilio client are
    # then reused across jobs (a fork per job rebuilds them; ~4x slower, see STACK-NOTES).
    worker_class = ResilientWorker if args.fork else ResilientSimpleWorker
    run(worker_class, connection, burst=args.burst)


def run(worker_class, connection, *, burst: bool = False, backoff: Backoff | None = None) -> None:
    """Work until stopped (or, in burst mode, until the queue is empty), starting a fresh
    worker after each Redis error. Each worker gets a new random name (RQ's default), so a
    registration a dead one left behind never blocks the next."""
    backoff = backoff or Backoff()
    scheduler_name = uuid.uuid4().hex
    unburied: list[_Resilient] = []  # workers whose death Redis has not heard of yet
    worker = None
    stop_on_signals()
    try:
        while True:
            started, error, worker = time.monotonic(), None, None
            try:
                for dead in list(unburied):
                    dead.register_death()
                    unburied.remove(dead)
                queues = [Queue(lane.value, connection=connection) for lane in LANES]
                worker = worker_class(queues, connection=connection)
                worker.scheduler_name = scheduler_name
                worker.work(with_scheduler=True, burst=burst)
            except (RedisError, RedisLost) as exc:
                error = exc
            finally:
                stop_on_signals()  # RQ's handlers belong to the worker that just ended
            if worker is not None:
                worker.teardown()  # RQ's loop has done it, unless it failed to start
                if worker.death_pending:
                    unburied.append(worker)
                if worker.stopping:
                    return
            if error is None and burst:
                return
            delay = backoff.next(time.monotonic() - started)
            if error is None:  # RQ logged why (an unhandled error, a Redis timeout)
                log.warning("worker loop ended: worker restarting in %.1f s", delay)
            else:
                log.warning("Redis unavailable (%s): worker restarting in %.1f s", error, delay)
            time.sleep(delay)
    except (Stopped, StopRequested):  # (StopRequested: a signal before ours were back)
        if worker is not None:
            worker.teardown()


if __name__ == "__main__":
    main()
