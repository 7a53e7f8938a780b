"""What STATUS and CALL answer: where someone is, what is next and when, in their time.

Pure: the caller passes the participant's state, the instants that matter and `now`; the
answer is a text key and its values. Times are said the way people say them in each
language ("tomorrow at 8:00 am", "mañana a las 8:00 a. m."), in the participant's zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from service.core.enums import ParticipantStatus, Prompt, Step
from service.core.texts import normalise_language

# A call placed within this long is "shortly"; later, the text says when.
CALL_SOON = timedelta(minutes=10)
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def clock_words(local: datetime, lang: str | None) -> str:
    """'8:00 am' / '8:00 a. m.' (GSM-7 in both: no accented letters)."""
    hour = local.hour % 12 or 12
    if normalise_language(lang) == "es":
        return f"{hour}:{local.minute:02d} {'a. m.' if local.hour < 12 else 'p. m.'}"
    return f"{hour}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'}"


def when_words(instant: datetime, now: datetime, tz: str, lang: str | None) -> str:
    """When `instant` is, from `now`, in the zone `tz`: 'at 8:00 am' (later today),
    'tomorrow at 7:00 pm', 'on Friday at 7:00 pm'; in Spanish 'a las 8:00 a. m.',
    'mañana a las 7:00 p. m.', 'el 13/3 a las 7:00 p. m.' (a date: sábado is not GSM-7)."""
    zone = ZoneInfo(tz)
    local, today = instant.astimezone(zone), now.astimezone(zone).date()
    days = (local.date() - today).days
    clock = clock_words(local, lang)
    if normalise_language(lang) == "es":
        at = f"a la {clock}" if local.hour % 12 == 1 else f"a las {clock}"
        if days <= 0:
            return at
        return f"mañana {at}" if days == 1 else f"el {local.day}/{local.month} {at}"
    if days <= 0:
        return f"at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    return f"on {_WEEKDAYS_EN[local.weekday()]} at {clock}"


def status_reply(
    *,
    step: int,
    status: str,
    prompt: str | None,
    prompt_due_at: datetime | None,
    next_checkin_at: datetime | None,
    now: datetime,
    tz: str,
    lang: str | None,
) -> tuple[str, dict[str, str]]:
    """The STATUS text for where they are, and its values."""
    values = {"step": str(step)}
    if status == ParticipantStatus.PAUSED:
        return "status_paused", values
    if prompt == Prompt.AGREE:
        return "status_agree", values
    if step == Step.LISTENING:
        return "status_call", values
    if step == Step.LIVING and next_checkin_at is not None:
        return "status_checkin", {**values, "when": when_words(next_checkin_at, now, tz, lang)}
    if prompt:
        if prompt_due_at is not None and prompt_due_at > now:
            return "status_later", {**values, "when": when_words(prompt_due_at, now, tz, lang)}
        return "status_answer", values
    return "status", values


def call_reply(now: datetime, when: datetime, tz: str, lang: str | None) -> tuple[str, dict]:
    """What CALL answers: 'shortly', or when the call will come if waking hours make it
    wait ('we'll call you at 8:00 am, your time')."""
    if when - now <= CALL_SOON:
        return "call_requested", {}
    return "call_scheduled", {"when": when_words(when, now, tz, lang)}
