"""Admin sessions that end on the server: a signed-out session's id is remembered in Redis.

The session itself is Flask's signed cookie, so signing out alone would leave a copy of the
cookie taken before (from a shared computer, a proxy log) working until it expired. Each
sign-in gets a random id in the cookie; signing out marks that id ended, for as long as the
cookie could otherwise live (the absolute lifetime), and every admin request checks it.

With Redis away, ending is logged and lost, and the check lets the session through (the idle
timeout and the absolute lifetime still end it), rather than signing every facilitator out.
"""

from __future__ import annotations

import logging
import secrets

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

KEY = "realign:admin:ended:{}"


def new_session_id() -> str:
    return secrets.token_urlsafe(18)


class EndedSessions:
    def __init__(self, redis):
        self.redis = redis

    def end(self, session_id: str | None, lifetime_s: int) -> None:
        if not session_id:
            return
        try:
            self.redis.set(KEY.format(session_id), 1, ex=max(int(lifetime_s), 1))
        except RedisError as exc:
            log.warning("Redis unavailable (%s): a signed-out session not recorded", exc)

    def ended(self, session_id: str | None) -> bool:
        if not session_id:
            return False
        try:
            return bool(self.redis.exists(KEY.format(session_id)))
        except RedisError as exc:
            log.warning("Redis unavailable (%s): signed-out sessions not checked", exc)
            return False
