"""Mount Flask-Admin at /admin.

Flask-Admin and the database session (a deliberate choice): Flask-Admin 2.2 prefers a
Flask-SQLAlchemy(-Lite) `db` object and only warns, until 3.0, when given a session. The rest
of the service already owns its engine and sessions (`Services`), and Flask-SQLAlchemy-Lite
would build a second engine from app config. So the admin gets a plain SQLAlchemy
`scoped_session` bound to `services.engine` (a SQLModel session would warn on every
`query()` Flask-Admin makes), scoped to the Flask app context and removed at its teardown.
The deprecation warning is silenced where the views are built (admin/base.py); moving to
Flask-Admin 3.0 means wrapping this session in a small object with a `.session` attribute.

See admin/auth.py for sign-in, admin/security.py for CSRF and CSP, admin/base.py for row
scoping.
"""

from __future__ import annotations

from flask import Blueprint, request
from flask.globals import app_ctx
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from sqlalchemy.orm import scoped_session, sessionmaker

from admin import errors, favicon, queue_dashboard, security, times
from admin.account import AccountView
from admin.api_tokens import ApiTokenView
from admin.auth import init_auth, is_admin_path
from admin.dashboard import DashboardView
from admin.i18n import init_i18n, label, lazy_
from admin.inbox import InboxView
from admin.participants import register as register_participants
from admin.programs import ProgramView
from admin.queues import QueueHealthView
from admin.simulator import SimulatorView
from admin.views import (
    AuditEventView,
    FacilitatorView,
)
from admin.webhooks import WebhookView
from service.models import AuditEvent, Facilitator, Program


def init_admin(app, services) -> Admin:
    db = scoped_session(
        sessionmaker(bind=services.engine), scopefunc=lambda: id(app_ctx._get_current_object())
    )
    app.teardown_appcontext(lambda exc: db.remove())

    # Our templates (realign/*.html) and static files (CSS, the segment counter script);
    # registered before Flask-Admin's own blueprints.
    app.register_blueprint(
        Blueprint(
            "realign_admin",
            __name__,
            template_folder="templates",
            static_folder="static",
            static_url_path="/admin/_realign",
        )
    )
    app.jinja_env.globals["admin_csrf_token"] = security.csrf_token
    app.jinja_env.globals["admin_csp_nonce"] = security.csp_nonce
    # `value|label('participant_status')`: what people read, never a stored key.
    # In the facilitator's language (admin/i18n.py).
    app.jinja_env.filters["label"] = lambda value, kind: label(kind, value)
    times.register(app)  # `at|yourtime`: in the facilitator's zone, UTC in a tooltip
    init_auth(app, services, db)
    # Every admin page speaks the facilitator's language (admin/i18n.py).
    init_i18n(app)

    @app.after_request
    def admin_headers(response):
        if is_admin_path(request.path):
            rq_pages = request.blueprint == queue_dashboard.BLUEPRINT
            security.add_security_headers(
                response,
                static=request.endpoint in ("admin.static", "rq_dashboard.static"),
                policy=security.rq_dashboard_policy
                if rq_pages
                else security.content_security_policy,
            )
        return response

    admin = Admin(
        app,
        name="Realign",
        index_view=DashboardView(db, services, name=lazy_("Today")),
        theme=Bootstrap4Theme(base_template="realign/base.html"),
        csp_nonce_generator=security.csp_nonce,
    )
    admin.add_view(ProgramView(Program, db, name=lazy_("Programs"), endpoint="programs"))
    register_participants(admin, app, db)
    admin.add_view(InboxView(db, services, name=lazy_("Inbox"), endpoint="inbox"))
    admin.add_view(
        FacilitatorView(Facilitator, db, name=lazy_("Facilitators"), endpoint="facilitators")
    )
    admin.add_view(AuditEventView(AuditEvent, db, name=lazy_("Audit log"), endpoint="audit"))
    admin.add_view(SimulatorView(db, services, name=lazy_("Simulator"), endpoint="simulator"))
    admin.add_view(
        ApiTokenView(services, name=lazy_("API tokens"), endpoint="api_tokens", url="api-tokens")
    )
    admin.add_view(
        WebhookView(services, name=lazy_("Webhooks"), endpoint="webhooks", url="webhooks")
    )
    admin.add_view(QueueHealthView(db, services, name=lazy_("Queue health"), endpoint="queues"))
    admin.add_view(AccountView(db, name=lazy_("My account"), endpoint="account", url="account"))
    queue_dashboard.mount(app, services)
    errors.register(app, admin)
    favicon.register(app)
    app.extensions["realign_admin"] = admin
    return admin
