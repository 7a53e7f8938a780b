"""A facilitator's API tokens: create (the token is returned once), list, revoke, and find
the facilitator a presented token stands for. The caller commits."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from service.core import api_tokens
from service.models import ApiToken, Facilitator
from service.records import audit

# `last_used_at` is written at most this often per token (not on every read).
TOUCH_EVERY = timedelta(minutes=1)


class TokenNotFound(LookupError):
    """No such token among this facilitator's own."""


def create(
    session, facilitator: Facilitator, name: str, *, scopes=(), now: datetime, actor: str
) -> tuple[ApiToken, str]:
    """A new token for `facilitator` (flushed): the row and the token, which is not kept."""
    name = api_tokens.clean_name(name)
    token = api_tokens.token_from(secrets.token_urlsafe(32))
    row = ApiToken(
        facilitator_id=facilitator.id,
        name=name,
        token_hash=api_tokens.token_hash(token),
        prefix=api_tokens.shown_part(token),
        scopes=api_tokens.clean_scopes(scopes),
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit(session, actor, "api_token.create", row, now=now, detail={"scopes": row.scopes})
    return row, token


def owned(session, facilitator: Facilitator) -> list[ApiToken]:
    """The facilitator's own tokens, newest first (revoked ones too)."""
    stmt = (
        sa.select(ApiToken)
        .where(ApiToken.facilitator_id == facilitator.id)
        .order_by(ApiToken.id.desc())
    )
    return list(session.scalars(stmt))


def revoke(session, facilitator: Facilitator, token_id: int, *, now: datetime, actor: str):
    """Revoke one of the facilitator's own tokens (again is harmless)."""
    row = session.get(ApiToken, token_id)
    if row is None or row.facilitator_id != facilitator.id:
        raise TokenNotFound(token_id)
    if row.revoked_at is None:
        row.revoked_at = now
        audit(session, actor, "api_token.revoke", row, now=now)
    return row


def holder(session, token: str | None) -> tuple[ApiToken, Facilitator] | None:
    """The live token and its active facilitator for a presented token, or None."""
    if not token:
        return None
    row = session.scalars(
        sa.select(ApiToken).where(ApiToken.token_hash == api_tokens.token_hash(token))
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    facilitator = session.get(Facilitator, row.facilitator_id)
    if facilitator is None or not facilitator.is_active:
        return None
    return row, facilitator


def live(session, token_id: int) -> tuple[ApiToken, Facilitator] | None:
    """The token by id while it is live and its facilitator active (signed links)."""
    row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None:
        return None
    facilitator = session.get(Facilitator, row.facilitator_id)
    if facilitator is None or not facilitator.is_active:
        return None
    return row, facilitator


def record_read(
    session,
    token_id: int,
    facilitator_id: int,
    route: str,
    *,
    status: int,
    entity_id: int | None,
    now: datetime,
) -> None:
    """One audit line for one API request: who (facilitator and token) and which route
    (its pattern, never a query string); the token's last use, at most once a minute."""
    session.execute(
        sa.update(ApiToken)
        .where(
            ApiToken.id == token_id,
            sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOUCH_EVERY),
        )
        .values(last_used_at=now)
    )
    audit(
        session,
        f"facilitator:{facilitator_id}",
        "api.read",
        now=now,
        detail={"route": route, "token": token_id, "status": status, "id": entity_id},
    )
