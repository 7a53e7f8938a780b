"""RQ job functions: one call into the service each, nothing more.

Arguments are ids only, so no phone number or message text lands in Redis or in logs.
The recurring ones (jobs/schedule.py) run at most once per slot: see `once_per_slot`.
"""

from __future__ import annotations

import functools

from rq import get_current_job

from jobs.context import current
from service import intake
from service.infra.queue import Lane
from service.infra.slots import take_slot
from service.messaging import delivery
from service.program import conversation, digest, leftovers, quiet, trends, webhooks
from service.program import tick as ticking
from service.voice import calls, keeping, recordings


def once_per_slot(seconds: int):
    """Run as an RQ job, the task does its work at most once per `seconds`-long slot of the
    services' clock: two cron processes (failover) both enqueue it, and the later job in a
    slot returns {"skipped": ...} at once. A direct call (a test, a shell) always runs."""

    def decorate(task):
        @functools.wraps(task)
        def run():
            services = current()
            if get_current_job() is not None and not take_slot(
                services.redis, task.__name__, seconds, services.now()
            ):
                return {"skipped": f"{task.__name__}: this slot's run already happened"}
            return task()

        return run

    return decorate


def send_messages(message_ids: list[int], paced: bool = False) -> dict:
    """Send outbox rows, concurrently, each at most once (see service/messaging/delivery.py).
    Rows it puts back for a later slot stay in its lane; `paced`: their slots are taken."""
    job = get_current_job()
    lane = Lane(job.origin) if job is not None and job.origin in set(Lane) else None
    return delivery.deliver_many(current(), message_ids, lane=lane, paced=paced)


def deliver_webhook(delivery_id: int) -> str:
    """One try of one event webhook delivery (signed; a failure queues the next try)."""
    return webhooks.deliver(current(), delivery_id)


@once_per_slot(60)
def tick() -> dict:
    """Find what is due (ids only) and queue a bulk `tick_page` job per page of it."""
    return ticking.queue_due(current())


def tick_page(kind: str, ids: list[int]) -> dict:
    """One page of what a tick found due: check-ins, partner questions, nudges or misses."""
    return ticking.run_page(current(), kind, ids)


def drain_spool() -> int:
    """Store what the webhooks spooled while the database was away, in arrival order."""
    return intake.drain(current())


def turn_inbound() -> dict:
    """Turn every stored inbound text waiting, and send the replies."""
    return conversation.turn_waiting(current())


@once_per_slot(30)
def sweep() -> dict:
    """Re-find work a lost job or a Redis outage left behind, and retry the deletions of
    erased people's copies that Twilio could not take yet."""
    services = current()
    return {
        "outbox": delivery.sweep(services),
        "inbound": conversation.sweep_inbound(services),
        "leftovers": leftovers.sweep(services),
        "webhooks": webhooks.sweep(services),
    }


def purge_leftovers(ids: list[int]) -> dict:
    """Delete an erasure's copies at Twilio (and on disk); what fails waits for the sweep."""
    return leftovers.purge(current(), ids)


@once_per_slot(3600)
def daily_digests() -> int:
    """Once-a-day digests to facilitators who asked for one."""
    return digest.send_digests(current())


@once_per_slot(300)
def refresh_trends() -> int:
    """Every open program's weekly figures for the dashboard, added up and kept."""
    return trends.refresh(current())


@once_per_slot(3600)
def find_quiet() -> int:
    """People who have gone quiet, raised on Today once per quiet spell."""
    return quiet.find_quiet(current())


def place_call(call_id: int) -> str:
    """Place one due outbound call (at most once per attempt)."""
    return calls.place(current(), call_id)


def settle_recording(reflection_id: int) -> str:
    """Download a kept recording and delete Twilio's copy, as far as is due."""
    return recordings.settle(current(), reflection_id)


@once_per_slot(30)
def sweep_voice() -> dict:
    """Due and retried calls, recordings nobody chose for, and unsettled recordings."""
    services = current()
    return {
        "calls": calls.sweep(services),
        "kept_undecided": keeping.keep_undecided(services),
        "recordings": recordings.sweep(services),
    }
