"""The read API: facilitators' API tokens (kept hashed) and when each participant last
changed (for `updated_since`).

Revision ID: 0013_api
Revises: 0011_words
Create Date: 2026-12-03 06:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_api"
down_revision = "0011_words"
branch_labels = None
depends_on = None


# SQLite rebuilds participant for these changes: it keeps never reusing ids (0006).
KEEP = {"sqlite_autoincrement": True}


def upgrade() -> None:
    op.create_table(
        "apitoken",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("facilitator_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["facilitator_id"], ["facilitator.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_apitoken_facilitator_id"), "apitoken", ["facilitator_id"])
    op.create_table(
        "webhookendpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("facilitator_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=80), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["facilitator_id"], ["facilitator.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_webhookendpoint_facilitator_id"), "webhookendpoint", ["facilitator_id"]
    )
    op.create_table(
        "webhookdelivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name="ck_delivery_status"
        ),
        sa.ForeignKeyConstraint(["endpoint_id"], ["webhookendpoint.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_delivery_event"),
    )
    op.create_index(op.f("ix_webhookdelivery_endpoint_id"), "webhookdelivery", ["endpoint_id"])
    op.create_index(
        op.f("ix_webhookdelivery_participant_id"), "webhookdelivery", ["participant_id"]
    )
    with op.batch_alter_table("participant", schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE participant SET updated_at = created_at")
    with op.batch_alter_table("participant", schema=None, table_kwargs=KEEP) as batch_op:
        # Rows written by bulk loads (COPY) that name no updated_at get the time of the load.
        batch_op.alter_column("updated_at", nullable=False, server_default=sa.func.now())
        batch_op.create_index(op.f("ix_participant_updated_at"), ["updated_at"])


def downgrade() -> None:
    with op.batch_alter_table("participant", schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.drop_index(op.f("ix_participant_updated_at"))
        batch_op.drop_column("updated_at")
    op.drop_index(op.f("ix_webhookdelivery_participant_id"), table_name="webhookdelivery")
    op.drop_index(op.f("ix_webhookdelivery_endpoint_id"), table_name="webhookdelivery")
    op.drop_table("webhookdelivery")
    op.drop_index(op.f("ix_webhookendpoint_facilitator_id"), table_name="webhookendpoint")
    op.drop_table("webhookendpoint")
    op.drop_index(op.f("ix_apitoken_facilitator_id"), table_name="apitoken")
    op.drop_table("apitoken")
