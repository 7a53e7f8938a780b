"""Handing what Twilio sent to the service: stored, or spooled while the database is away;
503 at once when nothing can keep it, so that Twilio retries (or its fallback URL)."""

from __future__ import annotations

from flask import current_app

from service import intake
from service.services import current


def take_in(kind: str, args: dict, answer):
    try:
        intake.take_in(current(), kind, args)
    except intake.Unavailable:
        return current_app.response_class(
            "Temporarily unavailable\n", 503, mimetype="text/plain", headers={"Retry-After": "30"}
        )
    return answer
