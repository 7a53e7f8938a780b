"""Who is asking: a bearer token (or, for a recording's audio, a signed link), answered
401 as JSON otherwise; one audit line per request; a rate limit per token.

Order matters: the token is read in an app-level `before_request` registered before
Flask-Limiter's own, so the limit counts per token (not per address)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from flask import g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from readapi.answers import error
from service.core import api_tokens, signed_urls
from service.core.enums import ApiScope
from service.program import accounts, tokens

log = logging.getLogger("api.audit")

BLUEPRINT = "api"
PUBLIC = {"api.openapi"}  # no token needed (describes the API; holds no data)
SIGNED = {"api.recording_audio"}  # authorised by its signed query instead of a header


@dataclass(frozen=True)
class Caller:
    token_id: int
    facilitator_id: int
    visible: set[int] | None  # accounts.visible_program_ids: None for an admin
    phones: bool


def audio_key(secret: str) -> bytes:
    """The key signed audio links are made with (derived from SECRET_KEY)."""
    return hashlib.sha256(b"realign api audio links\0" + secret.encode()).digest()


def caller() -> Caller:
    return g.api_caller


def _identify(services):
    if request.blueprint != BLUEPRINT or request.endpoint in PUBLIC:
        return None
    if request.endpoint in SIGNED:
        return _identify_signed(services)
    token = api_tokens.bearer(request.headers.get("Authorization"))
    with services.sessions() as session:
        found = tokens.holder(session, token)
        if found is None:
            message = (
                "Send `Authorization: Bearer <token>`."
                if token is None
                else "This token is not valid, or it was revoked."
            )
            return error(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})
        row, facilitator = found
        g.api_caller = Caller(
            row.id,
            facilitator.id,
            accounts.visible_program_ids(session, facilitator),
            ApiScope.PHONES in (row.scopes or []),
        )
    return None


def _identify_signed(services):
    args = request.args
    try:
        token_id, expires = int(args.get("token", "")), int(args.get("expires", ""))
        rid = int((request.view_args or {}).get("reflection_id", 0))
    except ValueError:
        return error(401, "unauthorized", "This link is not valid.")
    key = audio_key(services.settings.effective_secret_key())
    now = services.now().timestamp()
    if not signed_urls.is_valid(key, rid, token_id, expires, args.get("signature", ""), now):
        return error(401, "unauthorized", "This link is not valid, or it has expired.")
    with services.sessions() as session:
        found = tokens.live(session, token_id)
        if found is None:
            return error(401, "unauthorized", "This link's token was revoked.")
        row, facilitator = found
        g.api_caller = Caller(
            row.id,
            facilitator.id,
            accounts.visible_program_ids(session, facilitator),
            ApiScope.PHONES in (row.scopes or []),
        )
    return None


def _audit(services, response):
    who = g.get("api_caller")
    if who is None or g.get("api_audited") or request.url_rule is None:
        return response
    entity_id = next(iter((request.view_args or {}).values()), None)
    try:
        with services.sessions() as session:
            tokens.record_read(
                session,
                who.token_id,
                who.facilitator_id,
                request.url_rule.rule,
                status=response.status_code,
                entity_id=entity_id if isinstance(entity_id, int) else None,
                now=services.now(),
            )
            session.commit()
    except Exception:  # the read itself is answered; its audit line is reported
        log.exception("api read not audited: route=%s", request.url_rule.rule)
    return response


def _limit_key() -> str:
    who = g.get("api_caller")
    return f"token:{who.token_id}" if who else f"address:{get_remote_address()}"


def install(app, services, blueprint) -> Limiter:
    """Authentication and auditing for `blueprint`, then its rate limit (API_RATE_LIMIT)."""
    app.before_request(lambda: _identify(services))
    app.after_request(lambda response: _audit(services, response))
    limiter = Limiter(
        _limit_key,
        storage_uri="redis://",
        storage_options={"connection_pool": services.redis.connection_pool},
        headers_enabled=True,
        key_prefix="realign:api",
        strategy="moving-window",
        # Redis away: reads go on unlimited (the database answers them), never a 500.
        swallow_errors=True,
    )
    limiter.limit(services.settings.api_rate_limit)(blueprint)
    return limiter
