"""Today: a needs-attention item can be snoozed, names the text or recording that raised it,
and a condition (one quiet spell) is raised once per participant.

Revision ID: 0015_today
Revises: 0014_sim
Create Date: 2026-12-03 07:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_today"
down_revision = "0014_sim"
branch_labels = None
depends_on = None

# SQLite rebuilds the table for these changes: it keeps never reusing ids (0006).
KEEP = {"sqlite_autoincrement": True}


def upgrade() -> None:
    with op.batch_alter_table("attentionitem", schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.add_column(
            sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("message_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reflection_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("cause", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            "fk_attentionitem_message_id_message", "message", ["message_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_attentionitem_reflection_id_reflection", "reflection", ["reflection_id"], ["id"]
        )
        batch_op.create_unique_constraint("uq_attention_cause", ["participant_id", "cause"])


def downgrade() -> None:
    with op.batch_alter_table("attentionitem", schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.drop_constraint("uq_attention_cause", type_="unique")
        batch_op.drop_constraint("fk_attentionitem_reflection_id_reflection", type_="foreignkey")
        batch_op.drop_constraint("fk_attentionitem_message_id_message", type_="foreignkey")
        batch_op.drop_column("cause")
        batch_op.drop_column("reflection_id")
        batch_op.drop_column("message_id")
        batch_op.drop_column("snoozed_until")
