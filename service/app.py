"""The app factory: the one place that knows every part and wires them together."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from werkzeug.middleware.proxy_fix import ProxyFix

from service.config import Settings, load_settings
from service.infra.health import check_health
from service.infra.logs import install_redaction
from service.services import Services, build_services


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build the web app. `overrides` (engine, redis, gateway, clock) replace real parts."""
    # Imported here: service/ must not depend on the adapters at import time.
    import admin
    import jobs.dispatch
    import webhooks

    settings = settings or load_settings()
    install_redaction(settings.log_level)
    overrides.setdefault("dispatcher_factory", jobs.dispatch.RQDispatcher.for_services)
    services = build_services(settings, **overrides)

    app = Flask("realign", instance_path=str(settings.instance_dir.resolve()))
    # Heroku-like routers put the client address in X-Forwarded-For (login throttling
    # keys on it). Twilio signatures never depend on this: they use PUBLIC_BASE_URL.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=0)
    app.config.update(
        SECRET_KEY=settings.effective_secret_key(),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
        REALIGN_SETTINGS=settings,
    )
    app.extensions["realign"] = services

    webhooks.init_app(app, services)
    admin.init_app(app, services)

    @app.get("/healthz")
    def healthz():
        report = check_health(services)
        return jsonify(report), 200 if report["ok"] else 503

    @app.get("/")
    def index():
        return (
            "<!doctype html><title>Realign</title><p>Realign is running. "
            '<a href="/admin/">Facilitator sign-in</a></p>'
        )

    return app


def services_of(app: Flask) -> Services:
    return app.extensions["realign"]
