"""Why a text was not delivered, in words a facilitator can act on, and whether sending it
again could help. Twilio's error codes: https://www.twilio.com/docs/api/errors"""

from __future__ import annotations

from enum import StrEnum

from service.core.delivery_rules import DAY_BOUND
from service.core.enums import MessageStatus

# code: (what happened, whether a second try could reach them)
REASONS: dict[int, tuple[str, bool]] = {
    21211: ("the number is not a valid phone number", False),
    21408: ("texts to this country are not enabled for the account", False),
    21610: ("they replied STOP to this number, so carriers block our texts", False),
    21612: ("this number cannot receive texts from our number", False),
    21614: ("the number is not a mobile phone", False),
    30001: ("Twilio's queue was full", True),
    30002: ("the Twilio account was suspended", False),
    30003: ("their phone was off or out of reach", True),
    30004: ("the message was blocked (the number may block texts from unknown senders)", True),
    30005: ("the number is unknown to the carrier (it may no longer be in use)", False),
    30006: ("the number is a landline or the carrier does not take texts", False),
    30007: ("the carrier filtered it as unwanted", True),
    30008: ("the carrier did not say why", True),
    30034: ("our number is not registered for texting in the US (A2P 10DLC)", False),
}


def reason(error_code: int | None) -> str:
    """What happened, for a text that failed or was not delivered."""
    if error_code is None:
        return "no reason was given"
    found = REASONS.get(int(error_code))
    return found[0] if found else f"Twilio error {int(error_code)}"


def worth_retrying(error_code: int | None) -> bool:
    """Whether sending the same text again could reach them (a phone that was off, a
    carrier's filter); never for a number that cannot take texts or opted out."""
    if error_code is None:
        return True
    found = REASONS.get(int(error_code))
    return found[1] if found else True


# A check-in, partner check-in or nudge asks about one day: once that day is past, sending
# it again would ask about the wrong day (core/delivery_rules.py DAY_BOUND).
STALE_AFTER_HOURS = 12


def may_retry(error_code: int | None, template: str | None, age_hours: float) -> bool:
    """Offer "send again" for a text that did not arrive: only where a second try could
    reach them, and for a day's check-in only while that day's question still stands."""
    if template in DAY_BOUND and age_hours > STALE_AFTER_HOURS:
        return False
    return worth_retrying(error_code)


class Delivery(StrEnum):
    """An outbound text's fate as the facilitator reads it."""

    WAITING = "waiting"  # not yet handed to Twilio (waking hours, or the queue)
    SENT = "sent"  # Twilio has it; no word from the carrier yet
    DELIVERED = "delivered"
    NOT_DELIVERED = "not_delivered"  # with the reason
    NOT_SENT = "not_sent"  # cancelled or expired before it left
    RECORDED = "recorded"  # console mode or a test persona: kept here, never sent


DELIVERY = {
    MessageStatus.PENDING: Delivery.WAITING,
    MessageStatus.CLAIMED: Delivery.WAITING,
    MessageStatus.CONSOLE: Delivery.RECORDED,
    MessageStatus.ACCEPTED: Delivery.SENT,
    MessageStatus.SCHEDULED: Delivery.SENT,
    MessageStatus.QUEUED: Delivery.SENT,
    MessageStatus.SENDING: Delivery.SENT,
    MessageStatus.SENT: Delivery.SENT,
    MessageStatus.DELIVERED: Delivery.DELIVERED,
    MessageStatus.READ: Delivery.DELIVERED,
    MessageStatus.UNDELIVERED: Delivery.NOT_DELIVERED,
    MessageStatus.FAILED: Delivery.NOT_DELIVERED,
    MessageStatus.CANCELLED: Delivery.NOT_SENT,
    MessageStatus.CANCELED: Delivery.NOT_SENT,
    MessageStatus.EXPIRED: Delivery.NOT_SENT,
}


def delivery(status: str, error_code: int | None) -> tuple[Delivery, str | None]:
    """(sent / delivered / not delivered …, and why when it did not arrive)."""
    state = DELIVERY.get(status, Delivery.SENT)
    return state, reason(error_code) if state == Delivery.NOT_DELIVERED else None
