"""Database engines and sessions; nothing is built at import."""

from __future__ import annotations

import copy
import functools
import hashlib
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from service.infra.private import private_file


def make_engine(url: str, *, timeout: float | None = None, **kwargs) -> sa.Engine:
    """An engine tuned for the dialect (SQLite: WAL, foreign keys, busy wait).

    `timeout`: give up after this many seconds, whatever is slow (connecting, a lock, a
    statement): for the webhooks, which must answer Twilio within its own 15 s.
    Bound values stay out of error messages: a failed INSERT of a text would otherwise
    carry its phone number and body into every traceback and log line.
    """
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            private_file(Path(path))  # (its WAL and shared-memory files take its mode)
        wait = timeout or 30
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": wait}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    if timeout is not None:
        ms = int(timeout * 1000)
        kwargs["pool_timeout"] = timeout
        kwargs["connect_args"] = {
            "connect_timeout": max(1, round(timeout)),
            "options": f"-c statement_timeout={ms} -c lock_timeout={ms}",
        }
    return sa.create_engine(url, **kwargs)


class Breaker:
    """After the database failed, stop asking it for a few seconds: a webhook then answers
    at once (spooling what came) instead of waiting out a timeout for every request."""

    def __init__(self, seconds: float = 5.0, clock=time.monotonic):
        self.seconds, self.clock = seconds, clock
        self._open_until = 0.0

    @property
    def open(self) -> bool:
        return self.clock() < self._open_until

    def trip(self) -> None:
        self._open_until = self.clock() + self.seconds


# What a database that is away, locked or too slow raises (connecting, or mid-statement).
UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)


def session_factory(engine: sa.Engine) -> sessionmaker:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, class_=Session, expire_on_commit=False)


def is_unique_violation(exc: sa.exc.IntegrityError) -> bool:
    """True when an INSERT lost a race against a unique constraint."""
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate:
        return sqlstate == "23505"
    return "UNIQUE constraint failed" in str(orig)


def insert_or_get(session: Session, row, existing):
    """Add `row` in a savepoint; when a unique constraint says it is there already (a
    retried webhook, a race), return `existing()` instead. Either way, the row stored."""
    try:
        with session.begin_nested():
            session.add(row)
    except sa.exc.IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        return existing()
    return row


def insert_ignoring(dialect: str, target, unique: tuple[str, ...]):
    """INSERT into `target` (a model or table) that skips a row whose `unique` columns
    already exist (ON CONFLICT DO NOTHING): no error, no rollback, just no row back."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the project runs on these two
        raise NotImplementedError(f"insert_ignoring on {dialect}")
    return insert(target).on_conflict_do_nothing(index_elements=list(unique))


def insert_new(session: Session, model, rows: list[dict], unique: tuple[str, ...]) -> list:
    """INSERT `rows`, skipping those whose `unique` columns already exist; returns the rows
    inserted, as ORM objects of this session.

    One round trip per page of rows, where a savepoint per row costs three: the tick
    writes thousands of check-ins and texts this way.
    """
    if not rows:
        return []
    statement = insert_ignoring(session.get_bind().dialect.name, model, unique).returning(model)
    # executemany form: SQLAlchemy's "insertmanyvalues" sends multi-row VALUES pages from
    # one cached compilation, where .values(rows) would compile a new statement per size.
    return list(session.scalars(statement, rows))


def keep(session: Session, rows) -> None:
    """Hold these loaded rows for the session's life: its identity map holds objects only
    while something else does, and a `session.get` of one then costs no query."""
    session.info.setdefault("kept", []).append(rows)


def row_values(obj) -> dict:
    """An unsaved model object as column values for an INSERT (its id left to the database)."""
    return {
        column.key: getattr(obj, column.key)
        for column in obj.__table__.columns
        if not (column.primary_key and getattr(obj, column.key) is None)
    }


def new_row(model, **values):
    """A new, unsaved `model` object (a table model without relationships) holding `values`
    and the defaults of the fields not given: the same object `model(**values)` makes, built
    the way the ORM builds a row it loads (every value set once, not through two layers of
    attribute hooks; that was a tenth of a turn's time for its two texts). The values are
    taken as they are: for rows the code composes, not for input to validate."""
    defaults, factories = _field_defaults(model)
    obj = model._sa_class_manager.new_instance()  # no __init__, as for a loaded row
    fields = obj.__dict__
    fields.update(defaults)
    for name, factory in factories:
        if name not in values:
            fields[name] = factory()
    fields.update(values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    return obj


@functools.cache
def _field_defaults(model) -> tuple[dict, tuple]:
    if model.__sqlmodel_relationships__:
        raise TypeError(f"new_row builds rows without relationships, not {model.__name__}")
    defaults, factories = {}, []
    for name, field in model.model_fields.items():
        if field.default_factory is not None:
            factories.append((name, field.default_factory))
        elif not field.is_required():
            defaults[name] = field.default
    # A mutable default (a list) is copied per row, as pydantic does.
    mutable = {k for k, v in defaults.items() if isinstance(v, (list, dict, set))}
    for name in mutable:
        factories.append((name, functools.partial(copy.copy, defaults.pop(name))))
    return defaults, tuple(factories)


def insert_now(session: Session, obj) -> None:
    """INSERT an unsaved model object at once, on the session's connection, and set its id:
    a Core statement, so the session neither flushes first nor tracks the object (it is
    not added to the session: later reads in the transaction see the row)."""
    table = obj.__table__
    obj.id = session.connection().execute(_insert_returning_id(table), row_values(obj)).scalar_one()


@functools.cache
def _insert_returning_id(table: sa.Table):
    return sa.insert(table).returning(table.c.id)


def lock_for(session: Session, name: str) -> None:
    """Hold a lock named `name` until the transaction ends (PostgreSQL's advisory lock), so
    two transactions checking then writing about the same thing (a phone number) go one
    after the other. SQLite lets one writer at a time anyway."""
    if session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
