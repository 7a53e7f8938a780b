"""Queue health, for admins: RQ's queues, registries, workers and failed jobs.

A summary on one admin page, read with RQ's own API, behind the admin's login (anonymous:
sign-in page; facilitators: 403), that says so plainly when Redis is down; a failed job can
be requeued (POST + CSRF). It links to rq-dashboard (admin/queue_dashboard.py) for browsing
jobs and registries. Job arguments are ids only (jobs/tasks.py), so nothing here shows a
phone number or a message. `/admin/queues/health` answers /healthz's details (JSON).
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job

from admin.base import deny, is_allowed
from admin.i18n import _, lazy_
from service import records
from service.infra.queue import LANES
from service.messaging import health

FAILED_SHOWN = 50
WORKER_STATES = {
    "busy": lazy_("Working"),
    "idle": lazy_("Waiting for work"),
    "started": lazy_("Starting"),
    "suspended": lazy_("Suspended"),
}


def last_line(text: str | None) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def queue_stats(redis) -> dict:
    # The lanes first, in the order workers take them; any other queue after them.
    order = [lane.value for lane in LANES]
    queues = {q.name: q for q in Queue.all(connection=redis)}
    queues.update((name, Queue(name, connection=redis)) for name in order if name not in queues)
    rank = {name: i for i, name in enumerate(order)}
    rows, failed = [], []
    for q in sorted(queues.values(), key=lambda q: (rank.get(q.name, len(order)), q.name)):
        rows.append(
            {
                "name": q.name,
                "queued": q.count,
                "started": q.started_job_registry.count,
                "scheduled": q.scheduled_job_registry.count,
                "deferred": q.deferred_job_registry.count,
                "failed": q.failed_job_registry.count,
                "finished": q.finished_job_registry.count,
                "canceled": q.canceled_job_registry.count,
            }
        )
        ids = q.failed_job_registry.get_job_ids(0, FAILED_SHOWN - 1)
        for job in Job.fetch_many(ids, connection=redis):
            if job is None:
                continue
            failed.append(
                {
                    "queue": q.name,
                    "id": job.id,
                    "func": job.func_name,
                    "ended_at": job.ended_at,
                    "error": last_line(job.exc_info),
                }
            )
    workers = [
        {
            "name": w.name,
            "state": w.get_state(),
            "state_words": str(WORKER_STATES.get(w.get_state(), w.get_state())),
            "queues": ", ".join(w.queue_names()),
            "job": w.get_current_job_id() or "",
            "heartbeat": w.last_heartbeat,
            "done": w.successful_job_count,
            "failed": w.failed_job_count,
        }
        for w in Worker.all(connection=redis)
    ]
    return {"queues": rows, "failed": failed, "workers": workers}


class QueueHealthView(BaseView):
    def __init__(self, db, services, **kwargs):
        super().__init__(**kwargs)
        self.db, self.services = db, services

    def is_accessible(self) -> bool:
        return is_allowed(admin_only=True)

    def inaccessible_callback(self, name, **kwargs):
        return deny()

    @expose("/")
    def index(self):
        try:
            stats, error = queue_stats(self.services.redis), None
        except RedisError as exc:
            stats, error = {"queues": [], "failed": [], "workers": []}, str(exc)
        page = self.render("realign/queues.html", error=error, **stats)
        return (page, 503) if error else page

    @expose("/health")
    def health(self):
        """/healthz's details (database, Redis, spool, Twilio), for admins signed in."""
        report = health.detail(self.services)
        return jsonify(report), 200 if report["ok"] else 503

    @expose("/requeue/<job_id>", methods=("POST",))
    def requeue(self, job_id: str):
        redis = self.services.redis
        try:
            job = Job.fetch(job_id, connection=redis)
            queue = Queue(job.origin, connection=redis)
            queue.failed_job_registry.requeue(job_id)
        except (NoSuchJobError, ValueError, TypeError):
            abort(404)
        except RedisError:
            abort(503)
        records.audit(
            self.db,
            current_user.actor,
            "queue.requeue",
            None,
            now=self.services.now(),
            detail={"job": job_id},
        )
        self.db.commit()
        flash(_("The job was put back on its queue."), "success")
        return redirect(url_for(".index"))
