"""LocalTwilio: the HTTP server, its lifecycle and the Python API tests use."""

from __future__ import annotations

import logging
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from localtwilio.api import Api, Request, first
from localtwilio.callbacks import CallbackSender
from localtwilio.control import PREFIX, handle_control
from localtwilio.faults import Faults, call_rule, failure_rule, hang_rule
from localtwilio.shapes import Reply, error_reply
from service.core.redact import mask_phone

log = logging.getLogger("localtwilio")

DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_AUTH_TOKEN = "localtwilio-auth-token"


class LocalTwilio:
    """A local, thread-safe stand-in for the Twilio 2010-04-01 REST API.

    `start()` serves it from a daemon thread and returns the base URL; use it as a context
    manager to stop it afterwards.
    """

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        callback_delay: float = 0.0,
        wav_path: str | Path | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.host = host
        self.port = port
        self._wake = threading.Event()  # set on stop: hung requests return at once
        self._faults = Faults()
        self._sender = CallbackSender(auth_token, delay=callback_delay)
        wav = Path(wav_path).read_bytes() if wav_path else None
        self._api = Api(
            account_sid,
            auth_token,
            self._sender,
            self._faults,
            sleep=self._wake.wait,
            base_url=lambda: self.base_url,
            wav=wav,
        )
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> str:
        if self._server is not None:
            return self.base_url
        if self._wake.is_set():
            raise RuntimeError("a stopped LocalTwilio cannot start again: make a new one")
        server = _Server((self.host, self.port), _Handler)
        server.app = self
        self._server, self.port = server, server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"localtwilio-{self.port}",
        )
        self._thread.start()
        return self.base_url

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the `python -m` entry point)."""
        self.start()
        try:
            while self._thread and self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._wake.set()
        server.shutdown()
        server.server_close()
        self._sender.close()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> LocalTwilio:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- inspection ------------------------------------------------------------------------

    def messages(self) -> list[dict]:
        """Accepted message creates, oldest first (Twilio JSON plus status_callback, media_url)."""
        return self._api.message_records()

    def media(self) -> list[dict]:
        """Every Media resource still kept (attachments of texts sent or received)."""
        return self._api.media_records()

    def add_inbound(
        self, from_: str, to: str, body: str = "", *, media: int = 0, status: str = "received"
    ) -> dict:
        """Keep a text someone sent to `to`, as Twilio does before its webhook: returns its
        JSON plus `media_urls` (what the webhook's MediaUrlN fields carry)."""
        return self._api.add_inbound(from_, to, body, media, status)

    def add_inbound_call(self, from_: str, to: str, *, duration: int = 30) -> str:
        """Keep an ended call someone made to `to`, as Twilio does; returns its sid."""
        return self._api.add_inbound_call(from_, to, duration)

    def calls(self) -> list[dict]:
        return self._api.call_records()

    def requests(self) -> list[dict]:
        """Every API request, accepted or rejected: method, path, query, form, status."""
        return list(self._api.requests)

    def rejected(self) -> list[dict]:
        """Creates answered with an error: path, form, code, status."""
        return list(self._api.rejected)

    def recordings(self) -> list[dict]:
        return self._api.recording_records()

    def callbacks(self) -> list[dict]:
        """Status callbacks posted so far: url, params, status (or error)."""
        return list(self._sender.log)

    def faults(self) -> dict[str, list[dict]]:
        return self._faults.snapshot()

    def reset(self) -> None:
        """Forget everything recorded and every injected fault."""
        self._faults.clear()
        self._api.reset()
        self._sender.log.clear()

    # --- injection -------------------------------------------------------------------------

    def fail(
        self,
        code: int,
        to: str | None = None,
        *,
        times: int | None = None,
        status: str = "undelivered",
    ) -> None:
        """Creates for `to` (or every number) fail with `code`.

        API errors (21610, 21211, 21614, 20429 or 429, 500) reject the create; delivery
        errors (30003-30008) accept it and report `status` with that ErrorCode.
        """
        self._faults.add(failure_rule(code, times=times, status=status), to)

    def fail_call(self, outcome: str, to: str | None = None, *, times: int | None = None) -> None:
        """Calls to `to` end `no-answer`, `busy`, `failed` (or `canceled`)."""
        self._faults.add(call_rule(outcome, times=times), to)

    def hang(
        self,
        seconds: float,
        to: str | None = None,
        *,
        after_record: bool = False,
        times: int | None = None,
    ) -> None:
        """Creates sleep `seconds` before answering; `after_record` records them first."""
        self._faults.add(hang_rule(seconds, after_record=after_record, times=times), to)

    def clear_faults(self) -> None:
        self._faults.clear()

    def add_recording(
        self, sid: str | None = None, duration: int = 5, call_sid: str | None = None
    ) -> str:
        """Add a completed recording (served as a generated WAV); returns its sid."""
        return self._api.add_recording(sid, duration=duration, call_sid=call_sid)

    # --- HTTP ------------------------------------------------------------------------------

    def _dispatch(self, method: str, target: str, body: bytes, authorization: str | None) -> Reply:
        parts = urlsplit(target)
        if parts.path.startswith(PREFIX):
            return handle_control(self, method, parts.path, body)
        query = parse_qs(parts.query, keep_blank_values=True)
        form: dict[str, list[str]] = {}
        try:
            if method == "POST":
                form = parse_qs(body.decode(), keep_blank_values=True)
            reply = self._api.handle(Request(method, parts.path, query, form, authorization))
        except ValueError:  # undecodable body, a malformed number or date in the query
            reply = error_reply(20001)
        except Exception:
            log.exception("localtwilio failed on %s %s", method, parts.path)
            reply = error_reply(20500)
        self._api.requests.append(
            {
                "method": method,
                "path": parts.path,
                "query": query,
                "form": form,
                "status": reply.status,
                "at": time.time(),
            }
        )
        return reply


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hung request must not keep the process alive
    request_queue_size = 128  # bursts from a 20-thread pool all connect at once
    app: LocalTwilio

    def handle_error(self, request, client_address) -> None:
        # A client that went away mid-request (a killed worker, a closed pool) is normal
        # here; anything else is printed as the standard library does.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like api.twilio.com
    disable_nagle_algorithm = True  # otherwise ~40 ms stall per keep-alive request
    server_version = "localtwilio"
    server: _Server

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def do_DELETE(self) -> None:
        self._answer("DELETE")

    def _answer(self, method: str) -> None:
        started = time.perf_counter()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        app = self.server.app
        reply = app._dispatch(method, self.path, body, self.headers.get("Authorization"))
        try:
            self.send_response(reply.status)
            if reply.content_type:
                self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout test): fine
        if log.isEnabledFor(logging.INFO):
            log.info(
                "%s %s %d to=%s %.1fms",
                method,
                urlsplit(self.path).path,  # never the query: it holds numbers
                reply.status,
                mask_phone(_to_of(body, self.path)) or "-",
                (time.perf_counter() - started) * 1000,
            )

    def log_message(self, format: str, *args: object) -> None:
        pass  # the default writes every request to stderr; _answer logs a masked line


def _to_of(body: bytes, target: str) -> str | None:
    """The destination number of a request, for the masked log line."""
    if b"To=" in body:
        return first(parse_qs(body.decode(errors="replace")), "To")
    query = urlsplit(target).query
    return first(parse_qs(query), "To") if "To=" in query else None
