"""What /healthz says: to anyone, only whether the service is up (200 or 503); to its
operators (HEALTH_TOKEN, or an admin signed in), which part is away and how much waits."""

from __future__ import annotations

from service.infra.health import check_health
from service.messaging import failures


def public(services) -> dict:
    """Up or not, for the platform's health checks: nothing about the parts behind it."""
    return {"ok": check_health(services)["ok"]}


def detail(services) -> dict:
    """The database, Redis, the inbound spool and Twilio, for monitoring."""
    return check_health(services) | failures.twilio_health(services)
