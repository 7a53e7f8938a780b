"""The inbound spool: what Twilio sent while the database was away, kept in Redis in
arrival order until it can be stored.

A reliable list: an item is moved to a working list while it is being stored and removed
only once stored, so a worker that dies mid-drain loses nothing (`recover` puts such items
back at the head).
"""

from __future__ import annotations

import json
import time
from datetime import datetime

from redis.exceptions import RedisError

KEY = "realign:spool"
WORKING = "realign:spool:working"
LOCK = "realign:spool:lock"
NUDGE = "realign:spool:nudged"


class Spool:
    def __init__(self, redis):
        self.redis = redis

    def push(self, kind: str, args: dict, at: datetime) -> None:
        """Keep one item at the tail (raises RedisError when Redis is away too)."""
        item = {"kind": kind, "args": args, "at": at.isoformat()}
        self.redis.rpush(KEY, json.dumps(item, separators=(",", ":")))

    def depth(self) -> int:
        return int(self.redis.llen(KEY))

    def take(self) -> tuple[str, dict] | None:
        """The oldest item (raw and parsed), now on the working list; None when empty."""
        raw = self.redis.lmove(KEY, WORKING, "LEFT", "RIGHT")
        if raw is None:
            return None
        return raw, json.loads(raw)

    def done(self, raw) -> None:
        self.redis.lrem(WORKING, 1, raw)

    def give_back(self, raw) -> None:
        """Not stored after all: back to the head, first in line again."""
        with self.redis.pipeline() as pipe:
            pipe.lrem(WORKING, 1, raw)
            pipe.lpush(KEY, raw)
            pipe.execute()

    def recover(self) -> int:
        """Items a dead drainer left on the working list, back at the head, in order."""
        moved = 0
        while self.redis.lmove(WORKING, KEY, "RIGHT", "LEFT") is not None:
            moved += 1
        return moved

    def nudge(self, seconds: int = 5) -> bool:
        """True at most once per `seconds`: whoever gets it queues a drain."""
        try:
            return bool(self.redis.set(NUDGE, "1", nx=True, ex=seconds))
        except RedisError:
            return False

    def lock(self, seconds: int = 120) -> bool:
        """One drainer at a time, so items are stored in arrival order."""
        return bool(self.redis.set(LOCK, "1", nx=True, ex=seconds))

    def unlock(self) -> None:
        self.redis.delete(LOCK)


class SpoolWatch:
    """One process's recent idea of whether anything waits in the spool (asked at most
    once per `every_s`, so a webhook costs no extra round trip)."""

    def __init__(self, every_s: float = 1.0):
        self.every_s = every_s
        self.checked_at = -1e9
        self.busy = False

    def busy_now(self, spool: Spool) -> bool:
        now = time.monotonic()
        if now - self.checked_at >= self.every_s:
            self.checked_at = now
            try:
                self.busy = spool.depth() > 0
            except RedisError:
                self.busy = False
        return self.busy
