"""Mask helpers for anything that goes into a log line."""

from __future__ import annotations

from urllib.parse import urlsplit

MASK = "•"


def mask_phone(number: str | None) -> str:
    """'+15551234589' → '+•••••••••89': every digit but the last two is masked.

    Other characters ('+', 'whatsapp:') stay so the shape is still readable. A value with
    fewer than three digits (a client name, say) is masked whole.
    """
    if not number:
        return ""
    digits = sum(ch.isdigit() for ch in number)
    if digits < 3:
        return MASK * 3
    to_mask = digits - 2
    out = []
    for ch in number:
        if ch.isdigit() and to_mask:
            out.append(MASK)
            to_mask -= 1
        else:
            out.append(ch)
    return "".join(out)


def mask_url(url: str | None) -> str:
    """'https://user:pw@api.twilio.com/2010-04-01/…?To=…' → 'https://api.twilio.com/…'.

    The path can hold account, call or recording SIDs and the query phone numbers, so both
    go; credentials in the authority go too.
    """
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # malformed port or IPv6 literal: keep nothing of it
        return "…"
    if not parts.scheme or not host:
        return "…"
    tail = "/…" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{host}{port}{tail}"
