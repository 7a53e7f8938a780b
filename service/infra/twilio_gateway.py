"""The real Twilio, through the official client (see service/infra/gateway.py for the rest)."""

from __future__ import annotations

import base64
import codecs
import json
import logging
import os
import re
import threading
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

import certifi
import requests
import urllib3
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from service.core.erasure_rules import CALL_SID, MESSAGE_SID
from service.core.redact import mask_url
from service.infra.gateway import (
    TWILIO_API,
    CallResult,
    ConsoleGateway,
    Gateway,
    GatewayError,
    SendResult,
    _error_code,
    _from_requests,
    _from_twilio,
    _from_urllib3,
    classify_error_code,
)

log = logging.getLogger(__name__)

RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")


class PooledHttpClient(TwilioHttpClient):
    """TwilioHttpClient over one urllib3 pool, with a timeout, and optionally another host.

    Requests go straight to urllib3 (which requests itself sends through): requests' own
    layer (environment settings merged, hooks, cookies, the request prepared twice) was
    a third of the CPU a text's send took, and a busy worker sends two texts a turn. What
    it read from the environment is read once here: the proxy settings (HTTPS_PROXY,
    NO_PROXY) and the CA bundle (REQUESTS_CA_BUNDLE), as requests would have used them.

    With `base_url`, every Twilio domain (api., messaging., …) is sent to that scheme and
    host instead: setting `client.api.base_url` alone would only move one domain.
    """

    def __init__(self, *, timeout: float, pool_size: int = 20, base_url: str | None = None):
        super().__init__(pool_connections=True, timeout=timeout)
        # Kept for `download` (a recording's raw bytes), a rare request.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._target = urlsplit(base_url.rstrip("/")) if base_url else None
        self._pool_size = pool_size
        self._ca_certs = (
            os.environ.get("REQUESTS_CA_BUNDLE")
            or os.environ.get("CURL_CA_BUNDLE")
            or certifi.where()
        )
        self._direct = urllib3.PoolManager(
            num_pools=4, maxsize=pool_size, block=False, ca_certs=self._ca_certs
        )
        self._proxies = urllib.request.getproxies()
        self._managers: dict[tuple[str, str], urllib3.PoolManager] = {}
        self._managers_lock = threading.Lock()

    def rewrite(self, url: str) -> str:
        if self._target is None:
            return url
        parts = urlsplit(url)
        path = self._target.path + parts.path
        return urlunsplit((self._target.scheme, self._target.netloc, path, parts.query, ""))

    def request(
        self,
        method,
        url,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ) -> Response:
        # Not super().request(): it stores each response on `self` (shared by all threads)
        # and returns it by reading that attribute back, safe only while the GIL cannot
        # switch in between. It also logs the query (phone numbers) at INFO.
        target = self.rewrite(url)
        if params:
            target += ("&" if "?" in target else "?") + _form(params)
        headers = dict(headers or {})
        body = None
        if data:
            if headers.get("Content-Type") in ("application/json", "application/scim+json"):
                body = json.dumps(data).encode()
            else:
                body = _form(data).encode()
                headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if auth:
            login = f"{auth[0]}:{auth[1]}".encode("latin-1")
            headers["Authorization"] = "Basic " + base64.b64encode(login).decode()
        seconds = timeout or self.timeout
        response = self._manager(target).request(
            method.upper(),
            target,
            body=body,
            headers=headers,
            timeout=urllib3.Timeout(connect=seconds, read=seconds),
            retries=False,  # a send is tried once: another try could text twice
            redirect=allow_redirects,
        )
        log.debug("twilio %s %s -> %s", method, mask_url(url), response.status)
        charset = _charset(response.headers.get("Content-Type", ""))
        return Response(response.status, response.data.decode(charset, "replace"), response.headers)

    def _manager(self, url: str) -> urllib3.PoolManager:
        """The direct pool, or a proxy's pool where the environment names one for this host."""
        if not self._proxies:
            return self._direct
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        with self._managers_lock:
            found = self._managers.get(key)
            if found is None:
                proxy = self._proxies.get(parts.scheme)
                if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
                    found = urllib3.ProxyManager(
                        proxy, num_pools=4, maxsize=self._pool_size, ca_certs=self._ca_certs
                    )
                else:
                    found = self._direct
                self._managers[key] = found
            return found

    def download(self, url: str, auth: tuple[str, str]) -> requests.Response:
        """GET raw bytes (recording audio): Response.text would decode them as text."""
        return self.session.get(self.rewrite(url), auth=auth, timeout=self.timeout)


def _form(values) -> str:
    """A form or query string as requests makes one: a list gives its key once per item,
    None leaves the key out."""
    pairs = []
    for key, value in dict(values).items():
        for item in value if isinstance(value, list | tuple) else (value,):
            if item is not None:
                pairs.append((key, item))
    return urlencode(pairs)


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            try:
                return codecs.lookup(value.strip('"')).name
            except LookupError:
                break
    return "utf-8"


class TwilioGateway:
    """The real Twilio, through the official client. Safe to share between threads."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        api_base_url: str | None = None,
        timeout: float = 10.0,
        pool_size: int = 20,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be > 0")
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.api_base_url = api_base_url
        self.timeout = timeout
        self.pool_size = pool_size
        self._client: Client | None = None
        self._http: PooledHttpClient | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never the token
        where = mask_url(self.api_base_url) if self.api_base_url else "twilio"
        return f"TwilioGateway({self.account_sid[:6]}…, {where})"

    @property
    def client(self) -> Client:
        """The twilio Client, made on first use (no I/O at import or construction)."""
        return self._ensure_client()[0]

    def _ensure_client(self) -> tuple[Client, PooledHttpClient]:
        with self._lock:  # uncontended after the first call; keeps one pool per gateway
            if self._client is None or self._http is None:
                self._http = PooledHttpClient(
                    timeout=self.timeout, pool_size=self.pool_size, base_url=self.api_base_url
                )
                self._client = Client(self.account_sid, self._auth_token, http_client=self._http)
            return self._client, self._http

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
        if not (from_ or messaging_service_sid):
            raise GatewayError(21603, None, "permanent", "a From number or a Messaging Service")
        options: dict = {"to": to, "body": body}
        if from_:
            options["from_"] = from_
        if messaging_service_sid:
            options["messaging_service_sid"] = messaging_service_sid
        if status_callback:
            options["status_callback"] = status_callback
        if media_url:
            options["media_url"] = [media_url] if isinstance(media_url, str) else list(media_url)
        message = self._call(lambda: self.client.messages.create(**options))
        return SendResult(message.sid, message.status, message.error_code)

    def place_call(
        self,
        to: str,
        from_: str,
        *,
        url: str,
        status_callback: str | None = None,
        status_callback_event: Sequence[str] | None = None,
    ) -> CallResult:
        options: dict = {"to": to, "from_": from_, "url": url}
        if status_callback:
            options["status_callback"] = status_callback
        if status_callback_event:
            options["status_callback_event"] = list(status_callback_event)
        call = self._call(lambda: self.client.calls.create(**options))
        return CallResult(call.sid, call.status)

    def find_sent_message(
        self,
        to: str,
        *,
        from_: str | None = None,
        body: str | None = None,
        sent_after: datetime | None = None,
        scan_limit: int = 500,
    ) -> SendResult | None:
        """The newest outbound message to `to` (from `from_`, with `body`) created after
        `sent_after`, or None: how a send whose outcome is unknown gets settled.

        Filters on date_created ourselves rather than with Twilio's DateSent filters: a
        message still queued has no date_sent and would be missed, then sent twice.
        """
        if sent_after is not None and sent_after.tzinfo is None:
            sent_after = sent_after.replace(tzinfo=UTC)  # SQLite hands back naive UTC

        def scan() -> SendResult | None:
            filters = {"to": to, "from_": from_} if from_ else {"to": to}
            pages = self.client.messages.stream(limit=scan_limit, page_size=50, **filters)
            for message in pages:  # newest first
                if sent_after and message.date_created and message.date_created < sent_after:
                    return None
                if not str(message.direction or "").startswith("outbound"):
                    continue
                if body is None or (message.body or "").strip() == body.strip():
                    return SendResult(message.sid, message.status, message.error_code)
            return None

        return self._call(scan)

    def fetch_message(self, sid: str) -> SendResult | None:
        """What Twilio knows of one message now (None: it has no such message)."""
        try:
            message = self._call(lambda: self.client.messages(sid).fetch())
        except GatewayError as exc:
            if exc.http_status == 404:
                return None
            raise
        return SendResult(message.sid, message.status, message.error_code)

    def fetch_recording(self, recording_sid: str) -> bytes:
        """The recording's audio as WAV bytes, fetched with the account's credentials."""
        self._check_recording_sid(recording_sid)
        url = f"{TWILIO_API}/2010-04-01/Accounts/{self.account_sid}/Recordings/{recording_sid}.wav"
        http = self._ensure_client()[1]
        auth = (self.account_sid, self._auth_token)
        response = self._call(lambda: http.download(url, auth))
        if response.status_code != 200:
            code, status = _error_code(response.text), response.status_code
            kind = classify_error_code(code, status)
            raise GatewayError(code, status, kind, f"recording fetch: HTTP {status}")
        return response.content

    def delete_recording(self, recording_sid: str) -> None:
        """Delete a recording at Twilio; one already gone (404) counts as deleted."""
        self._check_recording_sid(recording_sid)
        try:
            self._call(lambda: self.client.recordings(recording_sid).delete())
        except GatewayError as exc:
            if exc.http_status != 404:
                raise

    def delete_message(self, sid: str) -> None:
        """Delete a text at Twilio, its media first (Twilio keeps a message's media as
        resources of their own); what is already gone (404) counts as deleted."""
        if not MESSAGE_SID.fullmatch(sid or ""):
            raise GatewayError(None, None, "permanent", "not a message sid")
        message = self.client.messages(sid)
        for media in self._gone_ok(lambda: list(message.media.list(page_size=100))) or []:
            self._gone_ok(lambda media=media: message.media(media.sid).delete())
        self._gone_ok(message.delete)

    def delete_call(self, sid: str) -> None:
        """Delete a call at Twilio, its recordings first (those we never stored too); what
        is already gone (404) counts as deleted."""
        if not CALL_SID.fullmatch(sid or ""):
            raise GatewayError(None, None, "permanent", "not a call sid")
        call = self.client.calls(sid)
        for recording in self._gone_ok(lambda: list(call.recordings.list(page_size=100))) or []:
            self._gone_ok(lambda recording=recording: call.recordings(recording.sid).delete())
        self._gone_ok(call.delete)

    def _gone_ok(self, action):
        """`action()`, where a 404 (already gone) answers None."""
        try:
            return self._call(action)
        except GatewayError as exc:
            if exc.http_status != 404:
                raise
            return None

    @staticmethod
    def _check_recording_sid(sid: str) -> None:
        if not RECORDING_SID.fullmatch(sid or ""):
            raise GatewayError(None, None, "permanent", "not a recording sid")

    @staticmethod
    def _call(action):
        try:
            return action()
        except TwilioException as exc:
            raise _from_twilio(exc) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise _from_urllib3(exc) from exc
        except requests.RequestException as exc:
            raise _from_requests(exc) from exc


def build_gateway(
    account_sid: str | None,
    auth_token: str | None,
    api_base_url: str | None = None,
    timeout: float = 10.0,
    pool_size: int = 20,
) -> Gateway:
    """The real gateway when credentials are set, the console one otherwise."""
    if not (account_sid and auth_token):
        return ConsoleGateway()
    return TwilioGateway(
        account_sid, auth_token, api_base_url=api_base_url, timeout=timeout, pool_size=pool_size
    )
