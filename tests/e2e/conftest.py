"""End to end: requests come in through the app's own doors, as Twilio and browsers send them."""

from __future__ import annotations

import pytest
import redis
from twilio.request_validator import RequestValidator


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def twilio_post(app, client):
    """POST a form to a webhook signed the way Twilio signs it."""

    def post(path: str, form: dict, *, signature: str | None = None):
        services = app.extensions["realign"]
        base = services.settings.public_base_url
        if signature is None:
            signature = RequestValidator(services.webhook_token).compute_signature(
                base + path, form
            )
        return client.post(
            path, data=form, headers={"X-Twilio-Signature": signature}, base_url=base
        )

    return post


DEAD_REDIS = "redis://127.0.0.1:1/0"  # port 1: connection refused at once


@pytest.fixture
def dead_redis():
    """A Redis that is down."""
    conn = redis.Redis.from_url(DEAD_REDIS, socket_connect_timeout=0.2, socket_timeout=0.2)
    yield conn
    conn.close()
