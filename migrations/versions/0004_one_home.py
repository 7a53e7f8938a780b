"""Drop per-participant quiet hours and cadence (never written) and the write-only
misses_in_row: waking hours and cadence are the program's, the ladder's rung is
current_cadence.

Revision ID: 0004_one_home
Revises: 0003_voice
Create Date: 2026-12-01 23:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_one_home"
down_revision = "0003_voice"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_column("cadence")
        batch_op.drop_column("quiet_start")
        batch_op.drop_column("quiet_end")
        batch_op.drop_column("misses_in_row")


def downgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("misses_in_row", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("quiet_end", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("quiet_start", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("cadence", sa.String(length=64), nullable=True))
