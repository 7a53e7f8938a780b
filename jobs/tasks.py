"""RQ job functions: one call into the service each, nothing more.

Arguments are ids only, so no phone number or message text lands in Redis or in logs.
"""

from __future__ import annotations

from jobs.context import current
from service.messaging import delivery
from service.program import conversation, digest
from service.program import tick as ticking
from service.voice import calls, keeping, recordings


def send_messages(message_ids: list[int]) -> dict:
    """Send outbox rows, concurrently, each at most once (see service/messaging/delivery.py)."""
    return delivery.deliver_many(current(), message_ids)


def tick() -> dict:
    """Due check-ins, nudges and misses; their texts are sent in batches."""
    return ticking.tick_until_done(current())


def handle_inbound(message_id: int) -> str:
    """Run one stored inbound text through the conversation."""
    return conversation.handle_inbound(current(), message_id)


def sweep() -> dict:
    """Re-find work a lost job or a Redis outage left behind."""
    services = current()
    return {"outbox": delivery.sweep(services), "inbound": conversation.sweep_inbound(services)}


def daily_digests() -> int:
    """Once-a-day digests to facilitators who asked for one."""
    return digest.send_digests(current())


def place_call(call_id: int) -> str:
    """Place one due outbound call (at most once per attempt)."""
    return calls.place(current(), call_id)


def settle_recording(reflection_id: int) -> str:
    """Download a kept recording and delete Twilio's copy, as far as is due."""
    return recordings.settle(current(), reflection_id)


def sweep_voice() -> dict:
    """Due and retried calls, recordings nobody chose for, and unsettled recordings."""
    services = current()
    return {
        "calls": calls.sweep(services),
        "kept_undecided": keeping.keep_undecided(services),
        "recordings": recordings.sweep(services),
    }
