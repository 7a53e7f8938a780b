"""A wake-up flag in Redis: many events, one job.

Whoever raises the flag first queues the job; the job lowers it before it looks for work.
So everything stored before the job looked is seen by it, and anything stored after finds
the flag down and queues the next job: no item is missed and none needs a job of its own.
The flag expires, so a job lost with Redis (a flush, a failover) holds nothing back for
long; the sweeper finds what it left.
"""

from __future__ import annotations

import contextlib
import logging

from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class Nudge:
    def __init__(self, redis, key: str, ttl: int = 60):
        self.redis, self.key, self.ttl = redis, key, ttl

    def take(self) -> bool:
        """True when this caller raised the flag and so must queue the job (False when a
        job is already queued, or Redis is away: then the sweeper finds the work)."""
        try:
            return bool(self.redis.set(self.key, "1", nx=True, ex=self.ttl))
        except RedisError as exc:
            log.warning("queue unavailable (%s): left for the sweeper", type(exc).__name__)
            return False

    def lower(self) -> None:
        """Before looking for work: what is stored from now on queues another job."""
        # If Redis is away the flag expires; the job goes on with what the database holds.
        with contextlib.suppress(RedisError):
            self.redis.delete(self.key)
