"""A facilitator's own language for the admin (empty: whatever their browser asks for).

Revision ID: 0019_admin_language
Revises: 0016_facilitator_zone
Create Date: 2026-12-03 17:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_admin_language"
down_revision = "0017_delivery_once"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("facilitator", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("facilitator", schema=None) as batch_op:
        batch_op.drop_column("language")
