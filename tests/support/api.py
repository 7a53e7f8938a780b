"""Calling the read API as another system would: a facilitator's token, Bearer header."""

from __future__ import annotations

from service.core.enums import ApiScope
from service.models import Facilitator
from service.program import tokens


def token_for(app, facilitator_id: int, *, phones: bool = False, name: str = "CRM sync") -> str:
    services = app.extensions["realign"]
    with services.sessions() as session:
        person = session.get(Facilitator, facilitator_id)
        scopes = [ApiScope.PHONES] if phones else []
        _, token = tokens.create(
            session, person, name, scopes=scopes, now=services.now(), actor="test"
        )
        session.commit()
    return token


def api_get(client, path: str, token: str | None, **headers):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if not path.startswith(("/", "http")):
        path = "/api/v1/" + path
    return client.get(path, headers=headers)
