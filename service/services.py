"""The parts every use case needs, built once per process by `service.app` and passed in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import redis as redis_lib
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from service.config import Settings
from service.infra.gateway import Gateway
from service.infra.queue import Dispatcher, NullDispatcher
from service.infra.ratelimit import SenderRateLimit
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

    def now(self) -> datetime:
        return self.clock()


def current() -> Services:
    """The running web app's Services (inside a request or an app context)."""
    from flask import current_app

    return current_app.extensions[EXTENSION]
