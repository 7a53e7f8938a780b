"""Twilio's webhook forms, read into the service's own values.

Whatever arrives is kept; only what a database column cannot hold is trimmed (its length,
and NUL, which PostgreSQL text cannot hold). Every field a webhook reads goes through
`field` or `number`.
"""

from __future__ import annotations

from service.core.numbers import whole_number
from service.messaging.inbound import InboundSms
from service.voice.twiml import VoiceRequest

MAX_MEDIA = 10


def field(form, name: str, limit: int | None = None) -> str:
    """The text of one field ("" when absent), NUL replaced, cut to `limit`."""
    text = (form.get(name) or "").replace("\x00", "\ufffd")
    return text[:limit] if limit else text


def number(form, name: str) -> int | None:
    """A whole-number field (a duration, a count), or None when it is not one."""
    return whole_number(form.get(name))


def inbound_sms(form) -> InboundSms:
    num_media = min(number(form, "NumMedia") or 0, MAX_MEDIA)
    media = tuple(
        field(form, f"MediaUrl{i}", 2000) for i in range(num_media) if form.get(f"MediaUrl{i}")
    )
    return InboundSms(
        sid=field(form, "MessageSid", 64) or field(form, "SmsSid", 64),
        from_number=field(form, "From", 32),
        to_number=field(form, "To", 32),
        body=field(form, "Body"),
        media_urls=media,
        messaging_service_sid=field(form, "MessagingServiceSid", 34) or None,
    )


def voice_request(form) -> VoiceRequest:
    return VoiceRequest(
        call_sid=field(form, "CallSid", 64),
        from_number=field(form, "From", 32),
        to_number=field(form, "To", 32),
        direction=field(form, "Direction", 32) or "inbound",
        digits=field(form, "Digits").strip()[:8],
        speech=field(form, "SpeechResult").strip()[:500],
    )
