"""A test persona's texts are marked when written, so the real gateway never claims them.

Rows already written to or from a persona number (+1 202 555-0100…0199) are marked too.

Revision ID: 0014_sim
Revises: 0013_api
Create Date: 2026-12-03 07:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_sim"
down_revision = "0013_api"
branch_labels = None
depends_on = None

PERSONA = "'+120255501__'"  # service/core/personas.py: PREFIX + 0100…0199


def upgrade() -> None:
    # A plain ADD COLUMN with a constant default: no table rebuild, on either database.
    op.add_column(
        "message",
        sa.Column("simulated", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute(
        "UPDATE message SET simulated = TRUE WHERE "
        f"(direction = 'out' AND to_number LIKE {PERSONA}) "
        f"OR (direction = 'in' AND from_number LIKE {PERSONA})"
    )


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("simulated")
