"""The dependencies every use case needs, built once per process and passed in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import redis as redis_lib
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from service.config import Settings
from service.infra.db import make_engine, session_factory
from service.infra.gateway import build_gateway
from service.infra.ratelimit import SenderRateLimit
from service.models import utcnow


class Dispatcher(Protocol):
    """Hands slow work to the background (RQ in production; see jobs/dispatch.py)."""

    def enqueue(
        self, task: str, *args: Any, at: datetime | None = None, job_id: str | None = None
    ) -> bool:
        """Queue `task(*args)`; returns False (and loses nothing) when the queue is down."""

    def cancel(self, job_ids: list[str]) -> int:
        """Drop scheduled jobs by id."""


@dataclass
class Services:
    settings: Settings
    engine: sa.Engine
    sessions: sessionmaker
    redis: redis_lib.Redis
    gateway: Any
    clock: Callable[[], datetime] = utcnow
    dispatcher: Dispatcher | None = None
    extras: dict = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock()


def build_services(
    settings: Settings,
    *,
    engine: sa.Engine | None = None,
    redis: redis_lib.Redis | None = None,
    gateway: Any = None,
    clock: Callable[[], datetime] | None = None,
    dispatcher_factory: Callable[[Services], Dispatcher] | None = None,
) -> Services:
    """Build (lazily connecting) clients from settings; anything given is used as is."""
    engine = engine or make_engine(settings.effective_database_url)
    if redis is None:
        redis = redis_lib.Redis.from_url(
            settings.effective_redis_url, socket_connect_timeout=2, socket_timeout=5
        )
    if gateway is None:
        gateway = build_gateway(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            api_base_url=settings.twilio_api_base_url or None,
            timeout=settings.twilio_timeout,
            pool_size=settings.send_concurrency,
        )
    services = Services(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        redis=redis,
        gateway=gateway,
        clock=clock or utcnow,
    )
    services.extras["rate_limit"] = SenderRateLimit(redis, settings.sender_mps)
    if dispatcher_factory is not None:
        services.dispatcher = dispatcher_factory(services)
    return services
