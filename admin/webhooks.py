"""A facilitator's own event webhooks: register an endpoint (its secret shown on that page
only), read each endpoint's delivery log, resend a delivery, disable an endpoint. Everyone,
admins too, sees only their own; CSRF is checked for every POST under /admin."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from admin.base import SignedInView
from admin.i18n import _
from service.core.enums import WebhookEvent
from service.core.numbers import whole_number
from service.models import Facilitator
from service.program import webhooks
from service.unit_of_work import UnitOfWork


class WebhookView(SignedInView):
    def __init__(self, services, **kwargs):
        super().__init__(**kwargs)
        self.services = services

    def _me(self, session) -> Facilitator:
        return session.get(Facilitator, current_user.id)

    def _page(self, session, **extra):
        return self.render(
            "realign/webhooks.html",
            rows=webhooks.owned(session, self._me(session)),
            events=[(value, _(text)) for value, text in WebhookEvent.choices()],
            **{"created": None, "problem": None, "url": "", **extra},
        )

    @expose("/")
    def index(self):
        with self.services.sessions() as session:
            return self._page(session)

    @expose("/new", methods=("POST",))
    def create(self):
        url = request.form.get("url", "")
        events = request.form.getlist("events")
        svc = self.services
        with svc.sessions() as session:
            try:
                production = svc.settings.env == "production"
                endpoint = webhooks.register(
                    session, self._me(session), url, events, now=svc.now(),
                    allow_local=not production, production=production, resolve=svc.resolve,
                )  # fmt: skip
            except webhooks.WebhookError as exc:
                session.rollback()
                return self._page(session, problem=str(exc), url=url[:500]), 400
            session.commit()
            response = make_response(self._page(session, created=endpoint))
        response.headers["Cache-Control"] = "no-store"  # the secret is in this page only
        return response

    @expose("/log")
    def log(self):
        with self.services.sessions() as session:
            try:
                endpoint = webhooks.own_endpoint(
                    session, self._me(session), whole_number(request.args.get("id"))
                )
            except webhooks.EndpointNotFound:
                abort(404)
            return self.render(
                "realign/webhook_log.html",
                endpoint=endpoint,
                rows=webhooks.recent(session, endpoint),
            )

    @expose("/resend", methods=("POST",))
    def resend(self):
        with UnitOfWork(self.services) as uow:
            try:
                row = webhooks.resend(
                    uow, self._me(uow.session), whole_number(request.form.get("id"))
                )
            except webhooks.EndpointNotFound:
                abort(404)
            except webhooks.WebhookError as exc:
                flash(str(exc), "error")
                return redirect(url_for(".index"))
            uow.commit()
            flash(_("The delivery is queued to be sent again."), "success")
            return redirect(url_for(".log", id=row.endpoint_id))

    @expose("/disable", methods=("POST",))
    def disable(self):
        svc = self.services
        with svc.sessions() as session:
            try:
                webhooks.disable(
                    session, self._me(session), whole_number(request.form.get("id")), now=svc.now()
                )
            except webhooks.EndpointNotFound:
                abort(404)
            session.commit()
        flash(_("The endpoint is disabled: nothing more is sent to it."), "success")
        return redirect(url_for(".index"))
