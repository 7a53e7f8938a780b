"""Upgrading a running instance: its programs read numbers in their time zone's country,
and its commitments start with an empty label (the texts use the suggestion)."""

from __future__ import annotations

import sqlalchemy as sa

from service.infra import migrate
from service.infra.db import make_engine


def test_existing_programs_get_their_time_zones_country(database_url, db, services):
    from tests.support.factories import make_program

    london = make_program(services, name="London", timezone="Europe/London")
    anywhere = make_program(services, name="Anywhere", timezone="UTC")
    engine = make_engine(database_url)
    try:
        migrate.downgrade(database_url, "0010_inbox")
        assert "country" not in {c["name"] for c in sa.inspect(engine).get_columns("program")}
        migrate.upgrade(database_url)
        with engine.connect() as conn:
            countries = dict(conn.execute(sa.text("SELECT id, country FROM program")).all())
        assert countries == {london.id: "GB", anywhere.id: "US"}
    finally:
        migrate.upgrade(database_url)
        engine.dispose()
