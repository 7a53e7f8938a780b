"""Messages-per-second caps per sender, shared by every worker through Redis."""

from __future__ import annotations

import time


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
            count, _ = pipe.execute()
            if count <= self.mps:
                return
            self.sleep(max(second + 1 - now, 0.001))
