"""The security headers every response carries (webhooks, /healthz, /metrics, the admin,
static files), set once for the whole app.

Each area may set a stricter or looser header of its own first: the admin sets its own
Content-Security-Policy (scripts and styles from the site itself: admin/security.py); these
fill in whatever a response does not carry. The default policy allows nothing to load, which
fits every response that is not an admin page (TwiML, JSON, plain text, the index page).
Strict-Transport-Security only in production with an https public URL: a browser that
once saw it refuses plain http to this host for a year.
"""

from __future__ import annotations

NOTHING_LOADS = "; ".join(
    (
        "default-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
# Features no page of ours uses (playing a recording needs none of them).
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), display-capture=()"
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(*, hsts: bool) -> dict[str, str]:
    """The headers every response gets unless it set its own."""
    headers = {
        "Content-Security-Policy": NOTHING_LOADS,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": PERMISSIONS,
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if hsts:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def wants_hsts(settings) -> bool:
    """HSTS in production, when the public URL is https (TLS at the platform's router)."""
    return settings.env == "production" and settings.public_base_url.startswith("https://")


def install(app, settings) -> None:
    """Add the headers to every response `app` sends (errors and static files too)."""
    headers = security_headers(hsts=wants_hsts(settings))

    @app.after_request
    def security(response):
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
