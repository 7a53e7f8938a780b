"""When a facilitator's daily digest goes: from 09:00 on their own morning (their time
zone, not their programs'), until 20:00, once that day."""

from __future__ import annotations

from datetime import date, datetime, time

from service.core.local_time import zone

SEND_FROM = time(9, 0)
SEND_UNTIL = time(20, 0)


def digest_day(now: datetime, facilitator_zone: str | None) -> date | None:
    """The facilitator's date when `now` is within their digest hours, else None."""
    local = now.astimezone(zone(facilitator_zone))
    if SEND_FROM <= local.time() < SEND_UNTIL:
        return local.date()
    return None
