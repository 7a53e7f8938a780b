"""Twilio's webhook forms, read into the service's own values.

Whatever arrives is kept; only what a database column cannot hold is trimmed.
"""

from __future__ import annotations

from service.messaging.inbound import InboundSms
from service.voice.twiml import VoiceRequest

MAX_MEDIA = 10


def inbound_sms(form) -> InboundSms:
    try:
        num_media = max(0, min(int(form.get("NumMedia") or 0), MAX_MEDIA))
    except ValueError:
        num_media = 0
    media = tuple(
        _clean(form.get(f"MediaUrl{i}"), 2000) for i in range(num_media) if form.get(f"MediaUrl{i}")
    )
    return InboundSms(
        sid=_clean(form.get("MessageSid") or form.get("SmsSid"), 64),
        from_number=_clean(form.get("From"), 32),
        to_number=_clean(form.get("To"), 32),
        # PostgreSQL text cannot hold NUL; everything else is stored verbatim.
        body=_clean(form.get("Body"), None),
        media_urls=media,
        messaging_service_sid=_clean(form.get("MessagingServiceSid"), 34) or None,
    )


def _clean(value, limit: int | None) -> str:
    text = (value or "").replace("\x00", "\ufffd")
    return text[:limit] if limit else text


def voice_request(form) -> VoiceRequest:
    return VoiceRequest(
        call_sid=(form.get("CallSid") or "")[:64],
        from_number=(form.get("From") or "")[:32],
        to_number=(form.get("To") or "")[:32],
        direction=(form.get("Direction") or "inbound")[:32],
        digits=(form.get("Digits") or "").strip()[:8],
        speech=(form.get("SpeechResult") or "").strip()[:500],
    )
