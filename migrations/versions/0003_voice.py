"""voice: recording download/delete state, due-call index

Revision ID: 0003_voice
Revises: 0002
Create Date: 2026-11-27 04:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_voice"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reflection", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recording_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_reflection_settled_at"), ["settled_at"], unique=False)

    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.create_index("ix_call_due", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_index("ix_call_due")

    with op.batch_alter_table("reflection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reflection_settled_at"))
        batch_op.drop_column("settled_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("recording_status")
