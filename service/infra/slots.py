"""One run per time slot for a recurring job, however many cron processes enqueue it.

An operator may run two cron processes for failover; both enqueue every recurring job.
The job's first run in a slot (the whole minute, the 30-second window, the hour it falls
in) takes a Redis key for that slot; every other run in the same slot finds it taken.
"""

from __future__ import annotations

import logging
from datetime import datetime

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PREFIX = "realign:slot"


def slot_key(job: str, seconds: int, now: datetime) -> str:
    """`realign:slot:<job>:<start of the slot, in Unix seconds>` for the slot `now` is in."""
    start = int(now.timestamp()) // seconds * seconds
    return f"{PREFIX}:{job}:{start}"


def take_slot(redis, job: str, seconds: int, now: datetime) -> bool:
    """True for the first caller in `job`'s `seconds`-long slot holding `now`, False after.

    The key outlives its slot (two slots long) so that a cron whose clock lags a little
    still finds it; keys of past slots are never read again and simply expire.
    """
    key = slot_key(job, seconds, now)
    try:
        return bool(redis.set(key, "1", nx=True, ex=seconds * 2))
    except RedisError as exc:
        # Fail open. This runs inside an RQ job, so Redis answered a moment ago; if it is
        # gone now, doing the slot's work (perhaps twice) is safe, because every recurring
        # task is idempotent on its own (one check-in row per due instant, one outbox row
        # per idempotency key), while skipping it would hold due work back a whole slot.
        log.warning("slot lock unavailable, %s runs anyway: %s", key, exc)
        return True
