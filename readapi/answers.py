"""How the API answers: JSON bodies from the models, pages with their `next` link, single
resources with an ETag (304 for a matching If-None-Match), and errors as JSON."""

from __future__ import annotations

import hashlib

from flask import Response, request, url_for
from pydantic import BaseModel, ValidationError

from service.core import cursors
from service.program.shapes import ErrorBody, ErrorOut


def json_response(model: BaseModel, status: int = 200, headers=None) -> Response:
    body = model.model_dump_json()
    response = Response(body, status=status, mimetype="application/json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def error(status: int, code: str, message: str, fields=(), headers=None) -> Response:
    body = ErrorOut(error=ErrorBody(code=code, message=message, fields=list(fields)))
    response = json_response(body, status, headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def bad_query(exc: ValidationError) -> Response:
    fields, problems = [], []
    for item in exc.errors(include_url=False, include_input=False, include_context=False):
        name = ".".join(str(part) for part in item.get("loc", ())) or "query"
        if name not in fields:
            fields.append(name)
        problems.append(f"{name}: {item.get('msg', 'not valid')}")
    return error(400, "bad_request", "; ".join(problems)[:500], fields)


def page(model_class, rows: list, limit: int, make) -> Response:
    """A list answer: `make(row)` for the first `limit` rows; `next` when there are more."""
    cursor = cursors.next_cursor([_row_id(r) for r in rows], limit)
    next_url = None
    if cursor is not None:
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        next_url = url_for(
            request.endpoint, **(request.view_args or {}), **args, cursor=cursor, _external=True
        )
    body = model_class(data=[make(r) for r in rows[:limit]], next=next_url)
    response = json_response(body)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _row_id(row) -> int:
    return (row[0] if isinstance(row, tuple) else row).id


def single(model: BaseModel) -> Response:
    """One resource, with a strong ETag of its JSON; 304 when the client has it already."""
    response = json_response(model)
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    response.headers["Cache-Control"] = "private, no-cache"
    return response.make_conditional(request)
