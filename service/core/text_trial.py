"""A program's text sent to the facilitator's own phone, to see it as a participant would:
what it is called in the outbox, and when it may not go."""

from __future__ import annotations

TEMPLATE = "text_test"  # the outbox template of a text sent to try it out


def refusal(phone: str | None, problems) -> str | None:
    """Why a test of a text must not go to `phone` with these `problems`, or None."""
    if not (phone or "").strip():
        return "your account has no phone number: add one under My account"
    if problems:
        return "the text needs changes first (see beside it)"
    return None


def key(facilitator_id: int, nonce: str, text_key: str, lang: str) -> str:
    """The outbox key: one text per click, however often the form is sent."""
    return f"texttest:{facilitator_id}:{nonce}:{text_key}:{lang}"
