"""Words: each commitment has a short label for the texts that list it; each program has
the country whose national phone numbers it reads; each participant remembers which
wording of the texts sent again and again they got last.

Revision ID: 0011_words
Revises: 0010_inbox
Create Date: 2026-12-03 06:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_words"
down_revision = "0010_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("commitment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label", sa.String(length=32), nullable=False, server_default=""))
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text_turns", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=False, server_default="US"))
    # A program already running reads numbers in its time zone's country where the zone
    # belongs to one (Europe/London: GB), else in the US, as it did until now.
    from service.core.countries import country_of_zone
    from service.infra.zones import zone_countries

    conn = op.get_bind()
    zones = zone_countries()
    for program_id, timezone in conn.execute(sa.text("SELECT id, timezone FROM program")).all():
        conn.execute(
            sa.text("UPDATE program SET country = :country WHERE id = :id"),
            {"country": country_of_zone(timezone, zones), "id": program_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_column("text_turns")
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_column("country")
    with op.batch_alter_table("commitment", schema=None) as batch_op:
        batch_op.drop_column("label")
