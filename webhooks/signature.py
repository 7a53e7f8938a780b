"""Twilio request signatures, checked against the public URL Twilio called.

Two schemes: the legacy HMAC-SHA1 under the auth token, and (when Twilio sends the
signature-settings header) the algorithm it names under the SharedKey it names.
"""

from __future__ import annotations

from functools import wraps

from flask import current_app, request
from twilio.request_validator import (
    HMAC_SHA1,
    HMAC_SHA256,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    compare,
    get_signature_algorithm,
)

from service.services import current
from webhooks.limits import refuse_oversized

# Checked before hashing: compute_signature() raises on anything else.
_ALGORITHMS = frozenset({HMAC_SHA1, HMAC_SHA256})


def public_url() -> str:
    """PUBLIC_BASE_URL + path + query: what Twilio signed, whatever proxy sits in between."""
    query = request.query_string.decode("latin-1")
    base = current().settings.public_base_url
    return f"{base}{request.path}" + (f"?{query}" if query else "")


def twilio_signed(view):
    """Answer 403, storing and queueing nothing, unless the request is signed by Twilio
    (413 first for a body larger than Twilio sends: see webhooks/limits.py)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        refused = refuse_oversized()
        if refused is not None:
            return refused
        secret, algorithm = _secret_and_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
        signature = request.headers.get("X-Twilio-Signature", "")
        if not secret or not signature:
            return forbidden()
        if not _valid(RequestValidator(secret), public_url(), request.form, signature, algorithm):
            return forbidden()
        return view(*args, **kwargs)

    return wrapped


def _secret_and_algorithm(settings_header: str | None) -> tuple[str | None, str]:
    """The secret and algorithm to check the signature with; no secret means refuse.

    Without the settings header (the library treats a blank one the same): the auth
    token and HMAC-SHA1, as always. With it: the SharedKey its ``key=`` names, which
    must be configured, and the algorithm it names, which must be one we know.
    """
    if not (settings_header or "").strip():
        return current().webhook_token, HMAC_SHA1
    algorithm = get_signature_algorithm(settings_header).upper()
    key_id = _key_id(settings_header)
    if algorithm not in _ALGORITHMS or not key_id:
        return None, algorithm
    return current().settings.webhook_shared_keys.get(key_id), algorithm


def _key_id(settings_header: str) -> str:
    """The ``key=`` value of the settings header, parsed as leniently as the library
    parses ``algorithm=``; empty when there is none."""
    for part in settings_header.split(","):
        name, separator, value = part.partition("=")
        if separator and name.strip() == "key" and value.strip():
            return value.strip()
    return ""


def _valid(validator: RequestValidator, url: str, form, signature: str, algorithm: str) -> bool:
    """`validator.validate`, but trying the URL exactly as configured first: that is what
    Twilio signs, and validate() always computes two HMACs (with and without a port)."""
    if "bodySHA256=" not in url and compare(
        validator.compute_signature(url, form, algorithm), signature
    ):
        return True
    return validator.validate(url, form, signature, algorithm)


def forbidden():
    return current_app.response_class("Invalid Twilio signature\n", 403, mimetype="text/plain")
