"""How much of a request a webhook reads.

Twilio's own requests are small: an SMS webhook is a few KB (a 1,600-character body, up
to 10 media URLs, some 30 fields), a voice callback less. The signature covers the parsed
form, so the form must be read before it can be checked; what is capped is that read. A
body over MAX_BODY_BYTES or with more than MAX_FIELDS fields is answered 413 before its
form is parsed (signed or not).
"""

from __future__ import annotations

from flask import current_app, request

MAX_BODY_BYTES = 64 * 1024
MAX_FIELDS = 300
URLENCODED = "application/x-www-form-urlencoded"


def refuse_oversized():
    """Cap this request's form parse; a 413 answer when the body is past the caps, else None."""
    # Per request: the admin keeps the app's larger MAX_CONTENT_LENGTH (CSV imports).
    request.max_content_length = MAX_BODY_BYTES  # also bounds a body sent without a length
    request.max_form_memory_size = MAX_BODY_BYTES
    request.max_form_parts = MAX_FIELDS  # werkzeug counts multipart parts itself
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return too_large()
    # werkzeug applies max_form_parts to multipart bodies only, on purpose
    # (pallets/werkzeug#2694), so a urlencoded body's fields are counted here. The raw
    # body (bounded above) is kept, and the form is parsed from it afterwards.
    if request.mimetype == URLENCODED and request.get_data(cache=True).count(b"&") >= MAX_FIELDS:
        return too_large()
    return None


def too_large():
    return current_app.response_class("Request too large\n", 413, mimetype="text/plain")
