"""The parts every use case needs, built once per process by `service.app` and passed in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import redis as redis_lib
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from service.config import Settings
from service.core.personas import is_persona_number
from service.infra.db import Breaker
from service.infra.gateway import ConsoleGateway, Gateway
from service.infra.logs import RepeatedError
from service.infra.queue import Dispatcher, NullDispatcher
from service.infra.ratelimit import SenderRateLimit
from service.infra.resolver import addresses
from service.infra.spool import SpoolWatch
from service.infra.threads import ThreadPool
from service.models import utcnow

EXTENSION = "realign"  # where the web app keeps its Services (Flask's app.extensions)


@dataclass
class Services:
    """Settings, the database, Redis, Twilio, the queue and the clock of one process."""

    settings: Settings
    engine: sa.Engine
    sessions: sessionmaker
    redis: redis_lib.Redis
    gateway: Gateway
    rate_limit: SenderRateLimit
    # The token Twilio signs webhooks with (generated and kept locally without Twilio).
    webhook_token: str
    dispatcher: Dispatcher = NullDispatcher()
    clock: Callable[[], datetime] = utcnow
    # The same parts with a database that gives up quickly (WEBHOOK_DB_TIMEOUT), for the
    # webhooks, which must answer Twilio within its 15 s; None: these very parts.
    quick: Services | None = None
    # Open for a few seconds after the database failed a webhook: spool without asking.
    db_breaker: Breaker = field(default_factory=Breaker)
    # Whether inbound items wait in the spool (new ones then queue up behind them).
    spool_watch: SpoolWatch = field(default_factory=SpoolWatch)
    # While Twilio is away every send fails: one ERROR line a minute says so.
    twilio_outage: RepeatedError = field(
        default_factory=lambda: RepeatedError(
            "service.messaging.failures", "Twilio unavailable, texts kept for retry"
        )
    )

    # The threads a batch's Twilio requests run in (service/messaging/delivery.py).
    send_threads: ThreadPool = field(default_factory=ThreadPool)

    # Where texts and calls to test personas go instead: their numbers are fictional, and
    # the simulator promises they never reach a carrier (shown in its thread only).
    console: Gateway = field(default_factory=ConsoleGateway)
    # Called as hook(uow, item, participant) for each attention item a unit of work raises
    # (service/records.py); the composition root passes the webhook events' one.
    attention_hooks: tuple[Callable, ...] = ()
    # Names to addresses, for the webhook receivers' address rule: resolve(host, port).
    resolve: Callable[[str, int], list[str]] = addresses

    def now(self) -> datetime:
        return self.clock()

    def gateway_for(self, phone: str | None) -> Gateway:
        """The gateway for a text or call to `phone`: the console for a test persona."""
        return self.console if is_persona_number(phone) else self.gateway

    def for_webhooks(self) -> Services:
        return self.quick or self


def current() -> Services:
    """The running web app's Services (inside a request or an app context)."""
    from flask import current_app

    return current_app.extensions[EXTENSION]
