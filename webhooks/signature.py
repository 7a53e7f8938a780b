"""Twilio request signatures, checked against the public URL Twilio called."""

from __future__ import annotations

from functools import wraps

from flask import current_app, request
from twilio.request_validator import RequestValidator, compare

from service.services import current


def public_url() -> str:
    """PUBLIC_BASE_URL + path + query: what Twilio signed, whatever proxy sits in between."""
    query = request.query_string.decode("latin-1")
    base = current().settings.public_base_url
    return f"{base}{request.path}" + (f"?{query}" if query else "")


def twilio_signed(view):
    """Answer 403, storing and queueing nothing, unless the request is signed by Twilio."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        validator = RequestValidator(current().webhook_token)
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not _valid(validator, public_url(), request.form, signature):
            return forbidden()
        return view(*args, **kwargs)

    return wrapped


def _valid(validator: RequestValidator, url: str, form, signature: str) -> bool:
    """`validator.validate`, but trying the URL exactly as configured first: that is what
    Twilio signs, and validate() always computes two HMACs (with and without a port)."""
    if "bodySHA256=" not in url and compare(validator.compute_signature(url, form), signature):
        return True
    return validator.validate(url, form, signature)


def forbidden():
    return current_app.response_class("Invalid Twilio signature\n", 403, mimetype="text/plain")
