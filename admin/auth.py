"""Signing facilitators in and out of the admin (Flask-Login), with throttle and idle timeout.

* `/admin/login` (GET, POST) and `/admin/logout` (POST only) live on the index view, so they
  render with Flask-Admin's templates and CSP nonce.
* One `before_request` hook guards every /admin URL, in this order: refuse (403) a POST
  the browser says came from another site (admin/security.py); end a session idle
  longer than `ADMIN_IDLE_MINUTES` (default 30), older than `ADMIN_LIFETIME_HOURS` (default
  12) however active, or signed out already (a copy of its cookie: admin/sessions.py); send
  anyone not signed in to the sign-in page; check the CSRF token of every POST (sign-in
  included); refuse parameters no view can read safely (admin/inputs.py: NUL is 400, a path
  number beyond what the database holds is 404).
* Sign-in tries are counted in Redis (admin/throttle.py), before the password is checked,
  per account whatever the address and per client address whatever the account, so every
  gunicorn process shares them: past 5 tries at an account or 20 from an address within
  15 minutes, tries are refused (429, "Too many tries; wait N minutes") until the window
  is over; a right password hands its try back. The client address is the socket's, or
  X-Forwarded-For's as far as `TRUSTED_PROXIES` proxies vouch for it (service/app.py).
  If Redis is down the throttle lets tries through (argon2 still slows guessing) and logs
  a warning, rather than locking every facilitator out; a sign-in then waits for one
  failed Redis call (about 3 s with redis-py's default retries).
* The session remembers `id:fingerprint-of-password-hash`: changing a password or
  deactivating a facilitator ends their other sessions at the next request.
* Sign-in, sign-out and failed or refused sign-ins each write an AuditEvent (never a password).
"""

from __future__ import annotations

import hashlib

from flask import current_app, flash, redirect, request, session, url_for
from flask_admin import AdminIndexView, expose
from flask_admin.form import SecureForm
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from admin.base import deny, is_allowed
from admin.inputs import check_inputs
from admin.security import SAFE_METHODS, check_csrf, check_same_origin
from admin.sessions import EndedSessions, new_session_id
from admin.throttle import LoginThrottle
from service import records
from service.core import redirects
from service.core.numbers import whole_number
from service.core.signin import wait_text
from service.models import Facilitator
from service.program import accounts

ADMIN_URL = "/admin"
PUBLIC_ENDPOINTS = {"admin.login", "admin.static"}


class AdminUser(UserMixin):
    """The signed-in facilitator, as Flask-Login sees them (a detached snapshot)."""

    def __init__(self, facilitator: Facilitator):
        self.id = facilitator.id
        self.email = facilitator.email
        self.name = facilitator.name
        self.role = facilitator.role
        self.timezone = facilitator.timezone  # their own times are shown in it
        self.token = fingerprint(facilitator)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> str:
        return f"facilitator:{self.id}"

    def get_id(self) -> str:
        return f"{self.id}:{self.token}"


def fingerprint(facilitator: Facilitator) -> str:
    return hashlib.sha256(facilitator.password_hash.encode()).hexdigest()[:16]


def load_user(db, user_id: str) -> AdminUser | None:
    fid, _, token = (user_id or "").partition(":")
    facilitator_id = whole_number(fid)
    if facilitator_id is None:
        return None
    facilitator = db.get(Facilitator, facilitator_id)
    if facilitator is None or not facilitator.is_active or fingerprint(facilitator) != token:
        return None
    return AdminUser(facilitator)


class LoginForm(SecureForm):
    email = StringField("Email", validators=[InputRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=1024)])


def safe_next(target: str | None) -> str | None:
    """Only a path inside the admin (see service/core/redirects.py); anything else is dropped."""
    return redirects.local_target(target, ADMIN_URL)


def is_admin_path(path: str) -> bool:
    return path == ADMIN_URL or path.startswith(ADMIN_URL + "/")


def audit(db, services, actor: str, action: str, entity=None, **detail) -> None:
    records.audit(db, actor, action, entity, now=services.now(), detail=detail)
    db.commit()


def init_auth(app, services, db) -> None:
    """Flask-Login and the guard that runs before every admin request."""
    login_manager = LoginManager()
    login_manager.init_app(app)
    login_manager.user_loader(lambda user_id: load_user(db, user_id))
    app.config.setdefault("ADMIN_IDLE_MINUTES", 30)
    app.config.setdefault("ADMIN_LIFETIME_HOURS", 12)
    ended = EndedSessions(services.redis)

    @app.before_request
    def guard_admin():
        if not is_admin_path(request.path) or request.endpoint == "admin.static":
            return None
        unsafe = request.method not in SAFE_METHODS
        if unsafe:
            check_same_origin(services.settings.public_base_url)
        expire_idle_session(db, services)
        end_old_or_ended_session(db, services, ended)
        if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
            return deny()
        if unsafe:
            check_csrf()
        check_inputs()
        return None


SEEN_EVERY = 60  # seconds


def lifetime_s() -> int:
    return int(current_app.config["ADMIN_LIFETIME_HOURS"] * 3600)


def end_old_or_ended_session(db, services, ended: EndedSessions) -> None:
    """Sign out a session past its absolute lifetime, or one already signed out."""
    if "_user_id" not in session:
        return
    fid = str(session.get("_user_id", "")).partition(":")[0]
    since = session.get("admin_since")
    now = int(services.now().timestamp())
    if since is None or now - since > lifetime_s():
        ended.end(session.get("admin_sid"), lifetime_s())
        logout_user()
        session.clear()
        hours = current_app.config["ADMIN_LIFETIME_HOURS"]
        audit(db, services, f"facilitator:{fid}", "admin.logout", reason="lifetime", hours=hours)
        flash(f"You were signed out: a session lasts at most {hours:g} hours.", "info")
    elif ended.ended(session.get("admin_sid")):
        logout_user()
        session.clear()  # (the cookie's owner signed out: this is a copy of it)
        audit(db, services, f"facilitator:{fid}", "admin.session_refused", reason="signed_out")


def expire_idle_session(db, services) -> None:
    """Sign out a session idle too long; otherwise note this request as activity."""
    if "_user_id" not in session:
        return
    now = int(services.now().timestamp())
    minutes = current_app.config["ADMIN_IDLE_MINUTES"]
    seen = session.get("admin_seen")
    if seen is not None and now - seen <= minutes * 60:
        # Noted at most once a minute: each write re-sends the session cookie, and a
        # background request's cookie (the import's progress poll) would otherwise
        # overwrite one a concurrent request just set, with its flash message.
        if now - seen >= SEEN_EVERY:
            session["admin_seen"] = now
        return
    fid = str(session.get("_user_id", "")).partition(":")[0]
    logout_user()
    session.clear()
    audit(db, services, f"facilitator:{fid}", "admin.logout", reason="idle", minutes=minutes)
    flash(f"You were signed out after {minutes} minutes without activity.", "info")


class AuthIndexView(AdminIndexView):
    """The admin's home view, carrying the sign-in and sign-out pages."""

    def __init__(self, db, services, **kwargs):
        super().__init__(url=ADMIN_URL, **kwargs)
        self.db, self.services = db, services
        self.throttle = LoginThrottle(services.redis)

    def is_accessible(self) -> bool:
        return is_allowed(admin_only=False)

    def inaccessible_callback(self, name, **kwargs):
        return deny()

    def _handle_view(self, name, **kwargs):
        if name == "login":  # public; the guard hook has checked CSRF on POST
            return None
        return super()._handle_view(name, **kwargs)

    @expose("/login", methods=("GET", "POST"))
    def login(self):
        target = safe_next(request.values.get("next")) or url_for("admin.index")
        if current_user.is_authenticated:
            return redirect(target)
        form = LoginForm(request.form)
        if request.method == "POST":
            if not form.validate():
                return self._login_page(form, "Please enter your email and password.", 400)
            return self._sign_in(form, target)
        return self._login_page(form)

    def _sign_in(self, form, target):
        email = accounts.normalize_email(form.email.data)
        address = request.remote_addr or ""  # the client's, as TRUSTED_PROXIES allows
        verdict = self.throttle.begin(email, address)  # counted before the password is checked
        if verdict is not None and verdict.wait_s:
            if verdict.first_refusal:
                self._record_anonymous("admin.login_refused", email, address)
            headers = {"Retry-After": str(verdict.wait_s)}
            return self._login_page(form, wait_text(verdict.wait_s), 429, headers)
        facilitator = accounts.authenticate(self.db, email, form.password.data)
        if facilitator is None:
            self._record_anonymous("admin.login_failed", email, address)
            return self._login_page(form, "That email and password do not match.")
        if verdict is not None:  # None: Redis is down; do not wait for it twice
            self.throttle.accepted(email, address)
        facilitator.last_login_at = self.services.now()
        user = AdminUser(facilitator)  # after any rehash, so the fingerprint is current
        audit(self.db, self.services, user.actor, "admin.login", facilitator, address=address)
        session.clear()  # a fresh session (and CSRF secret) for the signed-in facilitator
        login_user(user)
        session["admin_seen"] = session["admin_since"] = int(self.services.now().timestamp())
        session["admin_sid"] = new_session_id()
        return redirect(target)

    def _record_anonymous(self, action, email, address):
        audit(self.db, self.services, "anonymous", action, email=email, address=address)

    def _login_page(self, form, error=None, status=200, headers=None):
        form.password.data = ""
        page = self.render(
            "realign/login.html",
            form=form,
            error=error,
            next=safe_next(request.values.get("next")),
        )
        return page, status, headers or {}

    @expose("/logout", methods=("POST",))
    def logout(self):
        actor = current_user.actor
        # A copy of this cookie is refused from now on, not only this browser's.
        EndedSessions(self.services.redis).end(session.get("admin_sid"), lifetime_s())
        logout_user()
        session.clear()
        audit(self.db, self.services, actor, "admin.logout", reason="user")
        flash("You are signed out.", "info")
        return redirect(url_for("admin.login"))
