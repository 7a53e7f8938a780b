"""Erasure leaves nothing behind: copies still to delete at Twilio or on disk wait in
`pendingdeletion`; on SQLite the tables audit events can name become AUTOINCREMENT, so an
erased participant's ids are never handed to anyone else (PostgreSQL's sequences already
never reuse one).

Revision ID: 0006_erasure_leaves_nothing
Revises: 0005_delivery_truth
Create Date: 2026-12-03 06:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_erasure_leaves_nothing"
down_revision = "0005_delivery_truth"
branch_labels = None
depends_on = None

NEVER_REUSED = (
    "participant",
    "message",
    "statement",
    "reflection",
    "commitment",
    "checkin",
    "call",
    "attentionitem",
)


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in NEVER_REUSED:
        # Rebuilt with its rows: SQLite records the highest id in sqlite_sequence.
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    op.create_table(
        "pendingdeletion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=1024), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('message', 'recording', 'call', 'file')", name="ck_pending_deletion_kind"
        ),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "ref", name="uq_pending_deletion"),
    )
    op.create_index(
        op.f("ix_pendingdeletion_next_attempt_at"), "pendingdeletion", ["next_attempt_at"]
    )
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
    op.drop_index(op.f("ix_pendingdeletion_next_attempt_at"), table_name="pendingdeletion")
    op.drop_table("pendingdeletion")
