"""The SQL a piece of code runs, for tests that hold a page or a turn to a few statements."""

from __future__ import annotations

import contextlib

import sqlalchemy as sa


@contextlib.contextmanager
def statements(engine, *, with_params: bool = False):
    """Every statement run on `engine` meanwhile (COMMIT and the like are not statements
    here), as its first 120 characters; `with_params`: as (SQL, number of bound values)."""
    seen: list = []

    def note(conn, cursor, statement, params, context, executemany):
        sql = " ".join(statement.split())[:120]
        seen.append((sql, len(params or ())) if with_params else sql)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
