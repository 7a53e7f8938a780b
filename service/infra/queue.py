"""The job queue: RQ on Redis, or nothing at all (a queue that is down loses nothing).

Jobs are named by task (`send_messages`, `turn_inbound`, …): the functions of that name
in `jobs.tasks`, found by RQ from the dotted string, so nothing here imports the jobs.

Work goes into three lanes (RQ queues), and every worker takes them in this order, so a
participant's text and its reply never wait behind a wave of check-ins:

- `turns`: what a participant just sent, and the reply to it;
- `sends`: texts and calls someone is waiting for (a facilitator's action, a spooled text);
- `bulk`: ticks and what they send, sweeps, digests, imports.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job

log = logging.getLogger(__name__)

TASKS = "jobs.tasks"


class Lane(StrEnum):
    """An RQ queue; workers take the lanes in the order they are declared."""

    TURNS = "turns"
    SENDS = "sends"
    BULK = "bulk"


LANES = tuple(Lane)  # every worker's queues, highest priority first

# Where each task goes unless the caller names a lane (a tick's texts go on bulk).
TASK_LANE = {
    "turn_inbound": Lane.TURNS,
    "send_messages": Lane.SENDS,
    "place_call": Lane.SENDS,
    "drain_spool": Lane.SENDS,
}


def lane_of(task: str) -> Lane:
    return TASK_LANE.get(task, Lane.BULK)


class Dispatcher(Protocol):
    """Hands slow work to the background."""

    def enqueue(
        self,
        task: str,
        *args: Any,
        at: datetime | None = None,
        job_id: str | None = None,
        lane: Lane | None = None,
    ) -> bool:
        """Queue `task(*args)` on `lane` (by default the task's own); returns False (and
        loses nothing) when the queue is down."""

    def cancel(self, job_ids: list[str]) -> int:
        """Drop scheduled jobs by id."""

    def waiting(self, task: str) -> list[tuple]:
        """The arguments of each `task` job that waits in a lane or is set for later (not
        yet taken by a worker); [] when the queue is down."""


class NullDispatcher:
    """No queue (a benchmark's or a script's own process): the work waits in the database
    for whoever sweeps it."""

    def enqueue(self, task: str, *args: Any, at=None, job_id=None, lane=None) -> bool:
        return False

    def cancel(self, job_ids: list[str]) -> int:
        return 0

    def waiting(self, task: str) -> list[tuple]:
        return []


class RQDispatcher:
    """Enqueues `jobs.tasks.<task>` on RQ, in its lane."""

    def __init__(self, redis):
        self.redis = redis
        self.queues = {lane: Queue(lane.value, connection=redis) for lane in LANES}

    def enqueue(
        self,
        task: str,
        *args: Any,
        at: datetime | None = None,
        job_id: str | None = None,
        lane: Lane | None = None,
    ) -> bool:
        func = f"{TASKS}.{task}"
        retry = Retry(max=3, interval=[2, 10, 30])
        queue = self.queues[lane or lane_of(task)]
        try:
            if at is None:
                # One round trip: RQ otherwise sends its queue-set update on its own first.
                with self.redis.pipeline() as pipe:
                    queue.enqueue(func, *args, retry=retry, job_id=job_id, pipeline=pipe)
                    pipe.execute()
            else:
                queue.enqueue_at(at, func, *args, retry=retry, job_id=job_id)
        except RedisError as exc:
            # The cron tick sweeps pending work from the database when Redis is back.
            log.warning("queue unavailable, %s left for the sweeper: %s", task, exc)
            return False
        return True

    def waiting(self, task: str) -> list[tuple]:
        func = f"{TASKS}.{task}"
        try:
            ids = []
            for queue in self.queues.values():
                ids += queue.get_job_ids()
                ids += queue.scheduled_job_registry.get_job_ids()
            jobs = Job.fetch_many(ids, connection=self.redis)
        except RedisError as exc:
            log.warning("queue unavailable, its waiting jobs unknown: %s", exc)
            return []
        return [job.args for job in jobs if job is not None and job.func_name == func]

    def cancel(self, job_ids: list[str]) -> int:
        """Drop scheduled jobs (e.g. timed sends for someone whose program closed)."""
        cancelled = 0
        for job_id in job_ids:
            try:
                job = Job.fetch(job_id, connection=self.redis)
            except (NoSuchJobError, RedisError):
                continue
            job.cancel()
            job.delete()
            cancelled += 1
        return cancelled
