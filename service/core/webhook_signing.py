"""Event webhooks: how a delivery is signed and when a failed one is tried again.

The signature is HMAC-SHA256, under the endpoint's secret, of `"<timestamp>.<body>"`, sent
as `Realign-Signature: t=<unix seconds>,v1=<hex>` (the shape Stripe uses), so a receiver
can refuse a replay whose timestamp is old. Pure: times and secrets are passed in."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Realign-Signature"
TOLERANCE_SECONDS = 300
RETRY_HOURS = 24
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(int(timestamp)).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={int(timestamp)},v1={signature(secret, timestamp, body)}"


def verify(secret: str, value: str | None, body: bytes, now: float, tolerance=TOLERANCE_SECONDS):
    """True when `value` (the header) signs `body` under `secret` within `tolerance`."""
    parts = dict(p.split("=", 1) for p in (value or "").split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), parts.get("v1", ""))


def retry_delay(attempts: int) -> int:
    """Seconds before try number `attempts + 1`: 30 s, 1 min, 2 min … at most an hour."""
    return min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1))


def gives_up(first_try_ts: float, next_try_ts: float, hours: float = RETRY_HOURS) -> bool:
    """No try is made more than `hours` after the first."""
    return next_try_ts - first_try_ts > hours * 3600
