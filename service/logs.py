"""Logging that never holds a full phone number, a message body or a recording URL.

Our own code logs masked values; this filter is the safety net for everything else,
including the twilio client's logger, which logs request URLs and query parameters
(with To/From numbers) at INFO.
"""

from __future__ import annotations

import logging
import re

# An E.164 number (+ or its URL encoding %2B, then 8 to 15 digits), or a bare run of
# 10 to 15 digits (a national number without its +).
PHONE = re.compile(r"(?<![\w.])(?:(?:\+|%2B)\d{7,15}|\d{10,15})(?!\w)")
# Any URL that points at a recording, media or a message resource, and query strings.
SENSITIVE_URL = re.compile(r"https?://\S*(?:Recordings|Media|Messages)\S*", re.IGNORECASE)
QUERY = re.compile(r"(https?://[^\s?]+)\?\S+")


def redact(text: str) -> str:
    """Mask numbers and sensitive URLs in one log line."""
    text = SENSITIVE_URL.sub(lambda m: _mask_url(m.group(0)), text)
    text = QUERY.sub(r"\1?…", text)
    return PHONE.sub(lambda m: _mask_number(m.group(0)), text)


def _mask_number(number: str) -> str:
    return "•" * max(len(number) - 2, 0) + number[-2:]


def _mask_url(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/…"


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with `redact` before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = ()
        return True


def install_redaction(level: str = "INFO") -> None:
    """Attach the filter to every root handler (adding one if there is none)."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
