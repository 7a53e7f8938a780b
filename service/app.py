"""The composition root: the one place that knows every part and wires them together.

`build_services` makes the parts of one process from settings; `create_app` builds the web
app on them (webhooks, admin and the read API mounted), `worker_services` the RQ
worker's. Nothing is built at import.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import redis as redis_lib
import sqlalchemy as sa

from service.config import Settings, load_settings
from service.core import catalogs
from service.infra import headers, metrics
from service.infra.db import make_engine, session_factory
from service.infra.errors import init_sentry
from service.infra.gateway import Gateway
from service.infra.logs import install_redaction
from service.infra.queue import Dispatcher, NullDispatcher, RQDispatcher
from service.infra.ratelimit import SenderRateLimit
from service.infra.twilio_gateway import build_gateway
from service.messaging import health
from service.models import utcnow
from service.program.webhooks import attention_raised
from service.services import EXTENSION, Services

if TYPE_CHECKING:
    from flask import Flask


def build_services(
    settings: Settings,
    *,
    engine: sa.Engine | None = None,
    redis: redis_lib.Redis | None = None,
    gateway: Gateway | None = None,
    clock: Callable[[], datetime] | None = None,
    queue: bool = True,
    quick_engine: sa.Engine | None = None,
) -> Services:
    """The parts of one process (lazily connecting); anything given is used as is.
    `queue=False` leaves jobs unqueued (the database keeps the work for a sweeper).

    The webhooks get the same parts on a second engine that gives up after
    WEBHOOK_DB_TIMEOUT (`quick_engine`), so that Twilio is answered in time and what it
    sent is spooled; with an `engine` given and no `quick_engine`, they share `engine`.

    Every language's participant texts are read first: a process without its compiled
    catalogs stops here, saying how to build them, rather than text anyone in English.
    """
    catalogs.check_catalogs()
    if engine is None:
        url = settings.effective_database_url
        engine = make_engine(url)
        quick_engine = quick_engine or make_engine(url, timeout=settings.webhook_db_timeout)
    if redis is None:
        redis = redis_lib.Redis.from_url(
            settings.effective_redis_url, socket_connect_timeout=2, socket_timeout=5
        )
    if gateway is None:
        gateway = build_gateway(
            None if settings.twilio_console_mode else settings.twilio_account_sid,
            settings.twilio_auth_token,
            api_base_url=settings.twilio_api_base_url or None,
            timeout=settings.twilio_timeout,
            pool_size=settings.send_concurrency,
        )
    dispatcher: Dispatcher = RQDispatcher(redis) if queue else NullDispatcher()
    services = Services(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        redis=redis,
        gateway=gateway,
        rate_limit=SenderRateLimit(redis, settings.sender_mps),
        webhook_token=settings.webhook_auth_token(),
        dispatcher=dispatcher,
        clock=clock or utcnow,
        attention_hooks=(attention_raised,),
    )
    if quick_engine is not None:
        services.quick = dataclasses.replace(
            services, engine=quick_engine, sessions=session_factory(quick_engine), quick=None
        )
    return services


def worker_services() -> Services:
    """The RQ worker's parts, from the environment."""
    settings = load_settings()
    install_redaction(settings.log_level)
    init_sentry(settings)
    return build_services(settings)


def create_app(settings: Settings | None = None, **overrides) -> Flask:
    """Build the web app. `overrides` (engine, redis, gateway, clock) replace real parts."""
    # Imported here, not at the top: the entry points sit above the service, and only this
    # root (and the CLI) may reach up to them; and the worker, which builds no web app,
    # starts without loading Flask.
    from flask import Flask, abort, jsonify, request
    from werkzeug.middleware.proxy_fix import ProxyFix

    import admin
    import readapi
    import webhooks

    settings = settings or load_settings()
    install_redaction(settings.log_level)
    init_sentry(settings)
    services = build_services(settings, **overrides)

    app = Flask("realign", instance_path=str(settings.instance_dir.resolve()))
    # Behind TRUSTED_PROXIES proxies (Heroku's router: 1) the client's address and scheme
    # are the ones they append to X-Forwarded-For/-Proto (sign-in throttling keys on the
    # address). Without any the headers are ignored: a client could write whatever address
    # it liked there. Twilio signatures never depend on this: they use PUBLIC_BASE_URL.
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=0)
    app.config.update(
        SECRET_KEY=settings.effective_secret_key(),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
    )
    app.extensions[EXTENSION] = services
    # Registered first, so it runs last: it fills in what an area did not set itself.
    headers.install(app, settings)

    webhooks.init_app(app, services)
    admin.init_app(app, services)
    readapi.init_app(app, services)

    # Anyone (the platform's health check) learns only whether the service is up; the
    # details are for HEALTH_TOKEN's bearer (admins see them at /admin/queues/health).
    @app.get("/healthz")
    def healthz():
        authorization = request.headers.get("Authorization")
        if authorization is None:
            report = health.public(services)
        elif metrics.bearer_ok(authorization, settings.health_token):
            report = health.detail(services)
        else:
            return "unauthorized\n", 401, {"WWW-Authenticate": "Bearer"}
        return jsonify(report), 200 if report["ok"] else 503, {"Cache-Control": "no-store"}

    # Prometheus scrapes every process's metrics here (kept in Redis, read at scrape time),
    # behind METRICS_TOKEN; without one there is no endpoint.
    registry = metrics.make_registry(services.engine, services.redis)

    @app.get("/metrics")
    def prometheus_metrics():
        if not settings.metrics_token:
            abort(404)
        if not metrics.bearer_ok(request.headers.get("Authorization"), settings.metrics_token):
            return "unauthorized\n", 401, {"WWW-Authenticate": "Bearer"}
        return metrics.render(registry), 200, {"Content-Type": metrics.CONTENT_TYPE}

    @app.get("/")
    def index():
        return (
            "<!doctype html><title>Realign</title><p>Realign is running. "
            '<a href="/admin/">Facilitator sign-in</a></p>'
        )

    return app
