"""check-in scheduling

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 02:45:45.474832
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('commitment_ids', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('clarified', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_foreign_key('fk_checkin_subject_id_participant', 'participant', ['subject_id'], ['id'])

    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_partner_checkin_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('quiet_start', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('quiet_end', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('misses_in_row', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index(batch_op.f('ix_participant_next_partner_checkin_at'), ['next_partner_checkin_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_next_partner_checkin_at'))
        batch_op.drop_column('misses_in_row')
        batch_op.drop_column('quiet_end')
        batch_op.drop_column('quiet_start')
        batch_op.drop_column('next_partner_checkin_at')

    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.drop_constraint('fk_checkin_subject_id_participant', type_='foreignkey')
        batch_op.drop_column('clarified')
        batch_op.drop_column('commitment_ids')
        batch_op.drop_column('subject_id')

