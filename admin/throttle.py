"""Sign-in tries counted in Redis, shared by every gunicorn process.

The limits and the window are rules: service/core/signin.py.

A try is counted *before* its password is checked, in one Lua script that refuses it when
the account's or the address's count is at its limit and otherwise counts it in both. So
20 tries sent at once verify at most `ACCOUNT_LIMIT` passwords: none can pass a check made
before the others were counted (a read, then the slow argon2 verify, then a write, as
before, let all 20 through). A right password hands its try back.

Methods return None when Redis cannot be reached; the caller then skips the other calls,
so a sign-in waits for at most one failed Redis call.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from redis.exceptions import RedisError

from service.core.signin import ACCOUNT_LIMIT, ADDRESS_LIMIT, WINDOW_S

log = logging.getLogger(__name__)

PREFIX = "realign:admin:signin"

# KEYS: the account's count, the address's. ARGV: their limits, the window (seconds).
# Returns {0, 0} when the try is counted, or {seconds to wait, 1 on the first refusal of
# the window}: a refusal is counted too, past the limit, so it is audited once.
BEGIN = """
for i = 1, 2 do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  local limit = tonumber(ARGV[i])
  if count >= limit then
    local ttl = redis.call('TTL', KEYS[i])
    if ttl < 1 then
      redis.call('EXPIRE', KEYS[i], ARGV[3])
      ttl = tonumber(ARGV[3])
    end
    local refused = redis.call('INCR', KEYS[i])
    return {ttl, refused == limit + 1 and 1 or 0}
  end
end
for i = 1, 2 do
  if redis.call('INCR', KEYS[i]) == 1 or redis.call('TTL', KEYS[i]) < 0 then
    redis.call('EXPIRE', KEYS[i], ARGV[3])
  end
end
return {0, 0}
"""

# A right password: the account's count starts again; the address gives back this one try
# (not all of them, or signing in to one's own account would reset guessing at others).
ACCEPTED = """
redis.call('DEL', KEYS[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then
  redis.call('DECR', KEYS[2])
end
return 0
"""


@dataclass(frozen=True)
class Verdict:
    wait_s: int  # 0: go on (the try is counted); else refused for this many seconds
    first_refusal: bool = False  # the first refusal of this window (audited once)


class LoginThrottle:
    """Sign-in tries per account and per client address, in a fixed window, in Redis."""

    def __init__(
        self,
        redis,
        account_limit: int = ACCOUNT_LIMIT,
        address_limit: int = ADDRESS_LIMIT,
        window_s: int = WINDOW_S,
    ):
        self.redis = redis
        self.account_limit, self.address_limit = account_limit, address_limit
        self.window_s = window_s

    def keys(self, email: str, address: str) -> list[str]:
        def digest(kind: str, value: str) -> str:
            return f"{PREFIX}:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"

        return [digest("account", email), digest("address", address)]

    def begin(self, email: str, address: str) -> Verdict | None:
        """Count this try, or refuse it while the account or the address is at its limit."""
        keys = self.keys(email, address)
        args = (self.account_limit, self.address_limit, self.window_s)
        try:
            wait, first = self.redis.register_script(BEGIN)(keys=keys, args=args)
        except RedisError as exc:
            log.warning("sign-in throttle unavailable: %s", exc)
            return None
        return Verdict(int(wait), bool(first))

    def accepted(self, email: str, address: str) -> None:
        try:
            self.redis.register_script(ACCEPTED)(keys=self.keys(email, address))
        except RedisError as exc:
            log.warning("sign-in throttle unavailable: %s", exc)
