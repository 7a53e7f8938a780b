"""Twilio's requests carry no session: skip the signed cookie on webhook URLs."""

from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface

PREFIX = "/twilio/"


class NoSessionForWebhooks(SecureCookieSessionInterface):
    """Flask's cookie session everywhere else. Opening it builds a signing serializer
    on every request, a measurable share of a webhook's cost, for a cookie Twilio never
    sends; webhooks get the null session (reading works, writing raises)."""

    def open_session(self, app, request):
        if request.path.startswith(PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)
