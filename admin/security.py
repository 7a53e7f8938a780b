"""CSRF for every admin POST, a second check of where it came from, and the admin's
Content-Security-Policy (the headers every response carries are service/infra/headers.py).

CSRF: Flask-WTF is not a dependency. Flask-Admin's `SecureForm` (WTForms' `SessionCSRF`:
an HMAC of a per-session secret, valid 30 minutes) already protects its model forms; the
same token guards every POST under /admin (sign-in, sign-out, model forms, actions) in a
`before_request` hook, so a view added later cannot forget it.

Where from: a state-changing request the browser marks as sent by another site
(`Sec-Fetch-Site` other than same-origin, or an `Origin` that is neither the host it asked
for nor PUBLIC_BASE_URL) is refused with 403 before anything else, even with a valid token
(the rule: service/core/origins.py). With neither header the token alone decides.

CSP: Flask-Admin 2.2.1 puts a nonce on each of its <script> and <link> tags when given
`csp_nonce_generator`, so scripts need `'self'` plus the per-request nonce. Its templates
also carry inline `onclick` handlers (the filter menu, the row delete button, the "With
selected → Delete" action) and `href="javascript:void(0)"` dropdown toggles, which Chromium
would block (and report) on click. Rather than `'unsafe-inline'`, exactly those strings are
allowed by hash with `'unsafe-hashes'` (Chromium hashes a javascript: URL including its
scheme). Styles come from files only; Bootstrap's icons are `data:` images. The browser test
fails on any violation the page reports.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from flask import abort, g, request
from flask_admin.form import SecureForm
from werkzeug.datastructures import MultiDict

from service.core.origins import is_cross_site

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

# The inline handlers and javascript: URLs in Flask-Admin 2.2.1's bootstrap4 templates
# (English texts; a new action needs `return modelActions.execute('<name>');` here).
INLINE_HANDLERS = (
    "return false;",  # model/layout.html: entries of the "Add Filter" menu
    "javascript:void(0)",  # dropdown toggles ("Add Filter", "With selected", page size)
    "return faHelpers.safeConfirm('Are you sure you want to delete this record?');",  # row
    "return modelActions.execute('delete');",  # actions.html: "With selected → Delete"
)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


HANDLER_HASHES = " ".join(_sha256(h) for h in INLINE_HANDLERS)


def csp_nonce() -> str:
    """One nonce per request, shared by the templates and the header."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}' 'unsafe-hashes' {HANDLER_HASHES}",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def rq_dashboard_policy(nonce: str) -> str:
    """rq-dashboard's pages (admins only; see admin/queue_dashboard.py): underscore.js
    templates need 'unsafe-eval', and a few of its buttons carry style attributes."""
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}' 'unsafe-eval'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def add_security_headers(response, *, static: bool, policy=content_security_policy):
    """The admin's own policy; the headers every response carries are added by the app
    (service/infra/headers.py)."""
    response.headers["Content-Security-Policy"] = policy(csp_nonce())
    if not static:
        # Pages show participants' words: never keep them in a shared or back-button cache.
        response.headers["Cache-Control"] = "no-store"
    return response


def csrf_token() -> str:
    """A fresh token for a hand-written form (templates call `admin_csrf_token()`)."""
    return SecureForm().csrf_token.current_token


def check_csrf() -> None:
    """Abort with 400 unless the POST carries a valid token for this session (a form
    field, or the X-CSRFToken header that rq-dashboard's scripts send)."""
    header = request.headers.get("X-CSRFToken")
    form = SecureForm(formdata=MultiDict({"csrf_token": header}) if header else request.form)
    if not form.validate():
        abort(400, description="The form expired or was not sent from this site. Please reload.")


def check_same_origin(public_base_url: str) -> None:
    """Abort with 403 when the browser says this request was sent from another site."""
    own = (request.host_url, public_base_url)
    if is_cross_site(request.headers.get("Sec-Fetch-Site"), request.headers.get("Origin"), own):
        abort(
            403,
            description="This request came from another site, so nothing was changed. "
            "Please use the admin's own pages.",
        )
