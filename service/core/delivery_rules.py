"""The fate of an outbound text: who may get it, how its status moves, how long a failing
one is retried and when it is too late to send at all."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from service.core.enums import NOT_TEXTED, MessageStatus, ParticipantStatus

# Statuses only ever move forward; a callback that arrives late or twice changes nothing.
RANK = {m.value: m.rank for m in MessageStatus if m.rank is not None}
# Nothing more will happen to a row in these.
FINAL = frozenset(
    {
        MessageStatus.CONSOLE,
        MessageStatus.DELIVERED,
        MessageStatus.READ,
        MessageStatus.UNDELIVERED,
        MessageStatus.FAILED,
        MessageStatus.CANCELLED,
        MessageStatus.CANCELED,
        MessageStatus.EXPIRED,
    }
)
# Handed to Twilio, its final word not heard yet: asked again until it comes.
UNFINISHED = frozenset(
    {
        MessageStatus.ACCEPTED,
        MessageStatus.SCHEDULED,
        MessageStatus.QUEUED,
        MessageStatus.SENDING,
        MessageStatus.SENT,
    }
)
FIRST_CHECK = timedelta(minutes=3)  # a status callback usually comes within seconds
CHECK_EVERY = timedelta(minutes=10)
STOP_CHECKING = timedelta(days=1)  # some carriers never report delivery: "sent" it stays
RETRY_FIRST = timedelta(seconds=10)
RETRY_CAP = timedelta(minutes=15)
# Texts about one day's check-in: one that could only leave after that day is not sent late.
DAY_BOUND = frozenset({"checkin", "partner_checkin", "checkin_nudge"})


def moves_forward(current: str | None, new: str | None) -> bool:
    return RANK.get(new or "", -1) > RANK.get(current or "", -1)


def known_status(status: str | None) -> str:
    """Twilio's status as we store it (an unknown one reads as queued)."""
    return status if status in RANK else MessageStatus.QUEUED


def may_receive(participant_status: str, template: str | None) -> bool:
    """Opted out, unreachable or closed: nothing leaves, except the closing text itself."""
    if participant_status == ParticipantStatus.CLOSED:
        return (template or "").startswith("closing_")
    return participant_status not in NOT_TEXTED


def retry_gap(attempts: int, key: int) -> timedelta:
    """Capped exponential backoff with jitter: about 10 s, 20 s, 40 s … 15 minutes, each
    ±20% so that a thousand texts failing together do not come back together. The jitter
    is drawn from the row's `key` and attempt, so it is spread but reproducible."""
    base = min(RETRY_FIRST * 2 ** max(attempts - 1, 0), RETRY_CAP)
    spread = random.Random(key * 1_000_003 + attempts).uniform(0.8, 1.2)
    return timedelta(seconds=round(base.total_seconds() * spread, 3))


def gives_up(failing_since: datetime, now: datetime, window: timedelta) -> bool:
    """Twilio has failed for longer than the retry window: the text finally fails."""
    return now - failing_since >= window


def too_late(template: str | None, leaves_at: datetime, day_ends_at: datetime | None) -> bool:
    """A check-in (or its nudge) that could only leave after its day is over."""
    return template in DAY_BOUND and day_ends_at is not None and leaves_at >= day_ends_at


def due_for_check(sent_at: datetime | None, checked_at: datetime | None, now: datetime) -> bool:
    """Whether to ask Twilio again about a row still without a final status."""
    if sent_at is None or now - sent_at < FIRST_CHECK or now - sent_at > STOP_CHECKING:
        return False
    return checked_at is None or now - checked_at >= CHECK_EVERY
