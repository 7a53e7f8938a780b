"""The read API: facilitators' API tokens (kept hashed) and when each participant last
changed (for `updated_since`).

Revision ID: 0007_api
Revises: 0005_delivery_truth
Create Date: 2026-12-03 06:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_api"
down_revision = "0005_delivery_truth"
branch_labels = None
depends_on = None


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
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE participant SET updated_at = created_at")
    with op.batch_alter_table("participant", schema=None) as batch_op:
        # Rows written by bulk loads (COPY) that name no updated_at get the time of the load.
        batch_op.alter_column("updated_at", nullable=False, server_default=sa.func.now())
        batch_op.create_index(op.f("ix_participant_updated_at"), ["updated_at"])


def downgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_index(op.f("ix_participant_updated_at"))
        batch_op.drop_column("updated_at")
    op.drop_index(op.f("ix_apitoken_facilitator_id"), table_name="apitoken")
    op.drop_table("apitoken")
