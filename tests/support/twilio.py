"""The Twilio side of the tests: a LocalTwilio per test, a callback receiver, and helpers.

Registered as a plugin by tests/conftest.py, so every test can ask for `local_twilio`,
`callback_receiver` or `live` (the app on its public URL) by name. A module whose texts
should reach the local API says so by overriding `gateway` with
`local_gateway(local_twilio)`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
from werkzeug.serving import make_server

from localtwilio import LocalTwilio
from service.config import load_settings
from service.infra.twilio_gateway import TwilioGateway

ACCOUNT_SID = "AC" + "5e" * 16
AUTH_TOKEN = "test-auth-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CallbackReceiver:
    """A tiny local HTTP server that keeps every form POST it gets (Twilio's callbacks)."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.received: list[dict] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with receiver._changed:
                    receiver.received.append(
                        {
                            "path": self.path,
                            "form": dict(parse_qsl(raw.decode(), keep_blank_values=True)),
                            "signature": self.headers.get("X-Twilio-Signature"),
                        }
                    )
                    receiver._changed.notify_all()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, path: str = "/status") -> str:
        return self.base_url + path

    def wait_for(self, count: int, timeout: float = 5.0, path: str | None = None) -> list[dict]:
        """Block until `count` callbacks (to `path`, if given) arrived; return them."""
        deadline = time.monotonic() + timeout

        def matching() -> list[dict]:
            return [r for r in self.received if path is None or r["path"] == path]

        with self._changed:
            while len(matching()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} callbacks, got {matching()}")
                self._changed.wait(left)
            return matching()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def local_twilio() -> Iterator[LocalTwilio]:
    with LocalTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def callback_receiver() -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    yield receiver
    receiver.close()


def local_gateway(api, timeout: float = 2.0) -> TwilioGateway:
    """The real twilio client, talking to a local Twilio-compatible API."""
    return TwilioGateway(ACCOUNT_SID, AUTH_TOKEN, api_base_url=api.base_url, timeout=timeout)


def with_local_twilio(settings, api, **more):
    """`settings` with this account's credentials, sending to a local API (so not in
    console mode: sends ask for status callbacks)."""
    update = {
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_api_base_url": api.base_url,
        **more,
    }
    return settings.model_copy(update=update)


@pytest.fixture
def live_port() -> int:
    return free_port()


def live_settings(tmp_path, database_url, redis_url, port: int, **more):
    """Settings for an app served on `port` (its public URL), with this account's real
    credentials: the app checks the local API's callback signatures with the same token."""
    from tests.support.stack import FROM_NUMBER, HEALTH_TOKEN

    return load_settings(
        database_url=database_url,
        redis_url=redis_url,
        secret_key="test-secret",
        instance_dir=tmp_path / "instance",
        public_base_url=f"http://127.0.0.1:{port}",
        twilio_from_number=FROM_NUMBER,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        health_token=HEALTH_TOKEN,
        **more,
    )


@pytest.fixture
def live(app, live_port):
    """The app on its public URL, where the local Twilio API posts its callbacks."""
    server = make_server("127.0.0.1", live_port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    thread.join(5)
