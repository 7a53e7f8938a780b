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
- its "Requeue all" also answers GET upstream: here every action answers POST only;
- it reads its instance, page and page size from the path with `int()` (a page of '²' or
  size 0 is a 500 upstream, an instance it lacks a LookupError): here a path it cannot read
  is 404 (`readable_path`), as is a job id RQ refuses ('a.b': a ValueError upstream);
- its "Compact" renames the queue's list, which Redis refuses for a queue with no jobs (a
  500 upstream): an empty queue is compact already, so that answers OK at once.
Job arguments are ids only (jobs/tasks.py), so nothing it shows names a participant.
"""

from __future__ import annotations

from flask import abort, jsonify, request
from flask_login import current_user
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import JOB_ID_PATTERN

from service.core.numbers import whole_number

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
            return None
        if not getattr(current_user, "is_admin", False):
            abort(403)
        if request.endpoint in ACTIONS and request.method != "POST":
            abort(405, valid_methods=["POST"])
        if not readable_path(request.view_args or {}, len(app.config["RQ_DASHBOARD_REDIS_URL"])):
            abort(404)
        if request.endpoint == f"{BLUEPRINT}.compact_queue":
            queue = Queue(request.view_args["queue_name"], connection=services.redis)
            if not services.redis.exists(queue.key):
                return jsonify(status="OK")
        return None


MAX_PER_PAGE = 100  # its page sizes go up to 100
MAX_PAGE = 10**6
# The registries it lists; any other name leaves its job list unassigned (an error, not a
# 404, in rq-dashboard's get_queue_registry_jobs_count).
REGISTRIES = frozenset(
    {"queued", "failed", "deferred", "started", "finished", "scheduled", "canceled"}
)


def readable_path(args: dict, instances: int) -> bool:
    """Whether rq-dashboard can read its path: an instance it has, a page size and a page it
    can count with, a job id RQ accepts (RQ raises on any other), a registry it knows."""
    if "registry_name" in args and args["registry_name"] not in REGISTRIES:
        return False
    if "job_id" in args and not JOB_ID_PATTERN.fullmatch(args["job_id"]):
        return False
    instance = args.get("instance_number")
    if instance is not None and not 0 <= instance < instances:
        return False
    if "per_page" in args and not 1 <= (whole_number(str(args["per_page"])) or 0) <= MAX_PER_PAGE:
        return False
    return "page" not in args or 1 <= (whole_number(str(args["page"])) or 0) <= MAX_PAGE


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
