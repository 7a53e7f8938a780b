"""Failed sign-ins counted in Redis, shared by every gunicorn process."""

from __future__ import annotations

import hashlib
import logging

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

FAILED_LIMIT = 5
FAILED_WINDOW_S = 60


class LoginThrottle:
    """Failed sign-ins per (email, address) in a fixed window, counted in Redis.

    Methods return None when Redis cannot be reached; the caller then skips the other
    calls, so a sign-in waits for at most one failed Redis call.
    """

    def __init__(self, redis, limit: int = FAILED_LIMIT, window_s: int = FAILED_WINDOW_S):
        self.redis, self.limit, self.window_s = redis, limit, window_s

    def key(self, email: str, address: str) -> str:
        digest = hashlib.sha256(f"{email}\0{address}".encode()).hexdigest()[:32]
        return f"realign:admin:login-failures:{digest}"

    def status(self, email: str, address: str) -> tuple[int, int] | None:
        """(failures in this window, seconds until tries are accepted again; 0 = now)."""
        key = self.key(email, address)
        try:
            count, ttl = self.redis.pipeline().get(key).ttl(key).execute()
        except RedisError as exc:
            log.warning("sign-in throttle unavailable: %s", exc)
            return None
        count = int(count or 0)
        return count, (max(int(ttl), 1) if count >= self.limit else 0)

    def failed(self, email: str, address: str) -> int | None:
        """Count one more failure (INCR; EXPIRE when the window starts). Returns the count."""
        key = self.key(email, address)
        try:
            count, ttl = self.redis.pipeline().incr(key).ttl(key).execute()
            if ttl < 0:  # first failure of the window (or an EXPIRE that never ran)
                self.redis.expire(key, self.window_s)
        except RedisError as exc:
            log.warning("sign-in throttle unavailable: %s", exc)
            return None
        return int(count)

    def clear(self, email: str, address: str) -> None:
        try:
            self.redis.delete(self.key(email, address))
        except RedisError as exc:
            log.warning("sign-in throttle unavailable: %s", exc)
