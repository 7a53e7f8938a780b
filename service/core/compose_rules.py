"""What a facilitator may text a participant from their page, and why not when not."""

from __future__ import annotations

from service.core.enums import ParticipantStatus

MAX_BODY = 1600  # Twilio's limit for one text (it is split into segments on the way)
FACILITATOR_TEXT = "facilitator_text"  # the outbox template of a text a facilitator wrote

REFUSALS = {
    ParticipantStatus.OPTED_OUT: "they replied STOP, so nothing may be texted to them until "
    "they text START",
    ParticipantStatus.UNDELIVERABLE: "texts cannot reach their number: call them, or correct "
    "the number on their page",
    ParticipantStatus.CLOSED: "their program with you is closed",
}


def refusal(status: str) -> str | None:
    """Why a facilitator's text to someone with this status must not go, or None."""
    try:
        return REFUSALS.get(ParticipantStatus(status))
    except ValueError:
        return None


def body_problem(body: str) -> str | None:
    """What is wrong with the words typed, or None."""
    words = (body or "").strip()
    if not words:
        return "write something to send"
    if len(words) > MAX_BODY:
        return f"a text holds at most {MAX_BODY} characters ({len(words)} now)"
    return None
