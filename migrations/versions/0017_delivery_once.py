"""Webhook deliveries record when a try's request may have left (sending_at), and a try
whose worker died after that point is "unknown", never sent again by itself.

Revision ID: 0017_delivery_once
Revises: 0016_facilitator_zone
Create Date: 2026-12-04 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_delivery_once"
down_revision = "0016_facilitator_zone"
branch_labels = None
depends_on = None

OLD = "status IN ('pending', 'delivered', 'failed')"
NEW = "status IN ('pending', 'delivered', 'failed', 'unknown')"


def upgrade() -> None:
    with op.batch_alter_table("webhookdelivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sending_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint("ck_delivery_status", type_="check")
        batch_op.create_check_constraint("ck_delivery_status", NEW)


def downgrade() -> None:
    # An unknown outcome reads as failed (with its reason kept): Resend still sends it.
    op.execute("UPDATE webhookdelivery SET status = 'failed' WHERE status = 'unknown'")
    with op.batch_alter_table("webhookdelivery", schema=None) as batch_op:
        batch_op.drop_constraint("ck_delivery_status", type_="check")
        batch_op.create_check_constraint("ck_delivery_status", OLD)
        batch_op.drop_column("sending_at")
