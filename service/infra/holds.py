"""Ids that a queued job holds, kept in Redis so a sweep (or the next tick) that finds the
same rows due does not queue them a second time while the first job still waits its turn.

A hold is a member of one sorted set scored by when it lapses: a job lost with its queue
lets its rows go after `ttl_s`, and a sweep then finds them again. Redis errors are logged
and ignored: without holds, a row may be queued twice, and the claim that every job makes
first (a conditional UPDATE) still lets only one of them act on it.
"""

from __future__ import annotations

import logging
import time

from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class Holds:
    def __init__(self, redis, name: str, ttl_s: float, *, clock=time.time):
        self.redis = redis
        self.key = f"realign:holds:{name}"
        self.ttl_s = ttl_s
        self.clock = clock

    def hold(self, ids, *, after: float | None = None) -> None:
        """These ids are in a queued job (due at `after`, a timestamp, if later than now):
        others leave them alone until it has run, or until `ttl_s` past its time."""
        ids = list(ids)
        if not ids:
            return
        lapses = max(self.clock(), after or 0) + self.ttl_s
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.zadd(self.key, dict.fromkeys(ids, lapses))
            # Lapsed holds are dropped here, so the set stays as large as what is queued.
            pipe.zremrangebyscore(self.key, "-inf", self.clock())
            pipe.execute()
        except RedisError as exc:
            log.warning("holds unavailable (%s): %d ids not held", type(exc).__name__, len(ids))

    def free(self, ids) -> None:
        """The job holding these ids has them now (or is done)."""
        ids = list(ids)
        if not ids:
            return
        try:
            self.redis.zrem(self.key, *ids)
        except RedisError as exc:
            log.warning("holds unavailable (%s): %d ids not freed", type(exc).__name__, len(ids))

    def held(self, ids) -> set:
        """Those of `ids` that a queued job still holds."""
        ids = list(ids)
        if not ids:
            return set()
        try:
            scores = self.redis.zmscore(self.key, ids)
        except RedisError as exc:
            log.warning("holds unavailable (%s): treating none as held", type(exc).__name__)
            return set()
        now = self.clock()
        return {i for i, lapses in zip(ids, scores, strict=True) if lapses and lapses > now}
