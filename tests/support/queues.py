"""The job lanes as tests look at them: RQ queues on the test Redis, highest priority first."""

from __future__ import annotations

from rq import Queue

from service.infra.queue import LANES


def lane_queues(redis) -> list[Queue]:
    return [Queue(lane.value, connection=redis) for lane in LANES]


def queued_count(redis, *, scheduled: bool = False) -> int:
    """Jobs waiting in every lane (and, with `scheduled`, those set for later)."""
    total = 0
    for queue in lane_queues(redis):
        total += queue.count
        if scheduled:
            total += queue.scheduled_job_registry.count
    return total
