"""Calling the read API as another system would: a facilitator's token, Bearer header.
Every answer `api_get` receives is checked against the app's own OpenAPI document."""

from __future__ import annotations

from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse

from service.core.enums import ApiScope
from service.models import Facilitator
from service.program import tokens

_documents: dict[int, OpenAPI] = {}


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


def openapi_of(client) -> OpenAPI:
    """The app's OpenAPI document, as a validator (fetched from the app itself)."""
    key = id(client.application)
    if key not in _documents:
        answer = client.get("/api/v1/openapi.json")
        assert answer.status_code == 200
        _documents.clear()
        _documents[key] = OpenAPI.from_dict(answer.json)
    return _documents[key]


def conforms(client, response) -> None:
    """Raise unless `response` (to a request made with `client`) is as the document says."""
    openapi_of(client).validate_response(
        WerkzeugOpenAPIRequest(response.request), WerkzeugOpenAPIResponse(response)
    )


def api_get(client, path: str, token: str | None, *, check: bool = True, **headers):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if not path.startswith(("/", "http")):
        path = "/api/v1/" + path
    response = client.get(path, headers=headers)
    if check:
        conforms(client, response)
    return response
