"""rq-dashboard, mounted at /admin/rq/ behind the admin's sign-in, for admins only.

The admin's own guard covers it like every /admin URL (anonymous: the sign-in page; a POST
needs the CSRF token); here facilitators get 403. Its pages differ from the rest of the admin
in two ways, handled here and in `admin/templates/rq_dashboard/base.html` (our copy of its
base template, which Flask finds first):
- its tables are drawn with underscore.js templates, which compile with `new Function`, and
  a few buttons carry `style` attributes, so its pages get their own Content-Security-Policy
  ('unsafe-eval', inline styles) — still no inline script without the request's nonce;
- its buttons POST with jQuery and no token, so our copy of the base template hands jQuery
  the session's CSRF token as a header;
- its "Requeue all" also answers GET upstream: here every action answers POST only.
Job arguments are ids only (jobs/tasks.py), so nothing it shows names a participant.
"""

from __future__ import annotations

from flask import abort, request
from flask_login import current_user
from rq.exceptions import NoSuchJobError

URL = "/admin/rq"
BLUEPRINT = "rq_dashboard"
# Its endpoints that change the queues. rq-dashboard 0.9.0 routes `requeue_all` ("Requeue
# all" failed jobs of a lane) for GET as well as POST: its button is a link that its script
# turns into a POST, so any link or <img> an admin's browser followed would requeue them.
# Here they all answer POST only (with the CSRF token, like every admin POST).
ACTIONS = {
    f"{BLUEPRINT}.{name}"
    for name in (
        "requeue_all",
        "requeue_job_view",
        "delete_job_view",
        "empty_queue",
        "compact_queue",
    )
}


def mount(app, services) -> None:
    import rq_dashboard
    from rq_dashboard import web

    _one_connection_per_url(web)
    app.config["RQ_DASHBOARD_REDIS_URL"] = services.settings.effective_redis_url
    web.setup_rq_connection(app)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix=URL)

    @app.errorhandler(NoSuchJobError)
    def no_such_job(exc):
        # rq-dashboard 0.9.0 lets this through as a 500 (a job that expired or was deleted).
        return app.response_class(
            "No such job (it may have expired).\n", 404, mimetype="text/plain"
        )

    @app.before_request
    def rq_dashboard_for_admins_only():
        # Runs after the admin guard (registered first), which has sent anonymous visitors
        # to the sign-in page already.
        if request.blueprint != BLUEPRINT:
            return
        if not getattr(current_user, "is_admin", False):
            abort(403)
        if request.endpoint in ACTIONS and request.method != "POST":
            abort(405, valid_methods=["POST"])


def _one_connection_per_url(web) -> None:
    """Workaround: rq-dashboard 0.9.0's `push_rq_connection` (a before_request hook) calls
    `redis_sentinel_url.connect(url)` on every request, a new connection pool each time;
    one per URL, made on first use, serves every request."""
    if getattr(web.from_url, "realign_shared", False):
        return
    connect, made = web.from_url, {}

    def shared(url, **kwargs):
        if url not in made:
            made[url] = connect(url, **kwargs)
        return made[url]

    shared.realign_shared = True
    web.from_url = shared
