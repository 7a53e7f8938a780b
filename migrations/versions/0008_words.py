"""Words: each commitment has a short label for the texts that list it; each program has
the country whose national phone numbers it reads.

Revision ID: 0008_words
Revises: 0005_delivery_truth
Create Date: 2026-12-03 06:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_words"
down_revision = "0005_delivery_truth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("commitment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label", sa.String(length=32), nullable=False, server_default=""))
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=False, server_default="US"))


def downgrade() -> None:
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_column("country")
    with op.batch_alter_table("commitment", schema=None) as batch_op:
        batch_op.drop_column("label")
