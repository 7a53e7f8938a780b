"""The admin's own "not found" and "not allowed" pages, with its menu; other paths keep
their own error answers (the webhooks' and the read API's)."""

from __future__ import annotations

from flask import request
from flask_admin import Admin, BaseView, expose
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from admin.auth import is_admin_path
from admin.i18n import lazy_

PAGES = {
    404: (
        lazy_("Page not found"),
        lazy_("There is nothing here, or it is not one of your programs."),
    ),
    403: (
        lazy_("Not allowed"),
        lazy_("Your account cannot open this page. An admin can change your role."),
    ),
}


class ErrorPage(BaseView):
    """Renders inside the admin's layout; never in the menu and never routed itself."""

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self):  # Flask-Admin asks every view for one; never registered, never reached
        return ""


def register(app, admin: Admin) -> None:
    page = ErrorPage(name=lazy_("Error"), endpoint="realign_error")
    page.admin = admin

    def handle(exc: HTTPException):
        if exc.code not in PAGES or not is_admin_path(request.path):
            return exc  # as Flask would answer it
        title, text = PAGES[exc.code]
        # A refusal that says why (another site's form, a stale page) keeps its words.
        if exc.description and exc.description != type(exc).description:
            text = exc.description
        body = page.render(
            "realign/error.html",
            code=exc.code,
            title=title,
            text=text,
            signed_in=current_user.is_authenticated,
        )
        return body, exc.code

    # By class, not by code: Flask looks up handlers for a code (a blueprint's and the app's)
    # before handlers for a class, so a code handler here would win over the read API's own
    # (its blueprint answers every HTTPException in JSON).
    app.register_error_handler(HTTPException, handle)
