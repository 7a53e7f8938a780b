"""The API's routes, each declared once with the models of its query and its answer: the
blueprint's view functions and the OpenAPI 3.1 document are both made from this list.

pydantic's JSON Schema (draft 2020-12) is what OpenAPI 3.1 uses, so the models' schemas go
into `components.schemas` as they are."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from service.program.shapes import ErrorOut

REF = "#/components/schemas/{model}"
ERRORS = {
    "400": "The query was not understood (the error names the parameters).",
    "401": "No token, or a wrong or revoked one.",
    "404": "No such record among those this token may read.",
    "429": "Too many requests for this token: wait `Retry-After` seconds.",
}


@dataclass
class Route:
    rule: str  # Flask's, under the blueprint's prefix
    name: str  # the view's endpoint and the operation id
    summary: str
    response: type[BaseModel] | None  # None: audio
    query: type[BaseModel] | None = None
    single: bool = False  # one resource: ETag and 304
    public: bool = False  # no bearer token (signed by its own parameters)
    media_type: str = "application/json"
    tags: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.rule)

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"<(?:\w+:)?(\w+)>", self.rule)


class Registry:
    def __init__(self, prefix: str, title: str, version: str):
        self.prefix, self.title, self.version = prefix, title, version
        self.routes: list[Route] = []

    def add(self, route: Route) -> Route:
        self.routes.append(route)
        return route

    def document(self, server_url: str) -> dict:
        models: set[type[BaseModel]] = {ErrorOut}
        for r in self.routes:
            models.update(m for m in (r.response, r.query) if m is not None)
        queries = {r.query for r in self.routes}
        ordered = sorted(models, key=lambda m: m.__name__)
        _, defs = models_json_schema(
            [(m, "validation" if m in queries else "serialization") for m in ordered],
            ref_template=REF,
        )
        schemas = dict(defs.get("$defs", {}))
        paths: dict[str, dict] = {}
        for r in self.routes:
            paths.setdefault(self.prefix + r.path, {})["get"] = self._operation(r, schemas)
        return {
            "openapi": "3.1.0",
            "info": {
                "title": self.title,
                "version": self.version,
                "description": "Read-only access to what a facilitator sees in the admin.",
            },
            "servers": [{"url": server_url}],
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "rlg_…"}
                },
            },
            "security": [{"bearer": []}],
        }

    def _operation(self, r: Route, schemas: dict) -> dict:
        parameters = [
            {"name": n, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
            for n in r.path_params
        ]
        if r.query is not None:
            schema = schemas[r.query.__name__]
            required = set(schema.get("required", []))
            for name, prop in schema["properties"].items():
                prop = dict(prop)
                description = prop.pop("description", None)
                prop.pop("title", None)
                param = {"name": name, "in": "query", "required": name in required}
                if description:
                    param["description"] = description
                parameters.append({**param, "schema": prop})
        if r.response is None:
            # OpenAPI 3.1 describes raw bytes by their media type alone (no schema).
            content = {r.media_type: {}}
        else:
            ref = REF.format(model=r.response.__name__)
            content = {"application/json": {"schema": {"$ref": ref}}}
        error = {"application/json": {"schema": {"$ref": REF.format(model="ErrorOut")}}}
        responses: dict[str, dict] = {"200": {"description": "OK", "content": content}}
        if r.single:
            responses["200"]["headers"] = {
                "ETag": {"description": "The answer's version.", "schema": {"type": "string"}}
            }
            responses["304"] = {"description": "Not modified since the `If-None-Match` ETag."}
        for code, text in ERRORS.items():
            responses[code] = {"description": text, "content": error}
        responses["429"]["headers"] = {
            "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
        }
        operation = {
            "operationId": r.name,
            "summary": r.summary,
            "parameters": parameters,
            "responses": responses,
        }
        if r.tags:
            operation["tags"] = r.tags
        if r.public:
            operation["security"] = []
        return operation
