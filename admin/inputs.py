"""What every /admin request may carry, checked once before any view reads it.

* NUL: PostgreSQL text cannot hold it (the driver raises), and no form, search or filter
  needs it, so a request with NUL in any parameter name or value (query, form or path) is
  answered 400 with a plain sentence; nothing is read or stored.
* `url`: the page Flask-Admin returns to after a form, which it puts in a Location header;
  one holding CR/LF or another control character would break that header, so it is 400.
* Numbers in the path: Werkzeug's `<int:…>` takes any length of digits; one beyond what
  the database holds (service/core/numbers.py) cannot name a record, so it is 404 like an
  unknown id.
"""

from __future__ import annotations

from flask import abort, request

from service.core.numbers import fits_integer_column

NUL = "\x00"


def carries_nul() -> bool:
    fields = [*request.args.items(multi=True), *request.form.items(multi=True)]
    path_text = [v for v in (request.view_args or {}).values() if isinstance(v, str)]
    return any(NUL in k or NUL in v for k, v in fields) or any(NUL in v for v in path_text)


def check_inputs() -> None:
    """Abort the request (400 or 404) when its parameters cannot be read safely."""
    if carries_nul():
        abort(400, description="The request holds a NUL character, which cannot be stored.")
    if any(not url.isprintable() for url in request.values.getlist("url")):
        abort(400, description="The return address holds a control character.")
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and not fits_integer_column(value):
            abort(404)
