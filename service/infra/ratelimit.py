"""Messages-per-second caps per sender, shared by every worker through Redis."""

from __future__ import annotations

import logging
import time

from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class SenderRateLimit:
    """A fixed one-second window per sender: at most `mps` sends start in any second.

    Twilio queues what exceeds a number's MPS and the queue grows unbounded, so we hold
    sends back ourselves. The window lives in Redis so all workers on all machines share it.
    """

    def __init__(self, redis, mps: int, *, sleep=time.sleep, clock=time.time):
        self.redis = redis
        self.mps = mps
        self.sleep = sleep
        self.clock = clock

    def acquire(self, sender: str) -> None:
        if self.mps <= 0:
            return
        while True:
            now = self.clock()
            second = int(now)
            key = f"realign:mps:{sender}:{second}"
            pipe = self.redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, 5)
            try:
                count, _ = pipe.execute()
            except RedisError as exc:
                # Redis went away mid-wave: the texts already being sent go on unpaced
                # (Twilio queues a burst; it does not drop it) rather than being stranded.
                log.warning("rate limit unavailable (%s): sending unpaced", type(exc).__name__)
                return
            if count <= self.mps:
                return
            self.sleep(max(second + 1 - now, 0.001))
