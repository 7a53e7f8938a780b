"""RQ job functions: load what they need, call the service, nothing more.

Arguments are ids only, so no phone number or message text lands in Redis or in logs.
"""

from __future__ import annotations

from jobs.context import current
from service import outbox


def send_messages(message_ids: list[int]) -> dict:
    """Send outbox rows (each at most once; see service/outbox.py)."""
    services = current()
    results: dict[str, int] = {}
    for message_id in message_ids:
        outcome = outbox.deliver(services, message_id)
        results[outcome] = results.get(outcome, 0) + 1
    return results


def handle_inbound(message_id: int) -> str:
    """Run one stored inbound text through the conversation."""
    from service import conversation

    return conversation.handle_inbound(current(), message_id)


def sweep() -> dict:
    """Re-find work a lost job or a Redis outage left behind."""
    from service import conversation

    services = current()
    return {"outbox": outbox.sweep(services), "inbound": conversation.sweep_inbound(services)}
