"""Error reports to Sentry (optional: SENTRY_DSN), redacted like the logs.

Nothing a participant said or who they are leaves in a report: every string of an event and
of a breadcrumb goes through the log redaction (`logs.redact`: phone numbers masked,
recording, media and message URLs and query strings cut to their host), request bodies and
cookies are dropped (Twilio's form holds the message body), local variables are neither
captured nor kept, and message bodies and transcripts are cut wherever they show up
with their name: form fields (`Body=…`), keyed values (`'Body': '…'`, `body='…'`) and the
parameters SQLAlchemy quotes in its errors (`[parameters: …]`). A hook that fails drops
the event rather than send it unredacted.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from service.infra.logs import redact

log = logging.getLogger(__name__)

FILTERED = "[Filtered]"
# Fields that hold what a participant wrote or said (Twilio's form, our rows, transcripts).
BODY_KEYS = frozenset(
    {
        "body",
        "speechresult",
        "unstablespeechresult",
        "transcriptiontext",
        "transcript",
        "transcription",
        "transcription_text",
        "media_urls",
    }
)
_NAMES = (
    r"(?:Body|SpeechResult|UnstableSpeechResult|TranscriptionText|transcript(?:ion)?(?:_text)?)"
)
# 'Body': '…' / "body": "…" (a dict's repr, JSON) and body='…' (a model's or call's repr).
_QUOTED = re.compile(
    rf"""(?P<key>['"]?\b{_NAMES}['"]?\s*[:=]\s*)(?P<q>['"])(?:\\.|(?!(?P=q)).)*(?P=q)""",
    re.IGNORECASE | re.DOTALL,
)
# Body=I%27m+sorry&From=… (a form or a query string).
_FORM = re.compile(rf"(?P<key>\b{_NAMES}=)(?!['\"])[^&\s]*", re.IGNORECASE)
# SQLAlchemy's "[parameters: ('I am sorry', '+1201…')]": the values of a failed statement.
_SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*")
# Sentry's own bookkeeping, never user data (a 10-digit epoch would look like a number).
_STRUCTURAL = frozenset(
    {"event_id", "timestamp", "start_timestamp", "trace_id", "span_id", "parent_span_id", "sdk"}
)
_DROPPED_HEADERS = frozenset({"authorization", "cookie", "x-twilio-signature"})


def init_sentry(settings, **options: Any) -> bool:
    """Start error reporting when SENTRY_DSN is set; returns whether it did. `options`
    reach sentry_sdk.init as they are (tests pass a transport)."""
    if not settings.sentry_dsn:
        return False
    import sentry_sdk

    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.env,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=before_send,
        before_send_transaction=before_send,
        before_breadcrumb=before_breadcrumb,
        **options,
    )
    return True


def before_send(event: dict, hint: dict | None = None) -> dict | None:
    """The event with nothing sensitive left in it (or None, dropped, if scrubbing fails)."""
    try:
        return scrub_event(event)
    except Exception:
        log.warning("error report dropped: it could not be redacted")
        return None


def before_breadcrumb(crumb: dict, hint: dict | None = None) -> dict | None:
    try:
        return _walk(crumb)
    except Exception:
        return None


def scrub_event(event: dict) -> dict:
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies"):
            request.pop(key, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                k: v for k, v in headers.items() if str(k).lower() not in _DROPPED_HEADERS
            }
    return _walk(event)


def scrub_text(text: str) -> str:
    """One string, redacted: bodies by their names, then numbers and URLs as in the logs."""
    text = _SQL_PARAMETERS.sub("[parameters: …]", text)
    text = _QUOTED.sub(lambda m: f"{m.group('key')}{m.group('q')}…{m.group('q')}", text)
    text = _FORM.sub(lambda m: m.group("key") + "…", text)
    return redact(text)


def _walk(value: Any, key: str | None = None) -> Any:
    if isinstance(value, str):
        return value if key in _STRUCTURAL else scrub_text(value)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            name = k if not isinstance(k, str) else scrub_text(k)
            if isinstance(k, str) and k.lower() in BODY_KEYS:
                out[name] = FILTERED
            elif k == "vars" and isinstance(v, dict):  # a stack frame's local variables
                continue
            else:
                out[name] = _walk(v, k if isinstance(k, str) else None)
        return out
    if isinstance(value, list | tuple):
        return [_walk(v, key) for v in value]
    return value
