"""A facilitator's own API tokens: create (the token is shown on that one page only), list
and revoke. Everyone, admins too, sees and revokes only their own; CSRF is checked for
every POST under /admin (admin/security.py)."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from admin.base import SignedInView
from admin.i18n import _
from service.core.enums import ApiScope
from service.core.numbers import whole_number
from service.models import Facilitator
from service.program import tokens


class ApiTokenView(SignedInView):
    def __init__(self, services, **kwargs):
        super().__init__(**kwargs)
        self.services = services

    def _page(self, session, *, created=None, token=None, problem=None, name=""):
        me = session.get(Facilitator, current_user.id)
        page = self.render(
            "realign/api_tokens.html",
            rows=tokens.owned(session, me),
            created=created,
            token=token,
            problem=problem,
            name=name,
            scope_label=_(ApiScope.PHONES.label),
        )
        return page

    @expose("/")
    def index(self):
        with self.services.sessions() as session:
            return self._page(session)

    @expose("/new", methods=("POST",))
    def create(self):
        name = request.form.get("name", "")
        scopes = [ApiScope.PHONES] if request.form.get("phones") else []
        svc = self.services
        with svc.sessions() as session:
            me = session.get(Facilitator, current_user.id)
            try:
                row, token = tokens.create(
                    session, me, name, scopes=scopes, now=svc.now(), actor=f"facilitator:{me.id}"
                )
            except ValueError as exc:
                session.rollback()
                return self._page(session, problem=str(exc), name=name[:80]), 400
            session.commit()
            # The token is in this page only: never stored, never flashed into the session.
            response = make_response(self._page(session, created=row, token=token))
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/revoke", methods=("POST",))
    def revoke(self):
        token_id = whole_number(request.form.get("id"))
        if token_id is None:
            abort(404)
        svc = self.services
        with svc.sessions() as session:
            me = session.get(Facilitator, current_user.id)
            try:
                row = tokens.revoke(
                    session, me, token_id, now=svc.now(), actor=f"facilitator:{me.id}"
                )
            except tokens.TokenNotFound:
                abort(404)
            session.commit()
            flash(
                _("The token “%(name)s” is revoked: it is refused from now on.", name=row.name),
                "success",
            )
        return redirect(url_for(".index"))
