"""TwilioGateway against LocalTwilio over real HTTP; ConsoleGateway; error kinds."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import wave
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from twilio.base.exceptions import TwilioException, TwilioServiceException
from twilio.http.response import Response

from service.core.redact import mask_phone, mask_url
from service.infra.gateway import (
    CallResult,
    ConsoleGateway,
    GatewayError,
    SendResult,
    _from_twilio,
    classify_error_code,
)
from service.infra.twilio_gateway import TwilioGateway, build_gateway
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN, free_port, local_gateway


@pytest.fixture
def gateway(local_twilio):
    """This module's texts and calls go to the local Twilio API."""
    return local_gateway(local_twilio)


TO, FROM, OTHER = "+15551230067", "+15550001111", "+15551230042"
SERVICE = "MG" + "ab" * 16


def test_send_message_is_recorded_exactly(local_twilio, gateway):
    result = gateway.send_message(
        TO, "See you Tuesday", from_=FROM, status_callback="https://app.example/twilio/status"
    )
    assert isinstance(result, SendResult)
    assert result.sid.startswith("SM") and result.status == "queued" and result.error_code is None
    [message] = local_twilio.messages()
    assert message["sid"] == result.sid
    assert (message["to"], message["from"], message["body"]) == (TO, FROM, "See you Tuesday")
    assert message["status_callback"] == "https://app.example/twilio/status"


def test_send_via_messaging_service_with_media(local_twilio, gateway):
    gateway.send_message(
        TO, "pic", messaging_service_sid=SERVICE, media_url="https://app.example/a.png"
    )
    [message] = local_twilio.messages()
    assert message["messaging_service_sid"] == SERVICE and message["from"] is None
    assert message["media_url"] == ["https://app.example/a.png"]


def test_a_sender_is_required_before_any_request(local_twilio, gateway):
    with pytest.raises(GatewayError) as caught:
        gateway.send_message(TO, "x")
    assert caught.value.kind == "permanent"
    assert local_twilio.requests() == []


@pytest.mark.parametrize(
    ("code", "kind", "http_status", "twilio_code"),
    [
        (21610, "opted_out", 400, 21610),
        (21211, "undeliverable", 400, 21211),
        (21614, "undeliverable", 400, 21614),
        (20429, "transient", 429, 20429),
        (500, "transient", 500, 20500),
    ],
)
def test_api_errors_become_kinds(local_twilio, gateway, code, kind, http_status, twilio_code):
    local_twilio.fail(code, TO, times=1)
    with pytest.raises(GatewayError) as caught:
        gateway.send_message(TO, "x", from_=FROM)
    error = caught.value
    assert (error.kind, error.http_status, error.code) == (kind, http_status, twilio_code)
    assert error.outcome_unknown is False
    assert TO not in str(error)  # Twilio's 21211 text names the number: masked here
    assert gateway.send_message(TO, "x", from_=FROM).status == "queued"  # retry succeeds


def test_wrong_credentials_are_permanent(local_twilio):
    bad = TwilioGateway(ACCOUNT_SID, "not-the-token", api_base_url=local_twilio.base_url)
    with pytest.raises(GatewayError) as caught:
        bad.send_message(TO, "x", from_=FROM)
    assert (caught.value.kind, caught.value.code, caught.value.http_status) == (
        "permanent",
        20003,
        401,
    )


def test_a_hang_past_the_timeout_is_transient_and_unknown(local_twilio):
    local_twilio.hang(30, TO)
    quick = TwilioGateway(ACCOUNT_SID, AUTH_TOKEN, api_base_url=local_twilio.base_url, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(GatewayError) as caught:
        quick.send_message(TO, "x", from_=FROM)
    assert time.monotonic() - started < 5
    assert caught.value.kind == "transient" and caught.value.outcome_unknown is True


def test_a_refused_connection_is_transient_and_known_unsent():
    nowhere = TwilioGateway(ACCOUNT_SID, AUTH_TOKEN, api_base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(GatewayError) as caught:
        nowhere.send_message(TO, "x", from_=FROM)
    assert caught.value.kind == "transient" and caught.value.outcome_unknown is False


def test_reconciliation_finds_a_message_whose_answer_hung(local_twilio):
    quick = TwilioGateway(ACCOUNT_SID, AUTH_TOKEN, api_base_url=local_twilio.base_url, timeout=0.5)
    claimed_at = datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as SQLite returns it
    quick.send_message(TO, "older", from_=FROM)
    local_twilio.hang(30, TO, after_record=True, times=1)
    with pytest.raises(GatewayError) as caught:
        quick.send_message(TO, "Reminder: session at 6", from_=FROM)
    assert caught.value.outcome_unknown is True
    [_, recorded] = local_twilio.messages()

    found = quick.find_sent_message(
        TO, from_=FROM, body="Reminder: session at 6", sent_after=claimed_at - timedelta(minutes=5)
    )
    assert found is not None and found.sid == recorded["sid"]
    assert quick.find_sent_message(TO, body="never sent") is None
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert quick.find_sent_message(TO, body="Reminder: session at 6", sent_after=later) is None
    assert quick.find_sent_message("+15559990000") is None


def test_fetch_and_delete_recording(local_twilio, gateway):
    sid = local_twilio.add_recording(duration=1)
    audio = gateway.fetch_recording(sid)
    with wave.open(io.BytesIO(audio)) as wav:
        assert (wav.getframerate(), wav.getnframes()) == (8000, 8000)
    gateway.delete_recording(sid)
    assert local_twilio.recordings() == []
    gateway.delete_recording(sid)  # already gone: fine
    with pytest.raises(GatewayError) as caught:
        gateway.fetch_recording(sid)
    assert (caught.value.kind, caught.value.http_status, caught.value.code) == (
        "permanent",
        404,
        20404,
    )
    with pytest.raises(GatewayError):
        gateway.fetch_recording("../../Messages")


def test_calls_go_to_the_local_server(local_twilio, gateway, callback_receiver):
    local_twilio.fail_call("no-answer", TO, times=1)
    result = gateway.place_call(
        TO,
        FROM,
        url="https://app.example/voice/twiml",
        status_callback=callback_receiver.url("/call"),
        status_callback_event=["initiated", "completed"],
    )
    assert isinstance(result, CallResult)
    assert result.sid.startswith("CA") and result.status == "queued"
    [call] = local_twilio.calls()
    assert call["sid"] == result.sid and call["url"] == "https://app.example/voice/twiml"
    statuses = [c["form"]["CallStatus"] for c in callback_receiver.wait_for(2)]
    assert statuses == ["initiated", "no-answer"]


def test_every_twilio_domain_is_rewritten(local_twilio, gateway):
    # messaging.twilio.com is another domain than api.twilio.com: it must land here too.
    with pytest.raises(TwilioException, match="Unable to fetch page"):
        gateway.client.messaging.v1.services.list(limit=1)
    assert local_twilio.requests()[-1]["path"] == "/v1/Services"
    assert gateway.client.http_client.timeout == 2.0  # never the client's default of None


def test_the_client_is_built_lazily():
    gateway = build_gateway(ACCOUNT_SID, AUTH_TOKEN, api_base_url="http://127.0.0.1:9")
    assert isinstance(gateway, TwilioGateway) and gateway._client is None
    assert AUTH_TOKEN not in repr(gateway)


def test_thread_safety_200_sends_from_20_threads(local_twilio, gateway):
    bodies = [f"message {i}" for i in range(200)]
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda b: gateway.send_message(TO, b, from_=FROM), bodies))
    recorded = local_twilio.messages()
    assert sorted(m["body"] for m in recorded) == sorted(bodies)
    by_sid = {m["sid"]: m["body"] for m in recorded}
    assert len(by_sid) == 200
    # each caller got the sid of its own message, not a neighbour's answer
    assert [by_sid[r.sid] for r in results] == bodies


def test_console_gateway_keeps_and_logs_masked(caplog):
    console = build_gateway("", "")
    assert isinstance(console, ConsoleGateway)
    with caplog.at_level(logging.INFO, logger="service.infra.gateway"):
        result = console.send_message(TO, "a private thought", from_=FROM)
    assert result.status == "console" and result.sid.startswith("SMconsole")
    assert console.sent[-1]["to"] == TO and console.sent[-1]["body"] == "a private thought"
    assert "a private thought" not in caplog.text and TO not in caplog.text
    assert mask_phone(TO) in caplog.text and "17 chars" in caplog.text
    assert console.find_sent_message(TO, body="a private thought").sid == result.sid
    assert console.place_call(TO, FROM, url="https://x.example/t").status == "console"
    with pytest.raises(GatewayError) as caught:
        console.fetch_recording("RE" + "0" * 32)
    assert caught.value.kind == "permanent"


def test_console_gateway_keeps_only_the_last_sends():
    console = ConsoleGateway(keep=3)
    for i in range(5):
        console.send_message(TO, f"m{i}", from_=FROM)
    assert [s["body"] for s in console.sent] == ["m2", "m3", "m4"]


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (21610, "opted_out"),
        (21211, "undeliverable"),
        ("30003", "undeliverable"),
        (30007, "undeliverable"),
        (30008, "permanent"),
        (20429, "transient"),
        (21603, "permanent"),
        (20003, "permanent"),
        (None, "permanent"),
        ("", "permanent"),
    ],
)
def test_classify_error_code(code, kind):
    assert classify_error_code(code) == kind


def test_service_exceptions_are_classified_too():
    problem = TwilioServiceException(
        type_uri="https://www.twilio.com/docs/errors/20429",
        title="Too Many Requests",
        status=429,
        code=20429,
    )
    error = _from_twilio(problem)
    assert (error.kind, error.code, error.http_status) == ("transient", 20429, 429)


def test_mask_helpers():
    assert mask_phone("+15551234589") == "+•••••••••89"
    assert mask_phone("") == "" and mask_phone("ab") == "•••"
    url = "https://AC1:token@api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1?To=%2B1555"
    assert mask_url(url) == "https://api.twilio.com/…"
    assert mask_url("http://127.0.0.1:8099") == "http://127.0.0.1:8099"


def test_a_failed_list_page_is_classified(local_twilio):
    # Listing raises a bare TwilioException("Unable to fetch page", response), not a
    # TwilioRestException: the gateway still reads the status and code out of it.
    bad = TwilioGateway(ACCOUNT_SID, "not-the-token", api_base_url=local_twilio.base_url)
    with pytest.raises(GatewayError) as caught:
        bad.find_sent_message(TO, body="x")
    assert (caught.value.kind, caught.value.code, caught.value.http_status) == (
        "permanent",
        20003,
        401,
    )
    page_error = TwilioException("Unable to fetch page", Response(503, "<html>busy</html>"))
    assert _from_twilio(page_error).kind == "transient"


def test_delete_message_takes_its_media_and_counts_gone_as_deleted(local_twilio, gateway):
    sent = gateway.send_message(TO, "pic", from_=FROM, media_url=["https://app.example/a.png"])
    received = local_twilio.add_inbound(TO, FROM, "two photos", media=2)
    other = gateway.send_message(TO, "stays", from_=FROM)
    _wait_final(local_twilio, sent.sid, other.sid)
    assert len(local_twilio.media()) == 3
    gateway.delete_message(sent.sid)
    gateway.delete_message(received["sid"])
    assert [m["sid"] for m in local_twilio.messages()] == [other.sid]
    assert local_twilio.media() == []
    gateway.delete_message(sent.sid)  # already gone: fine
    with pytest.raises(GatewayError, match="not a message sid"):
        gateway.delete_message("SMconsole123")


def test_a_text_still_in_progress_is_not_deleted_yet(local_twilio, gateway):
    queued = local_twilio.add_inbound(TO, FROM, "still arriving", status="receiving")
    with pytest.raises(GatewayError) as caught:
        gateway.delete_message(queued["sid"])
    assert (caught.value.http_status, caught.value.code) == (409, 20009)
    assert len(local_twilio.messages()) == 1


def test_delete_call_takes_its_recordings(local_twilio, gateway):
    call = local_twilio.add_inbound_call(TO, FROM)
    kept = [local_twilio.add_recording(call_sid=call) for _ in range(2)]
    another = local_twilio.add_recording(call_sid=local_twilio.add_inbound_call(OTHER, FROM))
    gateway.delete_call(call)
    assert call not in {c["sid"] for c in local_twilio.calls()}
    assert [r["sid"] for r in local_twilio.recordings()] == [another]
    assert not set(kept) & {r["sid"] for r in local_twilio.recordings()}
    gateway.delete_call(call)  # already gone: fine
    gone = "CA" + "0" * 32  # a call Twilio never had, whose recordings we still ask for
    gateway.delete_call(gone)


def test_console_deletes_forget_its_own_records():
    console = ConsoleGateway()
    sent = console.send_message(TO, "hi", from_=FROM)
    call = console.place_call(TO, FROM, url="https://app.example/voice")
    console.delete_message(sent.sid)
    console.delete_call(call.sid)
    assert console.sent == [] and console.calls == []


def _wait_final(local_twilio, *sids, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = {m["sid"]: m["status"] for m in local_twilio.messages()}
        if all(statuses.get(sid) == "delivered" for sid in sids):
            return
        time.sleep(0.02)
    raise AssertionError("the texts never reached a final status")


class _Proxy(BaseHTTPRequestHandler):
    """An HTTP proxy stand-in: it answers every request itself, as Twilio would a create."""

    seen: list[tuple[str, str]] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        form = self.rfile.read(length).decode()
        type(self).seen.append((self.path, form))
        body = json.dumps({"sid": "SM" + "f" * 32, "status": "queued", "error_code": None})
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def proxy():
    _Proxy.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Proxy.seen
    server.shutdown()
    server.server_close()


def test_the_environments_proxy_carries_the_requests(monkeypatch, proxy):
    # An operator behind a proxy sets HTTP(S)_PROXY, as for any HTTP client.
    address, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", address)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    far = TwilioGateway(ACCOUNT_SID, AUTH_TOKEN, api_base_url="http://twilio.invalid", timeout=2)
    sent = far.send_message(
        TO, "Through the proxy", from_=FROM, media_url=["https://a/1", "https://a/2"]
    )
    assert sent.sid == "SM" + "f" * 32
    [(target, form)] = seen
    assert target == f"http://twilio.invalid/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    fields = parse_qs(form)
    assert fields["Body"] == ["Through the proxy"] and fields["To"] == [TO]
    assert fields["MediaUrl"] == ["https://a/1", "https://a/2"]  # a list: the key repeated


def test_a_host_in_no_proxy_is_reached_directly(monkeypatch, proxy, local_twilio):
    address, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", address)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    direct = local_gateway(local_twilio)
    direct.send_message(TO, "Straight there", from_=FROM)
    assert seen == [] and [m["body"] for m in local_twilio.messages()] == ["Straight there"]
