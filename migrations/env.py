"""Alembic environment: the URL comes from the caller or from DATABASE_URL."""

from alembic import context
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import service.models  # noqa: F401  (registers every table on SQLModel.metadata)
from service.config import load_settings
from service.infra import migrate
from service.infra.db import make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url") or load_settings().effective_database_url


def render_item(type_, obj, autogen_context):
    """Render our column types as plain SQLAlchemy ones so migrations never import models."""
    if type_ == "type":
        if isinstance(obj, service.models.UTCDateTime):
            return "sa.DateTime(timezone=True)"
        if isinstance(obj, AutoString):
            return f"sa.String(length={obj.length!r})" if obj.length else "sa.String()"
    return False


OPTIONS = dict(target_metadata=SQLModel.metadata, render_as_batch=True, render_item=render_item)


def run_migrations_offline() -> None:
    context.configure(url=url, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch mode rebuilds tables; with foreign keys enforced, dropping the old copy
            # of a referenced table fails as soon as rows point at it.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # end the implicit transaction so Alembic's own one commits
        # Batch mode lets ALTER TABLE work on SQLite too; what a model builds only on other
        # databases (the trigram indexes) is not missing here.
        only = migrate.only_where_built(connection.dialect.name)
        context.configure(connection=connection, include_object=only, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
