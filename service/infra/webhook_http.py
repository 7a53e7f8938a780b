"""One webhook POST in two steps: connect (TCP, and TLS for https) to a checked target,
then send. Whoever calls it can record, between the two, that the request is about to
leave: until `send` writes to the socket, no byte of the request has left this process.

The connection goes to the address the target was checked at (its host name still names
the TLS certificate and the Host header), so a name that resolves elsewhere a moment later
is never followed. No redirects are followed."""

from __future__ import annotations

import http.client
import ssl
from urllib.parse import urlsplit

from requests.certs import where as ca_bundle
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError, ProtocolError

from service.core.webhook_addresses import Target

ANSWER_LIMIT = 64 * 1024  # what is read of a receiver's answer (then the socket is closed)


class PostFailed(Exception):
    """The try did not get an answer; `str()` says why in words."""


def _why(exc: BaseException, timeout: float, stage: str) -> str:
    if isinstance(exc, TimeoutError) or "timed out" in str(exc).lower():
        return f"No answer within {timeout:g} s"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "Its TLS certificate was not accepted"
    if stage == "connect":
        return "Could not connect to the receiver"
    return "The connection broke before the receiver answered"


def connect(target: Target, timeout: float) -> HTTPConnection:
    """An open connection to `target` (PostFailed when it cannot be made)."""
    where = target.address or target.host
    if target.scheme == "https":
        conn = HTTPSConnection(
            where,
            target.port,
            timeout=timeout,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_bundle(),
        )
    else:
        conn = HTTPConnection(where, target.port, timeout=timeout)
    try:
        conn.connect()
    except (OSError, HTTPError, ssl.CertificateError) as exc:
        conn.close()
        raise PostFailed(_why(exc, timeout, "connect")) from exc
    return conn


def send(conn: HTTPConnection, url: str, body: bytes, headers: dict, timeout: float) -> int:
    """POST `body` to `url` on `conn`; the receiver's status code (PostFailed without one).
    The connection is closed afterwards."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.netloc.rpartition("@")[2]
    try:
        conn.request(
            "POST", path, body=body, headers={**headers, "Host": host}, preload_content=False
        )
        answer = conn.getresponse()
        answer.read(ANSWER_LIMIT)
        return answer.status
    except (OSError, HTTPError, ProtocolError, http.client.HTTPException) as exc:
        raise PostFailed(_why(exc, timeout, "send")) from exc
    finally:
        conn.close()
