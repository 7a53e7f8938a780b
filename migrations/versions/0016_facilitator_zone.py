"""A facilitator's own time zone (the phone column already exists: the digest's number).

Revision ID: 0016_facilitator_zone
Revises: 0015_today
Create Date: 2026-12-03 08:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_facilitator_zone"
down_revision = "0015_today"
branch_labels = None
depends_on = None

def upgrade() -> None:
    with op.batch_alter_table("facilitator", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("timezone", sa.String(length=64), nullable=False, server_default="UTC")
        )


def downgrade() -> None:
    with op.batch_alter_table("facilitator", schema=None) as batch_op:
        batch_op.drop_column("timezone")
