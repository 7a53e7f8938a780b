"""The Twilio REST routes (2010-04-01 Messages, Calls, Recordings) and their state."""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

from localtwilio.audio import tone_wav
from localtwilio.callbacks import CallbackSender
from localtwilio.faults import Faults, Rule
from localtwilio.shapes import (
    API_VERSION,
    DELIVERY_ERRORS,
    Reply,
    account_path,
    call_json,
    error_reply,
    json_reply,
    list_json,
    media_json,
    message_json,
    new_sid,
    now,
    recording_json,
    rfc2822,
)

Form = dict[str, list[str]]
ROUTE = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)(?P<rest>/.*)$")
MESSAGE = re.compile(r"^/Messages/(?P<sid>(SM|MM)[0-9a-fA-F]{32})\.json$")
MEDIA_LIST = re.compile(r"^/Messages/(?P<sid>(SM|MM)[0-9a-fA-F]{32})/Media\.json$")
MEDIA = re.compile(
    r"^/Messages/(?P<sid>(SM|MM)[0-9a-fA-F]{32})/Media/(?P<media>ME[0-9a-fA-F]{32})\.json$"
)
CALL = re.compile(r"^/Calls/(?P<sid>CA[0-9a-fA-F]{32})\.json$")
CALL_RECORDINGS = re.compile(r"^/Calls/(?P<sid>CA[0-9a-fA-F]{32})/Recordings\.json$")
CALL_RECORDING = re.compile(
    r"^/Calls/(?P<call>CA[0-9a-fA-F]{32})/Recordings/(?P<sid>RE[0-9a-fA-F]{32})\.json$"
)
# A message that has not reached a final status cannot be deleted yet (Twilio says so too).
IN_PROGRESS = frozenset({"accepted", "queued", "sending", "receiving", "scheduled"})
RECORDING = re.compile(r"^/Recordings/(?P<sid>RE[0-9a-fA-F]{32})(?P<ext>\.json|\.wav|\.mp3)?$")


@dataclass
class Request:
    method: str
    path: str
    query: Form
    form: Form
    authorization: str | None = None


def first(form: Form, key: str) -> str | None:
    values = form.get(key)
    return values[0] if values else None


class Api:
    """The API's routes and state. Handler threads call `handle` concurrently; every read
    or write of the state happens under one lock, never while sleeping or posting."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        callbacks: CallbackSender,
        faults: Faults,
        sleep: Callable[[float], object],
        base_url: Callable[[], str],
        wav: bytes | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.callbacks = callbacks
        self.faults = faults
        self._sleep = sleep
        self._base_url = base_url
        self._wav = wav
        self._lock = threading.Lock()
        self.reset()

    # --- state -----------------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self.messages: dict[str, dict] = {}
            self.message_extras: dict[str, dict] = {}
            self.calls: dict[str, dict] = {}
            self.call_extras: dict[str, dict] = {}
            self.recordings: dict[str, dict] = {}
            self.media: dict[str, dict[str, dict]] = {}  # message sid -> media sid -> JSON
            self.requests: deque[dict] = deque(maxlen=100_000)
            self.rejected: list[dict] = []

    def message_records(self) -> list[dict]:
        """Accepted message creates: Twilio's JSON plus what only the request carried."""
        with self._lock:
            return [{**m, **self.message_extras[sid]} for sid, m in self.messages.items()]

    def media_records(self) -> list[dict]:
        with self._lock:
            return [dict(m) for media in self.media.values() for m in media.values()]

    def add_inbound(
        self, from_: str, to: str, body: str = "", media: int = 0, status: str = "received"
    ) -> dict:
        """A text someone sent to one of the account's numbers, as Twilio keeps it: its
        JSON (direction `inbound`, with `media_urls`, the URLs a webhook carries)."""
        sid = new_sid("MM" if media else "SM")
        form = {"To": [to], "From": [from_], "Body": [body]}
        record = message_json(self.account_sid, sid, form, now())
        record.update(direction="inbound", status=status, num_media=str(media))
        attached = {}
        for _ in range(media):
            item = media_json(self.account_sid, sid, new_sid("ME"), now())
            attached[item["sid"]] = item
        with self._lock:
            self.messages[sid] = record
            self.message_extras[sid] = {"status_callback": None, "media_url": []}
            self.media[sid] = attached
        base = self._base_url()
        urls = [base + item["uri"].removesuffix(".json") for item in attached.values()]
        return {**record, "media_urls": urls}

    def add_inbound_call(self, from_: str, to: str, duration: int = 30) -> str:
        """A call someone made to one of the account's numbers, as Twilio keeps it once it
        has ended; returns its sid."""
        sid = new_sid("CA")
        record = call_json(self.account_sid, sid, {"To": [to], "From": [from_]}, now())
        record.update(direction="inbound", status="completed", duration=str(duration))
        with self._lock:
            self.calls[sid] = record
            self.call_extras[sid] = {}
        return sid

    def call_records(self) -> list[dict]:
        with self._lock:
            return [{**c, **self.call_extras[sid]} for sid, c in self.calls.items()]

    def recording_records(self) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self.recordings.values()]

    def add_recording(
        self, sid: str | None = None, duration: int = 5, call_sid: str | None = None
    ) -> str:
        sid = sid or new_sid("RE")
        if not RECORDING.match(f"/Recordings/{sid}"):
            raise ValueError("a recording sid is 'RE' + 32 hex digits")
        record = recording_json(
            self.account_sid, sid, call_sid, int(duration), now(), self._base_url()
        )
        with self._lock:
            self.recordings[sid] = record
        return sid

    # --- dispatch --------------------------------------------------------------------------

    def handle(self, req: Request) -> Reply:
        match = ROUTE.match(req.path)
        if match is None:
            return error_reply(20404, path=req.path)
        if not self._authorized(req.authorization):
            return error_reply(20003)
        if match["account"] != self.account_sid:
            return error_reply(20404, path=req.path)
        rest, method = match["rest"], req.method
        if rest == "/Messages.json":
            if method == "POST":
                return self._create_message(req)
            if method == "GET":
                return self._list_messages(req)
        elif rest == "/Calls.json" and method == "POST":
            return self._create_call(req)
        elif found := MESSAGE.match(rest):
            if method == "GET":
                return self._fetch(self.messages, found["sid"], req.path)
            if method == "DELETE":
                return self._delete_message(found["sid"], req.path)
        elif found := MEDIA_LIST.match(rest):
            if method == "GET":
                return self._list_media(found["sid"], req.path)
        elif found := MEDIA.match(rest):
            if method in ("GET", "DELETE"):
                return self._media(method, found["sid"], found["media"], req.path)
        elif found := CALL.match(rest):
            if method == "GET":
                return self._fetch(self.calls, found["sid"], req.path)
            if method == "DELETE":
                return self._delete_call(found["sid"], req.path)
        elif found := CALL_RECORDINGS.match(rest):
            if method == "GET":
                return self._list_call_recordings(found["sid"], req.path)
        elif found := CALL_RECORDING.match(rest):
            if method in ("GET", "DELETE"):
                return self._call_recording(method, found["call"], found["sid"], req.path)
        elif found := RECORDING.match(rest):
            return self._recording(method, found["sid"], found["ext"], req.path)
        else:
            return error_reply(20404, path=req.path)
        return error_reply(20004, status=405)

    def _authorized(self, header: str | None) -> bool:
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        # compare_digest on both, always, so timing says nothing about which one was wrong
        return hmac.compare_digest(user, self.account_sid) & hmac.compare_digest(
            password, self.auth_token
        )

    def _reject(self, req: Request, code: int, rule: Rule | None = None, **fill: str) -> Reply:
        reply = error_reply(code, status=rule.http_status if rule else None, **fill)
        with self._lock:
            self.rejected.append(
                {"path": req.path, "form": req.form, "code": code, "status": reply.status}
            )
        return reply

    def _fetch(self, table: dict[str, dict], sid: str, path: str) -> Reply:
        with self._lock:
            record = table.get(sid)
            record = dict(record) if record else None
        return json_reply(200, record) if record else error_reply(20404, path=path)

    # --- messages --------------------------------------------------------------------------

    def _create_message(self, req: Request) -> Reply:
        form, to = req.form, first(req.form, "To")
        hang = self.faults.take("hang", to)
        if hang and not hang.after_record:
            self._sleep(hang.seconds)
        if not to:
            return self._reject(req, 21604)
        if not (first(form, "From") or first(form, "MessagingServiceSid")):
            return self._reject(req, 21603)
        if not (first(form, "Body") or form.get("MediaUrl") or first(form, "ContentSid")):
            return self._reject(req, 21602)
        if rule := self.faults.take("api", to):
            return self._reject(req, rule.code, rule, to=to)
        media = form.get("MediaUrl", [])
        sid = new_sid("MM" if media else "SM")
        record = message_json(self.account_sid, sid, form, now())
        attached = {}
        for _ in media:
            item = media_json(self.account_sid, sid, new_sid("ME"), now())
            attached[item["sid"]] = item
        extras = {
            "status_callback": first(form, "StatusCallback"),
            "media_url": form.get("MediaUrl", []),
        }
        delivery = self.faults.take("delivery", to)
        reply = json_reply(201, record)  # before the callbacks start changing the record
        with self._lock:
            self.messages[sid] = record
            self.message_extras[sid] = extras
            self.media[sid] = attached
        if extras["status_callback"] or self.callbacks.delay > 0:
            self.callbacks.schedule(lambda: self._deliver(sid, extras["status_callback"], delivery))
        else:
            self._deliver(sid, None, delivery)  # nothing to post: skip the thread hop
        if hang and hang.after_record:
            self._sleep(hang.seconds)
        return reply

    def _deliver(self, sid: str, callback: str | None, failure: Rule | None) -> None:
        """Move a message to sent, then delivered (or the injected failure), posting each."""
        self._update(self.messages, sid, status="sent", date_sent=rfc2822(now()))
        self._message_callback(sid, callback)
        if failure is None:
            self._update(self.messages, sid, status="delivered")
        else:
            self._update(
                self.messages,
                sid,
                status=failure.delivery_status,
                error_code=failure.code,
                error_message=DELIVERY_ERRORS.get(failure.code),
            )
        self._message_callback(sid, callback)

    def _message_callback(self, sid: str, url: str | None) -> None:
        with self._lock:
            message = dict(self.messages.get(sid) or {})
        if not url or not message:
            return
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": message["status"],
            "SmsStatus": message["status"],
            "To": message["to"],
            "From": message["from"],
            "MessagingServiceSid": message["messaging_service_sid"],
        }
        if message["error_code"]:
            params["ErrorCode"] = str(message["error_code"])
        self.callbacks.post(url, {k: v for k, v in params.items() if v is not None})

    def _update(self, table: dict[str, dict], sid: str, **changes: object) -> None:
        with self._lock:
            if sid in table:
                table[sid].update(changes, date_updated=rfc2822(now()))

    def _list_messages(self, req: Request) -> Reply:
        query = req.query
        to, from_ = first(query, "To"), first(query, "From")
        after, before = (
            _date_filter(first(query, "DateSent>")),
            _date_filter(first(query, "DateSent<")),
        )
        on = _date_filter(first(query, "DateSent"))
        page_size = max(1, min(int(first(query, "PageSize") or 50), 1000))
        page = max(0, int(first(query, "Page") or 0))
        with self._lock:
            found = [dict(m) for m in reversed(self.messages.values())]  # newest first, as Twilio
        found = [
            m
            for m in found
            if (not to or m["to"] == to)
            and (not from_ or m["from"] == from_)
            and _sent_matches(m, after, before, on)
        ]
        chunk = found[page * page_size : (page + 1) * page_size]
        base = {k: v[0] for k, v in query.items() if k not in ("Page", "PageToken")}
        base["PageSize"] = str(page_size)

        def page_uri(number: int) -> str:
            params = urlencode({**base, "Page": number})
            return f"{account_path(self.account_sid)}/Messages.json?{params}"

        has_next = (page + 1) * page_size < len(found)
        return json_reply(
            200,
            {
                "end": page * page_size + max(len(chunk) - 1, 0),
                "first_page_uri": page_uri(0),
                "messages": chunk,
                "next_page_uri": page_uri(page + 1) + f"&PageToken=PA{page + 1}"
                if has_next
                else None,
                "page": page,
                "page_size": page_size,
                "previous_page_uri": page_uri(page - 1) if page else None,
                "start": page * page_size,
                "uri": page_uri(page),
            },
        )

    def _delete_message(self, sid: str, path: str) -> Reply:
        """DELETE a message: its media go with it, as at Twilio; one still in progress
        cannot be deleted yet (409, code 20009)."""
        with self._lock:
            record = self.messages.get(sid)
            if record is not None and record["status"] in IN_PROGRESS:
                return error_reply(20009)
            if record is not None:
                del self.messages[sid]
                self.message_extras.pop(sid, None)
                self.media.pop(sid, None)
        return Reply(204, b"", "") if record else error_reply(20404, path=path)

    def _list_media(self, sid: str, path: str) -> Reply:
        with self._lock:
            if sid not in self.messages:
                return error_reply(20404, path=path)
            items = [dict(m) for m in self.media.get(sid, {}).values()]
        return json_reply(200, list_json("media_list", items, path))

    def _media(self, method: str, sid: str, media_sid: str, path: str) -> Reply:
        with self._lock:
            record = self.media.get(sid, {}).get(media_sid)
            if record is not None and method == "DELETE":
                del self.media[sid][media_sid]
        if record is None:
            return error_reply(20404, path=path)
        return Reply(204, b"", "") if method == "DELETE" else json_reply(200, record)

    # --- calls -----------------------------------------------------------------------------

    def _create_call(self, req: Request) -> Reply:
        form, to = req.form, first(req.form, "To")
        hang = self.faults.take("hang", to)
        if hang and not hang.after_record:
            self._sleep(hang.seconds)
        if not to:
            return self._reject(req, 21201)
        if not first(form, "From"):
            return self._reject(req, 21213)
        if not (first(form, "Url") or first(form, "Twiml") or first(form, "ApplicationSid")):
            return self._reject(req, 21205)
        if rule := self.faults.take("api", to):
            return self._reject(req, rule.code, rule, to=to)
        outcome = self.faults.take("call", to)
        sid = new_sid("CA")
        record = call_json(self.account_sid, sid, form, now())
        events = [e for value in form.get("StatusCallbackEvent", []) for e in value.split()]
        extras = {
            "url": first(form, "Url"),
            "twiml": first(form, "Twiml"),
            "status_callback": first(form, "StatusCallback"),
            "status_callback_event": events,
            "record": (first(form, "Record") or "").lower() == "true",
            "recording_status_callback": first(form, "RecordingStatusCallback"),
        }
        reply = json_reply(201, record)
        with self._lock:
            self.calls[sid] = record
            self.call_extras[sid] = extras
        final = outcome.outcome if outcome else "completed"
        self.callbacks.schedule(lambda: self._run_call(sid, extras, final))
        if hang and hang.after_record:
            self._sleep(hang.seconds)
        return reply

    def _run_call(self, sid: str, extras: dict, final: str) -> None:
        """Walk the call to its outcome, posting the progress events that were asked for."""
        answered = final == "completed"
        duration = 5 if answered else 0
        wanted = set(extras["status_callback_event"] or ["completed"])
        steps = [("initiated", "initiated"), ("ringing", "ringing")]
        if final in ("busy", "failed"):
            steps = steps[:1]
        if answered:
            steps.append(("answered", "in-progress"))
        steps.append(("completed", final))
        recording = None
        for number, (event, status) in enumerate(steps):
            changes: dict[str, object] = {"status": status}
            if event == "answered":
                changes["start_time"] = rfc2822(now())
            if event == "completed":
                changes.update(duration=str(duration), end_time=rfc2822(now()))
                if answered and extras["record"]:
                    recording = self.add_recording(duration=duration, call_sid=sid)
            self._update(self.calls, sid, **changes)
            if extras["status_callback"] and event in wanted:
                self._call_callback(sid, extras["status_callback"], number, event, recording)
        if recording and extras["recording_status_callback"]:
            self.callbacks.post(
                extras["recording_status_callback"],
                {
                    "AccountSid": self.account_sid,
                    "CallSid": sid,
                    "RecordingSid": recording,
                    "RecordingUrl": self._recording_url(recording),
                    "RecordingStatus": "completed",
                    "RecordingDuration": str(duration),
                    "RecordingChannels": "1",
                    "RecordingSource": "OutboundAPI",
                },
            )

    def _call_callback(
        self, sid: str, url: str, number: int, event: str, recording: str | None
    ) -> None:
        with self._lock:
            call = dict(self.calls[sid])
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": sid,
            "CallStatus": call["status"],
            "Called": call["to"],
            "Caller": call["from"],
            "Direction": "outbound-api",
            "From": call["from"],
            "To": call["to"],
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(number),
            "Timestamp": rfc2822(now()),
        }
        if event == "completed":
            params["CallDuration"] = call["duration"]
            params["Duration"] = str(-(-int(call["duration"]) // 60))  # minutes, rounded up
            if recording:
                params["RecordingSid"] = recording
                params["RecordingUrl"] = self._recording_url(recording)
        self.callbacks.post(url, params)

    def _delete_call(self, sid: str, path: str) -> Reply:
        with self._lock:
            record = self.calls.pop(sid, None)
            self.call_extras.pop(sid, None)
        return Reply(204, b"", "") if record else error_reply(20404, path=path)

    def _list_call_recordings(self, sid: str, path: str) -> Reply:
        with self._lock:
            items = [dict(r) for r in self.recordings.values() if r["call_sid"] == sid]
            known = sid in self.calls or bool(items)
        if not known:
            return error_reply(20404, path=path)
        return json_reply(200, list_json("recordings", items, path))

    def _call_recording(self, method: str, call_sid: str, sid: str, path: str) -> Reply:
        with self._lock:
            record = self.recordings.get(sid)
            if record is not None and record["call_sid"] != call_sid:
                record = None
            if record is not None and method == "DELETE":
                del self.recordings[sid]
        if record is None:
            return error_reply(20404, path=path)
        return Reply(204, b"", "") if method == "DELETE" else json_reply(200, record)

    # --- recordings ------------------------------------------------------------------------

    def _recording_url(self, sid: str) -> str:
        return f"{self._base_url()}{account_path(self.account_sid)}/Recordings/{sid}"

    def _recording(self, method: str, sid: str, ext: str | None, path: str) -> Reply:
        with self._lock:
            record = self.recordings.get(sid)
            if record is not None and method == "DELETE":
                del self.recordings[sid]
        if record is None:
            return error_reply(20404, path=path)
        if method == "DELETE":
            return Reply(204, b"", "")
        if method != "GET":
            return error_reply(20004, status=405)
        if ext == ".json":
            return json_reply(200, record)
        if ext == ".mp3":
            # Real Twilio transcodes; this fake only has WAV, and says so rather than lie.
            return error_reply(20404, path=path + " (localtwilio serves .wav only)")
        audio = self._wav or tone_wav(min(float(record["duration"]), 30.0) or 1.0)
        return Reply(200, audio, "audio/x-wav")


def _date_filter(value: str | None) -> datetime | str | None:
    """'2024-05-01' stays a date string; '2024-05-01T10:00:00Z' becomes a datetime."""
    if not value:
        return None
    if len(value) == 10:
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _sent_matches(message: dict, after, before, on) -> bool:
    if after is None and before is None and on is None:
        return True
    if not message["date_sent"]:
        return False  # not sent yet: there is no date_sent to compare
    sent = parsedate_to_datetime(message["date_sent"])
    day = sent.date().isoformat()

    def cmp(bound, inclusive_op):
        return inclusive_op(day, bound) if isinstance(bound, str) else inclusive_op(sent, bound)

    return (
        (after is None or cmp(after, lambda a, b: a >= b))
        and (before is None or cmp(before, lambda a, b: a <= b))
        and (on is None or cmp(on, lambda a, b: a == b))
    )
