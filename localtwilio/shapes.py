"""Twilio-shaped values: SIDs, dates, error bodies and the JSON of each resource."""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from service.core.segments import segment_info

API_VERSION = "2010-04-01"
ERROR_DOCS = "https://www.twilio.com/docs/errors/"

# Error codes we can answer with: HTTP status and Twilio's wording ({to} is filled in,
# as Twilio does put the number in some messages).
API_ERRORS: dict[int, tuple[int, str]] = {
    20001: (400, "Invalid parameter"),
    20003: (401, "Authenticate"),
    20004: (405, "Method not allowed"),
    20009: (409, "Cannot delete a resource that is still in progress"),
    20404: (404, "The requested resource {path} was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "An internal server error has occurred"),
    20503: (503, "Service is unavailable. Please try again"),
    21201: (400, "No 'To' number is specified"),
    21205: (400, "Url parameter is required."),
    21211: (400, "The 'To' number {to} is not a valid phone number."),
    21213: (400, "No 'From' number is specified"),
    21602: (400, "Message body is required."),
    21603: (400, "The 'From' number is required to send a Message."),
    21604: (400, "A 'To' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number {to} is not a valid mobile number"),
}
# Plain HTTP statuses people ask for ("fail with 500") and the code Twilio uses for them.
STATUS_CODES = {429: 20429, 500: 20500, 503: 20503}

DELIVERY_ERRORS: dict[int, str] = {
    30001: "Queue overflow",
    30002: "Account suspended",
    30003: "Unreachable destination handset",
    30004: "Message blocked",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
}


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, body bytes, content type and extra headers."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, payload: object, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(payload).encode(), "application/json", headers or {})


def error_reply(code: int, *, status: int | None = None, **fill: str) -> Reply:
    """A Twilio error body: {"code", "message", "more_info", "status"}."""
    default_status, template = API_ERRORS.get(code, (400, "Error {code}"))
    status = status or default_status
    fill.setdefault("to", "")
    fill.setdefault("path", "")
    message = template.format(code=code, **fill)
    body = {"code": code, "message": message, "more_info": ERROR_DOCS + str(code), "status": status}
    headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if status == 401 else None
    return json_reply(status, body, headers)


_SID_RUN = uuid.uuid4().hex[:16]  # random per process, so SIDs differ across restarts
_SID_COUNTER = itertools.count(1)


def new_sid(prefix: str) -> str:
    """prefix + 32 hex digits, unique in this process (cheaper than a uuid4 per request)."""
    return f"{prefix}{_SID_RUN}{next(_SID_COUNTER):016x}"


def now() -> datetime:
    return datetime.now(UTC)


def rfc2822(moment: datetime | None) -> str | None:
    """'Thu, 24 Aug 2023 05:01:45 +0000', the date format of the 2010-04-01 API."""
    return format_datetime(moment.replace(microsecond=0)) if moment else None


def account_path(account_sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}"


def message_json(account_sid: str, sid: str, form: dict[str, list[str]], created: datetime) -> dict:
    """The JSON Twilio answers a message create with (and lists it with later)."""
    body = _first(form, "Body") or ""
    media = form.get("MediaUrl", [])
    uri = f"{account_path(account_sid)}/Messages/{sid}"
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": body,
        "date_created": rfc2822(created),
        "date_sent": None,
        "date_updated": rfc2822(created),
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": _first(form, "From"),
        "messaging_service_sid": _first(form, "MessagingServiceSid"),
        "num_media": str(len(media)),
        "num_segments": str(segment_info(body).segments if body else 1),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": _first(form, "To"),
        "uri": f"{uri}.json",
    }


def media_json(account_sid: str, message_sid: str, sid: str, created: datetime) -> dict:
    """A Media resource of a message (an MMS attachment Twilio keeps)."""
    return {
        "account_sid": account_sid,
        "content_type": "image/jpeg",
        "date_created": rfc2822(created),
        "date_updated": rfc2822(created),
        "parent_sid": message_sid,
        "sid": sid,
        "uri": f"{account_path(account_sid)}/Messages/{message_sid}/Media/{sid}.json",
    }


def list_json(key: str, items: list[dict], uri: str) -> dict:
    """One page holding every item (the lists here are small)."""
    return {
        key: items,
        "end": max(len(items) - 1, 0),
        "first_page_uri": f"{uri}?Page=0&PageSize=100",
        "next_page_uri": None,
        "page": 0,
        "page_size": 100,
        "previous_page_uri": None,
        "start": 0,
        "uri": f"{uri}?Page=0&PageSize=100",
    }


def call_json(account_sid: str, sid: str, form: dict[str, list[str]], created: datetime) -> dict:
    uri = f"{account_path(account_sid)}/Calls/{sid}"
    return {
        "account_sid": account_sid,
        "answered_by": None,
        "api_version": API_VERSION,
        "caller_name": None,
        "date_created": rfc2822(created),
        "date_updated": rfc2822(created),
        "direction": "outbound-api",
        "duration": None,
        "end_time": None,
        "forwarded_from": None,
        "from": _first(form, "From"),
        "from_formatted": _first(form, "From"),
        "group_sid": None,
        "parent_call_sid": None,
        "phone_number_sid": None,
        "price": None,
        "price_unit": "USD",
        "queue_time": "0",
        "sid": sid,
        "start_time": None,
        "status": "queued",
        "subresource_uris": {"recordings": f"{uri}/Recordings.json"},
        "to": _first(form, "To"),
        "to_formatted": _first(form, "To"),
        "trunk_sid": None,
        "uri": f"{uri}.json",
    }


def recording_json(
    account_sid: str, sid: str, call_sid: str | None, duration: int, created: datetime, base: str
) -> dict:
    uri = f"{account_path(account_sid)}/Recordings/{sid}"
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "call_sid": call_sid,
        "channels": 1,
        "conference_sid": None,
        "date_created": rfc2822(created),
        "date_updated": rfc2822(created),
        "duration": str(duration),
        "encryption_details": None,
        "error_code": None,
        "media_url": f"{base}{uri}",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "source": "RecordVerb",
        "start_time": rfc2822(created),
        "status": "completed",
        "subresource_uris": {"transcriptions": f"{uri}/Transcriptions.json"},
        "uri": f"{uri}.json",
    }


def _first(form: dict[str, list[str]], key: str) -> str | None:
    values = form.get(key)
    return values[0] if values else None
