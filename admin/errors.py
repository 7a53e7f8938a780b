"""The admin's own "not found" and "not allowed" pages, with its menu; other paths keep
their own error answers (the webhooks' and the read API's)."""

from __future__ import annotations

from flask import request
from flask_admin import Admin, BaseView, expose
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from admin.auth import is_admin_path

PAGES = {
    404: ("Page not found", "There is nothing here, or it is not one of your programs."),
    403: ("Not allowed", "Your account cannot open this page. An admin can change your role."),
}


class ErrorPage(BaseView):
    """Renders inside the admin's layout; never in the menu and never routed itself."""

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self):  # Flask-Admin asks every view for one; never registered, never reached
        return ""


def register(app, admin: Admin) -> None:
    page = ErrorPage(name="Error", endpoint="realign_error")
    page.admin = admin

    def handle(exc: HTTPException):
        if not is_admin_path(request.path):
            return exc
        title, text = PAGES[exc.code]
        body = page.render(
            "realign/error.html",
            code=exc.code,
            title=title,
            text=text,
            signed_in=current_user.is_authenticated,
        )
        return body, exc.code

    for code in PAGES:
        app.register_error_handler(code, handle)
