"""The two WSGI apps bench/webhook.py serves with gunicorn (same settings for both).

- `realign()`: the real app (`service.app.create_app()`, configured from the environment).
- `bare()`: the baseline, a bare Flask endpoint on the same path doing one INSERT into
  `bench_insert` on the same database, through the project's engine settings.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import sqlalchemy as sa

metadata = sa.MetaData()
bench_insert = sa.Table(
    "bench_insert",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sid", sa.String(64), nullable=False),
    sa.Column("from_number", sa.String(32), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


def realign():
    from service.app import create_app

    return create_app()


def bare():
    from flask import Flask, request

    from service.infra.db import make_engine

    engine = make_engine(os.environ["DATABASE_URL"])
    app = Flask("bare")
    statement = bench_insert.insert()

    @app.post("/twilio/sms")
    def insert():
        form = request.form
        row = {
            "sid": form.get("MessageSid", ""),
            "from_number": form.get("From", ""),
            "body": form.get("Body", ""),
            "created_at": datetime.now(UTC),
        }
        with engine.begin() as conn:
            conn.execute(statement, row)
        return app.response_class("<Response/>", 200, mimetype="application/xml")

    return app
