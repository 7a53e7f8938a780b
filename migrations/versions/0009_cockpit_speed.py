"""The admin at a large practice's size: indexes for the participants list's sorts and
searches (trigrams on PostgreSQL), a participant's thread and the dashboard's open queue.

Revision ID: 0009_cockpit_speed
Revises: 0006_erasure_leaves_nothing
Create Date: 2026-12-03 06:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_cockpit_speed"
down_revision = "0006_erasure_leaves_nothing"
branch_labels = None
depends_on = None

SORTS = {
    "ix_participant_name_id": ["name", "id"],
    "ix_participant_step_id": ["step", "id"],
    "ix_participant_status_id": ["status", "id"],
    "ix_participant_streak_id": ["streak", "id"],
    "ix_participant_last_inbound_id": ["last_inbound_at", "id"],
}
TRIGRAMS = ("name", "phone")


def upgrade() -> None:
    for name, columns in SORTS.items():
        op.create_index(name, "participant", columns)
    op.create_index("ix_message_participant_created", "message", ["participant_id", "created_at"])
    op.create_index("ix_attentionitem_open", "attentionitem", ["resolved_at", "created_at"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = trigram_schema(bind)
        for column in TRIGRAMS:
            op.create_index(
                f"ix_participant_{column}_trgm",
                "participant",
                [column],
                postgresql_using="gin",
                postgresql_ops={column: f"{schema}.gin_trgm_ops"},
            )


def trigram_schema(bind) -> str:
    """pg_trgm, installed once per database (in `public` where there is one) and named
    with its schema, so a search_path without it (a schema per test or benchmark) works."""
    found = "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
    found += " WHERE e.extname = 'pg_trgm'"
    schema = bind.execute(sa.text(found)).scalar()
    if schema is None:
        public = bind.execute(sa.text("SELECT 1 FROM pg_namespace WHERE nspname = 'public'"))
        where = " WITH SCHEMA public" if public.scalar() else ""
        bind.execute(sa.text(f"CREATE EXTENSION IF NOT EXISTS pg_trgm{where}"))
        schema = bind.execute(sa.text(found)).scalar()
    return schema


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in TRIGRAMS:
            op.drop_index(f"ix_participant_{column}_trgm", table_name="participant")
    op.drop_index("ix_attentionitem_open", table_name="attentionitem")
    op.drop_index("ix_message_participant_created", table_name="message")
    for name in SORTS:
        op.drop_index(name, table_name="participant")
