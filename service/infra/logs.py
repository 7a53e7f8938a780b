"""Logging that never holds a full phone number, a message body or a recording URL.

Our own code logs masked values; this filter is the safety net for everything else,
including the twilio client's logger, which logs request URLs and query parameters
(with To/From numbers) at INFO.
"""

from __future__ import annotations

import logging
import re
import threading
import time

from service.core.redact import mask_phone

# An E.164 number (+ or its URL encoding %2B, then 8 to 15 digits), or a bare run of
# 10 to 15 digits (a national number without its +).
PHONE = re.compile(r"(?<![\w.])(?:(?:\+|%2B)\d{7,15}|\d{10,15})(?!\w)")
# Any URL that points at a recording, media or a message resource, and query strings.
SENSITIVE_URL = re.compile(r"https?://\S*(?:Recordings|Media|Messages)\S*", re.IGNORECASE)
QUERY = re.compile(r"(https?://[^\s?]+)\?\S+")
# The same resources as a bare path, as urllib3 logs a request ('"GET /2010-04-01/…" 200').
RESOURCE_PATH = re.compile(r"/[^\s\"']*/(?:Recordings|Media)\b[^\s\"']*")


def redact(text: str) -> str:
    """Mask numbers and sensitive URLs in one log line."""
    text = SENSITIVE_URL.sub(lambda m: _mask_url(m.group(0)), text)
    text = QUERY.sub(r"\1?…", text)
    text = RESOURCE_PATH.sub("/…", text)
    return PHONE.sub(lambda m: _mask_number(m.group(0)), text)


def _mask_number(number: str) -> str:
    """A number as a log line holds it ("+1…", URL-encoded "%2B1…", or bare digits),
    masked by the one rule of core/redact.py."""
    prefix = "%2B" if number.startswith("%2B") else ""
    return prefix + mask_phone(number[len(prefix) :])


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
        # A traceback is written after the message: an exception's text can hold a number
        # or a URL too. Formatters use exc_text as is once it is set.
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_TRACEBACKS = logging.Formatter()


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


class RepeatedError:
    """A failure that repeats (every send while Twilio is away) logged as one ERROR line
    per `every_s`, with how many times it happened, rather than one line per time."""

    def __init__(self, logger: str, what: str, every_s: float = 60.0, clock=time.monotonic):
        self.log, self.what = logging.getLogger(logger), what
        self.every_s, self.clock = every_s, clock
        self._lock = threading.Lock()
        self._last: float | None = None
        self._count = 0

    def happened(self, reason: str) -> None:
        with self._lock:
            self._count += 1
            now = self.clock()
            if self._last is not None and now - self._last < self.every_s:
                return
            count, self._count, self._last = self._count, 0, now
        self.log.error("%s (%s): %d time(s) since the last report", self.what, reason, count)
