"""Short-lived signed links to a recording's audio, for an API client's audio player.

A link names the recording, the token it was made for and when it expires, signed with
HMAC-SHA256. Expiry is rounded up to a window, so the same page read twice within it gives
the same link (and the same ETag)."""

from __future__ import annotations

import hashlib
import hmac

WINDOW_SECONDS = 300


def expiry(now_ts: float, window: int = WINDOW_SECONDS) -> int:
    """Between one and two windows from now, on a window boundary."""
    return (int(now_ts) // window + 2) * window


def signature(key: bytes, recording_id: int, token_id: int, expires: int) -> str:
    message = f"audio:{recording_id}:{token_id}:{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def is_valid(
    key: bytes, recording_id: int, token_id: int, expires: int, given: str, now_ts: float
) -> bool:
    if expires < now_ts or expires > now_ts + 2 * WINDOW_SECONDS + 1:
        return False
    return hmac.compare_digest(signature(key, recording_id, token_id, expires), given or "")
