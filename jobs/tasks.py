"""RQ job functions: load what they need, call the service, nothing more.

Arguments are ids only, so no phone number or message text lands in Redis or in logs.
"""

from __future__ import annotations

from jobs.context import current
from jobs.voice import place_call, settle_recording, sweep_voice  # noqa: F401 (task names)
from service.messaging import outbox


def send_messages(message_ids: list[int]) -> dict:
    """Send outbox rows, concurrently, each at most once (see service/outbox.py)."""
    return outbox.deliver_many(current(), message_ids)


def tick() -> dict:
    """Due check-ins, nudges and misses; their texts are sent in batches."""
    from service.program import checkins

    services = current()
    return checkins.tick_until_done(services, lambda texts: outbox.enqueue_sends(services, texts))


def handle_inbound(message_id: int) -> str:
    """Run one stored inbound text through the conversation."""
    from service.program import conversation

    return conversation.handle_inbound(current(), message_id)


def sweep() -> dict:
    """Re-find work a lost job or a Redis outage left behind."""
    from service.program import conversation

    services = current()
    return {"outbox": outbox.sweep(services), "inbound": conversation.sweep_inbound(services)}


def daily_digests() -> int:
    """Once-a-day digests to facilitators who asked for one."""
    from service.program import digest

    services = current()
    with services.sessions() as session:
        messages = digest.queue_digests(session, services.now())
        session.commit()
    outbox.enqueue_sends(services, messages)
    return len(messages)
