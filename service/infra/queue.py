"""The job queue: RQ on Redis, or nothing at all (a queue that is down loses nothing).

Jobs are named by task (`send_messages`, `handle_inbound`, …): the functions of that name
in `jobs.tasks`, found by RQ from the dotted string, so nothing here imports the jobs.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job

log = logging.getLogger(__name__)

QUEUE = "default"
TASKS = "jobs.tasks"


class Dispatcher(Protocol):
    """Hands slow work to the background."""

    def enqueue(
        self, task: str, *args: Any, at: datetime | None = None, job_id: str | None = None
    ) -> bool:
        """Queue `task(*args)`; returns False (and loses nothing) when the queue is down."""

    def cancel(self, job_ids: list[str]) -> int:
        """Drop scheduled jobs by id."""


class NullDispatcher:
    """No queue (a benchmark's or a script's own process): the work waits in the database
    for whoever sweeps it."""

    def enqueue(self, task: str, *args: Any, at=None, job_id=None) -> bool:
        return False

    def cancel(self, job_ids: list[str]) -> int:
        return 0


class RQDispatcher:
    """Enqueues `jobs.tasks.<task>` on RQ."""

    def __init__(self, redis, queue_name: str = QUEUE):
        self.queue = Queue(queue_name, connection=redis)

    def enqueue(
        self, task: str, *args: Any, at: datetime | None = None, job_id: str | None = None
    ) -> bool:
        func = f"{TASKS}.{task}"
        retry = Retry(max=3, interval=[2, 10, 30])
        try:
            if at is None:
                # One round trip: RQ otherwise sends its queue-set update on its own first.
                with self.queue.connection.pipeline() as pipe:
                    self.queue.enqueue(func, *args, retry=retry, job_id=job_id, pipeline=pipe)
                    pipe.execute()
            else:
                self.queue.enqueue_at(at, func, *args, retry=retry, job_id=job_id)
        except RedisError as exc:
            # The cron tick sweeps pending work from the database when Redis is back.
            log.warning("queue unavailable, %s left for the sweeper: %s", task, exc)
            return False
        return True

    def cancel(self, job_ids: list[str]) -> int:
        """Drop scheduled jobs (e.g. timed sends for someone whose program closed)."""
        cancelled = 0
        for job_id in job_ids:
            try:
                job = Job.fetch(job_id, connection=self.queue.connection)
            except (NoSuchJobError, RedisError):
                continue
            job.cancel()
            job.delete()
            cancelled += 1
        return cancelled
