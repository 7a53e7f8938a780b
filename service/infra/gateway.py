"""The Twilio gateway: the one place the domain talks to Twilio (or pretends to, locally).

Every failure comes out as `GatewayError` with a `kind` the domain acts on:
`opted_out`, `undeliverable`, `transient` (retry; if `outcome_unknown`, reconcile first)
or `permanent`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

import requests
import urllib3
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.response import Response
from urllib3.exceptions import NewConnectionError

from service.core.redact import mask_phone

log = logging.getLogger(__name__)

Kind = Literal["opted_out", "undeliverable", "transient", "permanent"]

OPTED_OUT = frozenset({21610})
# Errors about the recipient's number: it cannot get our texts or calls. Listed one by one
# because many other 21xxx codes (21603 no From, 21606 bad From, 21408 region not enabled,
# 217xx service setup) are our own mistakes, and must not mark a person unreachable.
UNDELIVERABLE = frozenset(
    {21211, 21214, 21216, 21217, 21401, 21407, 21421, 21612, 21614, 21635}
    | {30003, 30004, 30005, 30006, 30007}
)
# Rate limits and queue overflows: the same request can succeed later.
TRANSIENT = frozenset({20429, 20500, 20503, 21611, 30001})
PHONE_IN_TEXT = re.compile(r"\+?\d[\d ()-]{6,}\d")
TWILIO_API = "https://api.twilio.com"


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str
    error_code: int | None = None


@dataclass(frozen=True)
class CallResult:
    sid: str
    status: str


class GatewayError(Exception):
    """A Twilio call failed; `kind` says what the caller should do about it.

    `outcome_unknown` is True when the request may have reached Twilio (a read timeout or a
    dropped connection after sending): look the message up before sending it again.
    """

    def __init__(
        self,
        code: int | None,
        http_status: int | None,
        kind: Kind,
        message: str,
        *,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.kind = kind
        self.message = message
        self.outcome_unknown = outcome_unknown

    def __repr__(self) -> str:
        return (
            f"GatewayError(code={self.code!r}, http_status={self.http_status!r}, "
            f"kind={self.kind!r}, outcome_unknown={self.outcome_unknown!r})"
        )


def classify_error_code(code: int | str | None, http_status: int | None = None) -> Kind:
    """The kind of a Twilio error code (an API error or a status callback's ErrorCode)."""
    try:
        code = int(code) if code not in (None, "") else None
    except (TypeError, ValueError):
        code = None
    if http_status == 429 or (http_status or 0) >= 500 or code in TRANSIENT:
        return "transient"
    if code in OPTED_OUT:
        return "opted_out"
    if code in UNDELIVERABLE:
        return "undeliverable"
    return "permanent"


def _redact_text(text: str) -> str:
    # Twilio puts the number in some messages ("The 'To' number +1555… is not valid").
    return PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)


def _from_twilio(exc: TwilioException) -> GatewayError:
    if isinstance(exc, TwilioRestException):
        code, status, text = exc.code, exc.status, exc.msg
    elif isinstance(exc, TwilioServiceException):  # RFC 9457 bodies: not a TwilioRestException
        code, status, text = exc.code, exc.status, exc.detail or exc.title
    elif len(exc.args) > 1 and isinstance(exc.args[1], Response):
        # A failed list page raises a bare TwilioException("Unable to fetch page", response).
        response = exc.args[1]
        code, status, text = _error_code(response.text), response.status_code, exc.args[0]
    else:
        code, status, text = None, None, str(exc)
    code = code if isinstance(code, int) else None
    return GatewayError(code, status, classify_error_code(code, status), _redact_text(str(text)))


def _from_requests(exc: requests.RequestException) -> GatewayError:
    name = type(exc).__name__
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return GatewayError(None, None, "permanent", f"bad Twilio URL ({name})")
    # Before the request left: connect timeout or refused. Anything later may have landed.
    not_sent = isinstance(exc, requests.exceptions.ConnectTimeout) or (
        isinstance(exc, requests.ConnectionError) and _refused(exc)
    )
    return GatewayError(
        None, None, "transient", f"Twilio unreachable ({name})", outcome_unknown=not not_sent
    )


def _from_urllib3(exc: urllib3.exceptions.HTTPError) -> GatewayError:
    """As `_from_requests`, for a request sent through urllib3 itself (no retries)."""
    name = type(exc).__name__
    if isinstance(exc, urllib3.exceptions.LocationValueError | urllib3.exceptions.URLSchemeUnknown):
        return GatewayError(None, None, "permanent", f"bad Twilio URL ({name})")
    # Before the request left: connect timeout or refused (NewConnectionError is one of
    # those). Anything later (a read timeout, a reset mid-answer) may have landed.
    not_sent = isinstance(exc, urllib3.exceptions.ConnectTimeoutError)
    return GatewayError(
        None, None, "transient", f"Twilio unreachable ({name})", outcome_unknown=not not_sent
    )


def _refused(exc: requests.ConnectionError) -> bool:
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError | ConnectionRefusedError)


class Gateway(Protocol):
    """What the service asks of Twilio: the real one (`TwilioGateway`) or the console."""

    def send_message(
        self,
        to: str,
        body: str,
        *,
        from_: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
        media_url: str | Sequence[str] | None = None,
    ) -> SendResult: ...

    def place_call(
        self,
        to: str,
        from_: str,
        *,
        url: str,
        status_callback: str | None = None,
        status_callback_event: Sequence[str] | None = None,
    ) -> CallResult: ...

    def find_sent_message(
        self,
        to: str,
        *,
        from_: str | None = None,
        body: str | None = None,
        sent_after: datetime | None = None,
    ) -> SendResult | None: ...

    def fetch_message(self, sid: str) -> SendResult | None: ...

    def fetch_recording(self, recording_sid: str) -> bytes: ...

    def delete_recording(self, recording_sid: str) -> None: ...

    def delete_message(self, sid: str) -> None:
        """Delete a text (and its media) at Twilio; one already gone counts as deleted."""
        ...

    def delete_call(self, sid: str) -> None:
        """Delete a call (and its recordings) at Twilio; one already gone counts as deleted."""
        ...


def _error_code(body: str) -> int | None:
    """The Twilio error code in an error body, if it has one."""
    try:
        code = json.loads(body).get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) else None


class ConsoleGateway:
    """No credentials: texts and calls are logged (masked) and kept, never sent anywhere."""

    def __init__(self, keep: int = 200) -> None:
        self.keep = keep
        self.sent: list[dict] = []
        self.calls: list[dict] = []
        self._lock = threading.Lock()

    def send_message(
        self,
        to: str,
        body: str,
        *,
        from_: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
        media_url: str | Sequence[str] | None = None,
    ) -> SendResult:
        result = SendResult("SMconsole" + uuid.uuid4().hex[:25], "console")
        record = {
            "sid": result.sid,
            "to": to,
            "body": body,
            "from_": from_,
            "messaging_service_sid": messaging_service_sid,
            "status_callback": status_callback,
            "media_url": media_url,
            "at": datetime.now(UTC),
        }
        self._keep(self.sent, record)
        log.info("console SMS to %s (%d chars), not sent", mask_phone(to), len(body or ""))
        return result

    def place_call(
        self,
        to: str,
        from_: str,
        *,
        url: str,
        status_callback: str | None = None,
        status_callback_event: Sequence[str] | None = None,
    ) -> CallResult:
        result = CallResult("CAconsole" + uuid.uuid4().hex[:25], "console")
        self._keep(self.calls, {"sid": result.sid, "to": to, "from_": from_, "url": url})
        log.info("console call to %s, not placed", mask_phone(to))
        return result

    def find_sent_message(
        self,
        to: str,
        *,
        from_: str | None = None,
        body: str | None = None,
        sent_after: datetime | None = None,
    ) -> SendResult | None:
        if sent_after is not None and sent_after.tzinfo is None:
            sent_after = sent_after.replace(tzinfo=UTC)
        with self._lock:
            for record in reversed(self.sent):
                if record["to"] != to or (from_ and record["from_"] != from_):
                    continue
                if body is not None and record["body"] != body:
                    continue
                if sent_after and record["at"] < sent_after:
                    return None
                return SendResult(record["sid"], "console")
        return None

    def fetch_message(self, sid: str) -> SendResult | None:
        with self._lock:
            known = any(record["sid"] == sid for record in self.sent)
        return SendResult(sid, "console") if known else None

    def fetch_recording(self, recording_sid: str) -> bytes:
        raise GatewayError(None, None, "permanent", "console mode has no recordings")

    def delete_recording(self, recording_sid: str) -> None:
        raise GatewayError(None, None, "permanent", "console mode has no recordings")

    def delete_message(self, sid: str) -> None:
        """Forget the console's own record of a text (nothing exists anywhere else)."""
        with self._lock:
            self.sent[:] = [record for record in self.sent if record["sid"] != sid]

    def delete_call(self, sid: str) -> None:
        with self._lock:
            self.calls[:] = [record for record in self.calls if record["sid"] != sid]

    def _keep(self, items: list[dict], record: dict) -> None:
        with self._lock:
            items.append(record)
            del items[: -self.keep]
