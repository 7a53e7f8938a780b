"""LocalTwilio over real HTTP: auth, creates, signed callbacks, lists, recordings, control."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import pytest
import requests
from twilio.request_validator import RequestValidator

from localtwilio import LocalTwilio, server, tone_wav
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN, free_port

TO, OTHER, FROM = "+15551230067", "+15551230042", "+15550001111"
API = f"/2010-04-01/Accounts/{ACCOUNT_SID}"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def api(local_twilio):
    """A keep-alive session with the account's credentials and the fake's base URL."""
    session = requests.Session()
    session.auth = (ACCOUNT_SID, AUTH_TOKEN)
    session.trust_env = False
    base = local_twilio.base_url + API

    class Api:
        def post(self, path, **form):
            return session.post(base + path, data=form, timeout=5)

        def get(self, path, **params):
            return session.get(base + path, params=params, timeout=5)

        def delete(self, path):
            return session.delete(base + path, timeout=5)

        def url(self, uri):
            return local_twilio.base_url + uri

        session_ = session

    yield Api()
    session.close()


def send(api, to=TO, body="hello", **extra):
    return api.post("/Messages.json", To=to, From=FROM, Body=body, **extra)


def test_auth_is_required(local_twilio):
    url = f"{local_twilio.base_url}{API}/Messages.json"
    form = {"To": TO, "From": FROM, "Body": "x"}
    for auth in (None, (ACCOUNT_SID, "wrong"), ("AC" + "0" * 32, AUTH_TOKEN)):
        response = requests.post(url, data=form, auth=auth, timeout=5)
        assert response.status_code == 401
        assert response.json()["code"] == 20003
        assert response.json()["more_info"] == "https://www.twilio.com/docs/errors/20003"
    assert local_twilio.messages() == []
    assert requests.post(url, data=form, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5).ok


def test_create_is_recorded_with_twilio_shape(local_twilio, api):
    response = send(api, body="Hi there", StatusCallback="https://example.org/cb")
    assert response.status_code == 201
    body = response.json()
    assert body["sid"].startswith("SM") and len(body["sid"]) == 34
    assert body["status"] == "queued" and body["error_code"] is None
    assert body["to"] == TO and body["from"] == FROM and body["body"] == "Hi there"
    assert body["num_segments"] == "1" and body["account_sid"] == ACCOUNT_SID
    assert body["date_created"].endswith("+0000")
    assert body["uri"] == f"{API}/Messages/{body['sid']}.json"
    [recorded] = local_twilio.messages()
    assert recorded["sid"] == body["sid"]
    assert recorded["status_callback"] == "https://example.org/cb"
    assert local_twilio.requests()[-1]["form"]["Body"] == ["Hi there"]


def test_bad_creates_are_rejected_like_twilio(local_twilio, api):
    missing_to = api.post("/Messages.json", From=FROM, Body="x")
    assert (missing_to.status_code, missing_to.json()["code"]) == (400, 21604)
    missing_body = api.post("/Messages.json", To=TO, From=FROM)
    assert (missing_body.status_code, missing_body.json()["code"]) == (400, 21602)
    assert send(api, body="", MediaUrl="https://example.org/a.png").status_code == 201
    assert [r["code"] for r in local_twilio.rejected()] == [21604, 21602]
    assert len(local_twilio.messages()) == 1
    assert [r["status"] for r in local_twilio.requests()] == [400, 400, 201]


def test_status_callbacks_are_signed_and_in_order(local_twilio, api, callback_receiver):
    sid = send(api, StatusCallback=callback_receiver.url()).json()["sid"]
    first, second = callback_receiver.wait_for(2)
    assert [first["form"]["MessageStatus"], second["form"]["MessageStatus"]] == [
        "sent",
        "delivered",
    ]
    validator = RequestValidator(AUTH_TOKEN)
    for callback in (first, second):
        form = callback["form"]
        assert form["MessageSid"] == sid and form["SmsStatus"] == form["MessageStatus"]
        assert form["To"] == TO and form["From"] == FROM and form["AccountSid"] == ACCOUNT_SID
        assert "ErrorCode" not in form
        assert validator.validate(callback_receiver.url(), form, callback["signature"])
        assert not validator.validate(
            callback_receiver.url(), {**form, "To": OTHER}, callback["signature"]
        )
    assert api.get(f"/Messages/{sid}.json").json()["status"] == "delivered"


@pytest.mark.parametrize("status", ["undelivered", "failed"])
def test_delivery_errors_arrive_as_callbacks(local_twilio, api, callback_receiver, status):
    local_twilio.fail(30005, TO, status=status)
    response = send(api, StatusCallback=callback_receiver.url())
    assert response.status_code == 201  # the create succeeds; delivery fails later
    _, final = callback_receiver.wait_for(2)
    assert final["form"]["MessageStatus"] == status
    assert final["form"]["ErrorCode"] == "30005"
    fetched = api.get(f"/Messages/{response.json()['sid']}.json").json()
    assert (fetched["status"], fetched["error_code"]) == (status, 30005)


def test_callback_failures_do_not_crash_the_server(local_twilio, api):
    dead = f"http://127.0.0.1:{free_port()}/nobody-listens"
    send(api, StatusCallback=dead)
    deadline = time.monotonic() + 5
    while len(local_twilio.callbacks()) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [c["error"] is not None for c in local_twilio.callbacks()] == [True, True]
    assert send(api).status_code == 201


@pytest.mark.parametrize(
    ("code", "http_status", "twilio_code"),
    [
        (21610, 400, 21610),
        (21211, 400, 21211),
        (21614, 400, 21614),
        (20429, 429, 20429),
        (429, 429, 20429),
        (500, 500, 20500),
    ],
)
def test_injected_api_errors(local_twilio, api, code, http_status, twilio_code):
    local_twilio.fail(code, TO, times=1)
    response = send(api)
    assert response.status_code == http_status
    error = response.json()
    assert error["code"] == twilio_code and error["status"] == http_status
    assert error["more_info"] == f"https://www.twilio.com/docs/errors/{twilio_code}"
    assert send(api).status_code == 201  # times=1: the retry goes through
    assert send(api, to=OTHER).status_code == 201


def test_global_failure_applies_to_every_number(local_twilio, api):
    local_twilio.fail(21610)
    assert send(api).status_code == send(api, to=OTHER).status_code == 400
    local_twilio.clear_faults()
    assert send(api).status_code == 201


def test_list_filters_and_paging(local_twilio, api, callback_receiver):
    sids = [
        send(api, body=f"m{i}", StatusCallback=callback_receiver.url()).json()["sid"]
        for i in range(3)
    ]
    other = send(api, to=OTHER, StatusCallback=callback_receiver.url()).json()["sid"]
    callback_receiver.wait_for(8)  # every message is sent (has date_sent) and delivered

    page = api.get("/Messages.json", To=TO).json()
    assert [m["sid"] for m in page["messages"]] == sids[::-1]  # newest first
    assert page["next_page_uri"] is None
    assert [m["sid"] for m in api.get("/Messages.json", To=OTHER).json()["messages"]] == [other]
    assert api.get("/Messages.json", To=TO, From="+15559999999").json()["messages"] == []
    assert len(api.get("/Messages.json", **{"DateSent>": "2000-01-01"}).json()["messages"]) == 4
    future = {"DateSent>": "2999-01-01T00:00:00Z"}
    assert api.get("/Messages.json", **future).json()["messages"] == []

    first = api.get("/Messages.json", To=TO, PageSize=2).json()
    assert len(first["messages"]) == 2 and first["next_page_uri"]
    second = api.session_.get(api.url(first["next_page_uri"]), timeout=5).json()
    assert [m["sid"] for m in second["messages"]] == [sids[0]]
    assert second["next_page_uri"] is None


def test_fetch_one_message(api):
    sid = send(api).json()["sid"]
    assert api.get(f"/Messages/{sid}.json").json()["sid"] == sid
    missing = api.get("/Messages/SM" + "0" * 32 + ".json")
    assert (missing.status_code, missing.json()["code"]) == (404, 20404)


def test_calls_post_signed_status_callbacks(local_twilio, api, callback_receiver):
    response = api.post(
        "/Calls.json",
        To=TO,
        From=FROM,
        Url="https://example.org/twiml",
        StatusCallback=callback_receiver.url("/call"),
    )
    assert response.status_code == 201
    call = response.json()
    assert call["sid"].startswith("CA") and call["status"] == "queued"
    [done] = callback_receiver.wait_for(1)
    form = done["form"]
    assert (form["CallSid"], form["CallStatus"], form["CallDuration"]) == (
        call["sid"],
        "completed",
        "5",
    )
    assert RequestValidator(AUTH_TOKEN).validate(
        callback_receiver.url("/call"), form, done["signature"]
    )
    assert local_twilio.calls()[0]["url"] == "https://example.org/twiml"


def test_call_progress_events_and_outcomes(local_twilio, api, callback_receiver):
    local_twilio.fail_call("busy", TO, times=1)
    events = ["initiated", "ringing", "answered", "completed"]
    for path in ("/busy", "/answered"):
        api.session_.post(
            api.url(f"{API}/Calls.json"),
            data={
                "To": TO,
                "From": FROM,
                "Twiml": "<Response/>",
                "StatusCallback": callback_receiver.url(path),
                "StatusCallbackEvent": events,
            },
            timeout=5,
        )
        callback_receiver.wait_for(2 if path == "/busy" else 4, path=path)
    busy = [c["form"]["CallStatus"] for c in callback_receiver.received if c["path"] == "/busy"]
    answered = [
        c["form"]["CallStatus"] for c in callback_receiver.received if c["path"] == "/answered"
    ]
    assert busy == ["initiated", "busy"]
    assert answered == ["initiated", "ringing", "in-progress", "completed"]


def test_call_without_url_is_rejected(api):
    response = api.post("/Calls.json", To=TO, From=FROM)
    assert (response.status_code, response.json()["code"]) == (400, 21205)


def test_recordings_fetch_and_delete(local_twilio, api):
    sid = local_twilio.add_recording(duration=2, call_sid="CA" + "1" * 32)
    meta = api.get(f"/Recordings/{sid}.json").json()
    assert (meta["sid"], meta["duration"], meta["call_sid"]) == (sid, "2", "CA" + "1" * 32)
    wav = api.get(f"/Recordings/{sid}.wav")
    assert wav.headers["Content-Type"] == "audio/x-wav"
    with wave.open(io.BytesIO(wav.content)) as audio:
        assert (audio.getframerate(), audio.getnchannels(), audio.getnframes()) == (8000, 1, 16000)
    assert api.get(f"/Recordings/{sid}").content == wav.content  # the media URL, no extension
    assert api.get(f"/Recordings/{sid}.mp3").status_code == 404
    assert api.delete(f"/Recordings/{sid}.json").status_code == 204
    assert api.get(f"/Recordings/{sid}.json").status_code == 404
    assert api.delete(f"/Recordings/{sid}.json").status_code == 404


def test_recording_audio_can_come_from_a_file(tmp_path):
    path = tmp_path / "voice.wav"
    path.write_bytes(tone_wav(0.25, 300.0))
    with LocalTwilio(ACCOUNT_SID, AUTH_TOKEN, wav_path=path) as fake:
        sid = fake.add_recording()
        url = f"{fake.base_url}{API}/Recordings/{sid}.wav"
        assert (
            requests.get(url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5).content
            == path.read_bytes()
        )


def test_control_api(local_twilio, api):
    control = local_twilio.base_url + "/_control"
    assert requests.post(f"{control}/fail", json={"to": TO, "code": 21610, "times": 1}).ok
    assert send(api).json()["code"] == 21610
    assert send(api).status_code == 201
    assert requests.post(f"{control}/fail", json={"to": TO, "call_outcome": "no-answer"}).ok
    assert local_twilio.faults()[TO][0]["outcome"] == "no-answer"
    assert requests.delete(f"{control}/fail").ok and local_twilio.faults() == {}

    recording = requests.post(f"{control}/recordings", json={"duration": 3}).json()["sid"]
    assert api.get(f"/Recordings/{recording}.json").json()["duration"] == "3"
    assert [r["sid"] for r in requests.get(f"{control}/recordings").json()] == [recording]
    assert len(requests.get(f"{control}/messages").json()) == 1
    assert len(requests.get(f"{control}/requests").json()) == 3

    assert requests.post(f"{control}/hang", json={"to": TO, "seconds": 0.3, "times": 1}).ok
    started = time.monotonic()
    assert send(api).status_code == 201
    assert time.monotonic() - started >= 0.3
    # after_record: the text is on record (and its callbacks under way) before the answer.
    hang = {"to": TO, "seconds": 1.0, "times": 1, "after_record": True}
    assert requests.post(f"{control}/hang", json=hang).ok
    before = len(local_twilio.messages())
    seen_during: list[int] = []
    watcher = threading.Timer(0.5, lambda: seen_during.append(len(local_twilio.messages())))
    watcher.start()
    assert send(api).status_code == 201
    watcher.join()
    assert seen_during == [before + 1]

    assert requests.post(f"{control}/reset").ok
    assert requests.get(f"{control}/messages").json() == []
    assert requests.post(f"{control}/fail", json={"code": 12345}).status_code == 400
    assert requests.post(f"{control}/fail", json={}).status_code == 400
    assert requests.get(f"{control}/nothing").status_code == 404


def test_hang_after_record_keeps_the_message(local_twilio, api):
    local_twilio.hang(5, TO, after_record=True)
    with pytest.raises(requests.ReadTimeout):
        api.session_.post(
            api.url(f"{API}/Messages.json"), data={"To": TO, "From": FROM, "Body": "x"}, timeout=0.3
        )
    assert len(local_twilio.messages()) == 1


def test_every_keep_alive_connection_has_nagle_off(local_twilio, api, monkeypatch):
    # Without TCP_NODELAY each keep-alive request stalls ~40 ms (12 s for 300 here): the
    # answer's head and body leave as two small writes and the second waits for an ACK.
    seen = []
    setup = server._Handler.setup

    def noting(handler):
        setup(handler)
        seen.append(handler.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(server._Handler, "setup", noting)
    for _ in range(3):  # one keep-alive connection, reused
        assert send(api).status_code == 201
    assert len(seen) == 1 and seen[0] != 0, seen


def test_cli_logs_masked_numbers_and_never_the_body():
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "localtwilio",
            "--port",
            str(port),
            "--account-sid",
            ACCOUNT_SID,
            "--auth-token",
            AUTH_TOKEN,
        ],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}{API}/Messages.json"
        deadline = time.monotonic() + 15
        while True:
            try:
                response = requests.post(
                    url,
                    data={"To": TO, "From": FROM, "Body": "very private words"},
                    auth=(ACCOUNT_SID, AUTH_TOKEN),
                    timeout=2,
                )
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "localtwilio did not start"
                time.sleep(0.1)
        assert response.status_code == 201
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    [line] = [line for line in stderr.splitlines() if "Messages.json" in line]
    assert " 201 " in line and "67" in line
    assert TO not in stderr and "5551230067" not in stderr
    assert "very private words" not in stderr and AUTH_TOKEN not in stderr


def test_deletes_of_messages_media_calls_and_their_recordings(local_twilio, api):
    sent = send(api, MediaUrl="https://example.org/a.png").json()
    assert sent["sid"].startswith("MM")  # a text with media, as Twilio names it
    inbound = local_twilio.add_inbound(TO, FROM, "hi", media=1)
    [media_url] = inbound["media_urls"]
    media_uri = media_url.removeprefix(local_twilio.base_url) + ".json"
    listed = api.get(f"/Messages/{inbound['sid']}/Media.json").json()["media_list"]
    assert [api.url(m["uri"]) for m in listed] == [media_url + ".json"]
    assert requests.get(api.url(media_uri), auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5).ok
    assert api.delete(media_uri.removeprefix(API)).status_code == 204
    assert api.get(f"/Messages/{inbound['sid']}/Media.json").json()["media_list"] == []
    assert api.delete(f"/Messages/{inbound['sid']}.json").status_code == 204
    assert api.delete(f"/Messages/{inbound['sid']}.json").json()["code"] == 20404
    # A text not yet final cannot go; once delivered it can, and its media go with it.
    receiving = local_twilio.add_inbound(TO, FROM, "…", status="receiving")
    refused = api.delete(f"/Messages/{receiving['sid']}.json")
    assert (refused.status_code, refused.json()["code"]) == (409, 20009)
    deadline = time.monotonic() + 5
    while api.get(f"/Messages/{sent['sid']}.json").json()["status"] != "delivered":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert api.delete(f"/Messages/{sent['sid']}.json").status_code == 204
    assert local_twilio.media() == []

    call = local_twilio.add_inbound_call(TO, FROM)
    recording = local_twilio.add_recording(call_sid=call)
    listed = api.get(f"/Calls/{call}/Recordings.json").json()["recordings"]
    assert [r["sid"] for r in listed] == [recording]
    other_call = "CA" + "1" * 32
    assert api.delete(f"/Calls/{other_call}/Recordings/{recording}.json").status_code == 404
    assert api.delete(f"/Calls/{call}/Recordings/{recording}.json").status_code == 204
    assert local_twilio.recordings() == []
    assert api.delete(f"/Calls/{call}.json").status_code == 204
    assert local_twilio.calls() == []
    assert api.get(f"/Calls/{call}/Recordings.json").status_code == 404
