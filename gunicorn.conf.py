"""gunicorn's configuration for the web process (Procfile, Procfile.dev, `-c gunicorn.conf.py`);
the process counts and the bind address stay on their command lines.

No `Server` header: gunicorn (27.0.1) writes `Server: gunicorn` on every response and has no
setting to leave it out (benoitc/gunicorn#825); a `Server` header the app sets is sent beside
it, not instead. Worked around here, and only here: a response's default header lines, less
that one. tests/e2e/test_security_headers.py runs the Procfile's command and checks it.
"""

from gunicorn.http import wsgi

_default_headers = wsgi.Response.default_headers


def _without_server(self):
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


wsgi.Response.default_headers = _without_server
