"""Run RQ's cron scheduler on the configured Redis (the schedule is jobs/schedule.py).

One or two may run (two for failover): each recurring job takes a Redis lock for its slot
(jobs/tasks.py), so nothing is done twice. A Redis error never ends the process: it logs one
warning, waits (0.5 s, doubling to 30 s) and starts again; a job it could not enqueue is
enqueued once Redis answers. SIGTERM/SIGINT still stop it.
"""

from __future__ import annotations

import logging
import time

import redis
from redis.exceptions import RedisError
from rq.cron import CronScheduler
from rq.exceptions import StopRequested

from jobs.backoff import Backoff
from jobs.worker import Stopped, stop_on_signals
from service.config import load_settings
from service.infra.logs import install_redaction

log = logging.getLogger("jobs.cron")  # (run as `python -m`, __name__ is "__main__")


class _Cron(CronScheduler):
    stopping = False  # a stop signal arrived

    def _request_stop(self, signum, frame):
        self.stopping = True
        super()._request_stop(signum, frame)


def main() -> None:
    settings = load_settings()
    install_redaction(settings.log_level)
    connection = redis.Redis.from_url(settings.effective_redis_url)
    scheduler = _Cron(connection=connection, logging_level=logging.INFO)
    scheduler.load_config_from_file("jobs.schedule")
    run(scheduler)


def run(scheduler: _Cron, backoff: Backoff | None = None) -> None:
    """`scheduler.start()` until a signal stops it, again after each Redis error. The same
    scheduler goes on: its name (one registration) and its jobs' timings are kept, and a job
    whose enqueue failed is still due, so it is enqueued as soon as Redis answers."""
    backoff = backoff or Backoff()
    stop_on_signals()
    try:
        while True:
            started = time.monotonic()
            try:
                scheduler.start()
                return
            except RedisError as exc:
                stop_on_signals()  # the scheduler's handlers raise into a loop that is over
                if scheduler.stopping:
                    return
                delay = backoff.next(time.monotonic() - started)
                log.warning("Redis unavailable (%s): cron restarting in %.1f s", exc, delay)
                time.sleep(delay)
    except (Stopped, StopRequested):  # (StopRequested: a signal before ours were back)
        return


if __name__ == "__main__":
    main()
