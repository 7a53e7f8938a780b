"""Migrations go up and down on the configured database and match the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from service.infra import migrate
from service.infra.db import make_engine

TABLES = {
    "facilitator",
    "program",
    "programfacilitator",
    "participant",
    "message",
    "statement",
    "reflection",
    "commitment",
    "checkin",
    "checkinanswer",
    "call",
    "attentionitem",
    "auditevent",
    "parkedstatus",
    "pendingdeletion",
    "apitoken",
    "webhookendpoint",
    "webhookdelivery",
}


def test_down_and_up_again(database_url, db, services):
    from tests.support.factories import make_participant, make_program

    make_participant(services, make_program(services))  # go down with rows in place
    engine = make_engine(database_url)
    try:
        migrate.downgrade(database_url, "base")
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(database_url)
        assert set(sa.inspect(engine).get_table_names()) >= TABLES
    finally:
        migrate.upgrade(database_url)
        engine.dispose()


def test_models_and_migrations_agree(engine):
    with engine.connect() as conn:
        only = migrate.only_where_built(conn.dialect.name)
        context = MigrationContext.configure(
            conn, opts={"compare_type": False, "include_object": only}
        )
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_unique_constraints_do_real_work(db):
    from datetime import UTC, datetime

    import pytest

    now = datetime.now(UTC)
    row = {
        "direction": "in",
        "from_number": "",
        "to_number": "",
        "body": "",
        "media_urls": "[]",
        "status": "received",
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }
    insert = sa.text(
        "INSERT INTO message (direction, twilio_sid, idempotency_key, from_number, to_number, body,"
        " media_urls, status, attempts, created_at, updated_at) VALUES (:direction, :sid, :key,"
        " :from_number, :to_number, :body, :media_urls, :status, :attempts, :created_at,"
        " :updated_at)"
    )
    with db.begin() as conn:
        conn.execute(insert, {**row, "sid": "SM1", "key": None})
    with pytest.raises(sa.exc.IntegrityError), db.begin() as conn:
        conn.execute(insert, {**row, "sid": "SM1", "key": None})
    with db.begin() as conn:
        conn.execute(insert, {**row, "sid": None, "key": "k1"})
    with pytest.raises(sa.exc.IntegrityError), db.begin() as conn:
        conn.execute(insert, {**row, "sid": None, "key": "k1"})
