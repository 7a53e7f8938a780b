"""Error reports (SENTRY_DSN): sent, with no phone number, message body or recording URL."""

from __future__ import annotations

import logging
from urllib.parse import quote, quote_plus

import pytest
import sentry_sdk
import sqlalchemy as sa
from sentry_sdk.transport import Transport

from service.app import create_app, worker_services
from service.infra import errors
from service.infra.errors import init_sentry

# sentry-sdk 2.75 deprecates send_default_pii (for data_collection); unset means the same,
# but init_sentry states the intent.
pytestmark = pytest.mark.filterwarnings(
    "ignore:The send_default_pii option is deprecated:DeprecationWarning"
)

DSN = "https://public@sentry.invalid/1"
PHONE = "+12015550123"
BODY = "I am so sorry I lied to you about the money"
RECORDING_URL = (
    "https://api.twilio.com/2010-04-01/Accounts/AC" + "a1" * 16 + "/Recordings/RE" + "b2" * 16
)
# Each must be absent from every envelope, in every spelling an event could hold it.
SECRETS = [
    PHONE,
    PHONE[1:],  # the bare digits
    PHONE[2:],  # the national number
    quote(PHONE, safe=""),  # %2B12015550123
    BODY,
    quote_plus(BODY),
    quote(BODY),
    "lied to you",
    RECORDING_URL,
    "Recordings/RE",
    "a1a1a1a1",
    "b2b2b2b2",
]


class Collected(Transport):
    """Keeps every envelope in memory instead of sending it."""

    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)

    def serialized(self) -> str:
        return "\n".join(e.serialize().decode("utf-8", "replace") for e in self.envelopes)

    def events(self) -> list[dict]:
        return [e.get_event() for e in self.envelopes if e.get_event() is not None]


@pytest.fixture
def transport(monkeypatch):
    """Every sentry_sdk.init in the test uses an in-memory transport; Sentry is switched off
    and its scopes emptied afterwards, so nothing leaks into other tests."""
    collected = Collected()
    real_init = sentry_sdk.init
    monkeypatch.setattr(
        sentry_sdk, "init", lambda *a, **kw: real_init(*a, **{**kw, "transport": collected})
    )
    yield collected
    sentry_sdk.get_client().close(timeout=0)
    sentry_sdk.get_global_scope().set_client(None)
    for scope in (sentry_sdk.get_isolation_scope(), sentry_sdk.get_current_scope()):
        scope.clear()
    assert not sentry_sdk.get_client().is_active()


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"sentry_dsn": DSN})


def assert_clean(text: str) -> None:
    leaked = [secret for secret in SECRETS if secret in text]
    assert not leaked, f"leaked into the report: {leaked}"


def test_without_a_dsn_nothing_starts(settings, transport):
    assert init_sentry(settings.model_copy(update={"sentry_dsn": ""})) is False
    assert not sentry_sdk.get_client().is_active()
    sentry_sdk.capture_message("nothing to send")
    assert transport.envelopes == []


def test_a_request_error_is_reported_redacted(settings, db, redis_conn, gateway, clock, transport):
    app = create_app(settings, engine=db, redis=redis_conn, gateway=gateway, clock=clock)
    assert sentry_sdk.get_client().is_active()
    assert sentry_sdk.get_client().options["send_default_pii"] is False

    def boom():
        body = BODY  # a local variable holding a body: never captured  # noqa: F841
        logging.getLogger("realign.test").warning("call from %s kept at %s", PHONE, RECORDING_URL)
        sentry_sdk.add_breadcrumb(
            category="sms", message=f"texted {PHONE}", data={"to": PHONE, "body": BODY}
        )
        raise RuntimeError(
            f"could not answer {PHONE} about {RECORDING_URL}: "
            f"form {{'From': {PHONE!r}, 'Body': {BODY!r}}}"
        )

    app.add_url_rule("/boom", "boom", boom, methods=["POST"])
    client = app.test_client()
    response = client.post(
        f"/boom?From={quote(PHONE)}&RecordingUrl={quote(RECORDING_URL)}",
        data={"From": PHONE, "Body": BODY, "RecordingUrl": RECORDING_URL},
        headers={"Authorization": "Bearer abc", "X-Caller": PHONE},
    )
    assert response.status_code == 500

    (event,) = transport.events()
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    value = event["exception"]["values"][-1]["value"]
    assert value.startswith("could not answer +•••••••••23 about https://api.twilio.com/…")
    assert "'Body': '…'" in value
    assert "data" not in event["request"] and "cookies" not in event["request"]
    assert event["request"]["url"].endswith("/boom")
    assert event["request"]["headers"]["X-Caller"] == "+•••••••••23"
    assert "Authorization" not in event["request"]["headers"]
    frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
    assert frames and not any("vars" in frame for frame in frames)
    crumbs = event["breadcrumbs"]["values"]
    assert any(c.get("message") == "texted +•••••••••23" for c in crumbs)
    assert any(c.get("category") == "realign.test" for c in crumbs)  # the log line
    assert_clean(transport.serialized())


def test_a_database_error_loses_its_parameters(settings, transport):
    init_sentry(settings)
    error = sa.exc.IntegrityError(
        "INSERT INTO message (to_number, body) VALUES (?, ?)",
        (PHONE, BODY),
        Exception("UNIQUE constraint failed: message.idempotency_key"),
    )
    try:
        raise error
    except sa.exc.IntegrityError:
        sentry_sdk.capture_exception()
    (event,) = transport.events()
    value = event["exception"]["values"][-1]["value"]
    assert "UNIQUE constraint failed" in value
    assert "[parameters: …]" in value
    assert_clean(transport.serialized())


def test_messages_extra_and_contexts_are_redacted(settings, transport):
    init_sentry(settings)
    with sentry_sdk.new_scope() as scope:
        scope.set_extra("form", {"From": PHONE, "Body": BODY, "SpeechResult": BODY})
        scope.set_context("participant", {"phone": PHONE, "note": f"recording {RECORDING_URL}"})
        scope.set_tag("caller", PHONE)
        sentry_sdk.capture_message(f"inbound Body={quote_plus(BODY)}&From={quote(PHONE)}")
    (event,) = transport.events()
    assert event["extra"]["form"]["Body"] == errors.FILTERED
    assert event["extra"]["form"]["From"] == "+•••••••••23"
    assert event["contexts"]["participant"]["note"] == "recording https://api.twilio.com/…"
    assert_clean(transport.serialized())


def test_the_worker_reports_too(monkeypatch, tmp_path, transport):
    monkeypatch.setenv("SENTRY_DSN", DSN)
    monkeypatch.setenv("REALIGN_INSTANCE_DIR", str(tmp_path))
    worker_services()
    assert sentry_sdk.get_client().is_active()
    sentry_sdk.capture_message(f"job failed for {PHONE}")
    (event,) = transport.events()
    assert "+•••••••••23" in str(event)
    assert_clean(transport.serialized())


def test_the_scrubber_drops_bodies_and_keeps_bookkeeping():
    event = {
        "event_id": "0123456789",
        "timestamp": "1767225600.5",
        "request": {
            "url": "https://realign.example.org/twilio/sms",
            "data": {"Body": BODY},
            "cookies": {"session": "x"},
            "query_string": f"To={quote(PHONE)}&Body={quote_plus(BODY)}",
            "headers": {"Cookie": "session=x", "User-Agent": "TwilioProxy/1.1"},
        },
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": f"Message(id=3, body={BODY!r}, to_number={PHONE!r})",
                    "stacktrace": {"frames": [{"function": "f", "vars": {"body": BODY}}]},
                }
            ]
        },
        "logentry": {"message": "sent to %s", "params": [PHONE]},
    }
    scrubbed = errors.before_send(event, {})
    assert scrubbed["event_id"] == "0123456789"
    assert scrubbed["timestamp"] == "1767225600.5"
    assert set(scrubbed["request"]) == {"url", "query_string", "headers"}
    assert scrubbed["request"]["headers"] == {"User-Agent": "TwilioProxy/1.1"}
    assert scrubbed["request"]["query_string"] == "To=%2B•••••••••23&Body=…"
    assert scrubbed["exception"]["values"][0]["value"] == (
        "Message(id=3, body='…', to_number='+•••••••••23')"
    )
    assert scrubbed["exception"]["values"][0]["stacktrace"]["frames"] == [{"function": "f"}]
    assert_clean(str(scrubbed))


def test_a_scrubber_failure_drops_the_event(monkeypatch):
    def broken(text):
        raise RuntimeError("bug")

    monkeypatch.setattr(errors, "redact", broken)
    assert errors.before_send({"message": PHONE}, {}) is None
    assert errors.before_breadcrumb({"message": PHONE}, {}) is None
