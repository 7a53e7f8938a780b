"""Delivery truth: statuses that beat their SID are parked; retries know since when Twilio
has failed; non-final rows know when they were last checked.

Revision ID: 0005_delivery_truth
Revises: 0004_one_home
Create Date: 2026-12-02 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_delivery_truth"
down_revision = "0004_one_home"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parkedstatus",
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sid"),
    )
    op.create_index(op.f("ix_parkedstatus_arrived_at"), "parkedstatus", ["arrived_at"])
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("checked_at")
        batch_op.drop_column("failing_since")
    op.drop_index(op.f("ix_parkedstatus_arrived_at"), table_name="parkedstatus")
    op.drop_table("parkedstatus")
