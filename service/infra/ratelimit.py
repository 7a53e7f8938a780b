"""Messages-per-second caps per sender, shared by every worker through Redis."""

from __future__ import annotations

import logging
import time

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Each sender's next free slot (GCRA): a send may start `mps` at once, then one every
# 1/mps s. KEYS[1]: the sender's key; ARGV: now, 1/mps, the burst (mps - 1) * 1/mps.
# Returns the seconds until this send's slot, which it now holds. The time is the
# caller's, so every process must keep a synchronised clock (as they do for the claims).
_RESERVE = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local start = tat - burst
if start < now then start = now end
local after = tat + interval
redis.call('SET', KEYS[1], tostring(after), 'PX', math.ceil((after - now) * 1000) + 1000)
return tostring(start - now)
"""


class SenderRateLimit:
    """At most `mps` sends start per second per sender (a burst of `mps`, then one every
    1/mps s). Twilio queues what exceeds a number's MPS and that queue grows unbounded, so
    we hold sends back ourselves; the slots live in Redis, so every worker shares them.

    `reserve` never waits: it takes the sender's next slot and says how far off it is, and
    a send whose slot is not now is put back on the queue for its time (see delivery.py),
    so a busy number never holds a worker, nor anyone else's texts behind it.
    """

    def __init__(self, redis, mps: int, *, clock=time.time):
        self.redis = redis
        self.mps = mps
        self.clock = clock
        self._reserve = redis.register_script(_RESERVE)

    def reserve(self, sender: str) -> float:
        """Take `sender`'s next slot: the seconds until it (0.0: send now)."""
        if self.mps <= 0:
            return 0.0
        interval = 1.0 / self.mps
        try:
            wait = self._reserve(
                keys=[f"realign:mps:{sender}"],
                args=[repr(self.clock()), repr(interval), repr((self.mps - 1) * interval)],
            )
        except RedisError as exc:
            # Redis went away mid-wave: the texts already being sent go on unpaced
            # (Twilio queues a burst; it does not drop it) rather than being stranded.
            log.warning("rate limit unavailable (%s): sending unpaced", type(exc).__name__)
            return 0.0
        wait = float(wait)
        # (Lua prints 14 digits: an epoch time is kept to 0.1 ms, so below 1 ms is now.)
        return wait if wait >= 0.001 else 0.0
