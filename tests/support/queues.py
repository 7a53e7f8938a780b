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


def release_due(redis, now) -> int:
    """What RQ's scheduler does every second, on the test's clock: jobs set for `now` or
    earlier (a retry's, a held send's) go into their lanes. Returns how many."""
    moved = 0
    for queue in lane_queues(redis):
        registry = queue.scheduled_job_registry
        for job_id in registry.get_jobs_to_schedule(int(now.timestamp())):
            job = queue.fetch_job(job_id)
            registry.remove(job_id)
            if job is not None:
                queue.enqueue_job(job)
                moved += 1
    return moved
