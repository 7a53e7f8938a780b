"""The inbox: an inbound text is unread until a facilitator marks it read.

Texts that arrived before this are taken as read (they were read in the participant pages),
so a practice does not open an inbox of thousands.

Revision ID: 0010_inbox
Revises: 0009_cockpit_speed
Create Date: 2026-12-03 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_inbox"
down_revision = "0009_cockpit_speed"
branch_labels = None
depends_on = None

UNREAD = "direction = 'in' AND seen_at IS NULL"


# SQLite rebuilds the table for these changes: it keeps never reusing ids (0006).
KEEP = {"sqlite_autoincrement": True}


def upgrade() -> None:
    with op.batch_alter_table("message", schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.add_column(sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("seen_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_message_seen_by_id_facilitator", "facilitator", ["seen_by_id"], ["id"]
        )
    op.execute("UPDATE message SET seen_at = created_at WHERE direction = 'in'")
    op.create_index(
        "ix_message_unread",
        "message",
        ["program_id", "created_at"],
        postgresql_where=sa.text(UNREAD),
        sqlite_where=sa.text(UNREAD),
    )


def downgrade() -> None:
    op.drop_index("ix_message_unread", table_name="message")
    with op.batch_alter_table("message", schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.drop_constraint("fk_message_seen_by_id_facilitator", type_="foreignkey")
        batch_op.drop_column("seen_by_id")
        batch_op.drop_column("seen_at")
