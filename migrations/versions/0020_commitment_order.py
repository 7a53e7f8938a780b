"""Commitments in the order a facilitator puts them (the check-in lists them so), and a
participant's own audit events read by whom they are about (their page's thread).

Revision ID: 0020_commitment_order
Revises: 0016_facilitator_zone
Create Date: 2026-12-03 17:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_commitment_order"
down_revision = "0019_admin_language"
branch_labels = None
depends_on = None

# SQLite rebuilds the table for these changes: it keeps never reusing ids (0006).
KEEP = {"sqlite_autoincrement": True}


def upgrade() -> None:
    with op.batch_alter_table("commitment", schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.add_column(
            sa.Column("position", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_index("ix_auditevent_entity", "auditevent", ["entity", "entity_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_auditevent_entity", table_name="auditevent")
    with op.batch_alter_table("commitment", schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.drop_column("position")
