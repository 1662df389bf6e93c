"""host_reports.failed_drivers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 10:00:00

An agent whose driver fails to discover still reports the other drivers'
cards, and says which driver failed and why. The conductor keeps the
failed driver's rows as they were and records the failure here, per host
and driver (JSON ``{driver: {"reason", "since"}}``, NULL while none
fails), for ``cyborg-clone-status upgrade check`` to show.
"""

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# What downgrade() destroys (cyborg_clone.db.migration). The next report of
# each host records its failing drivers again.
downgrade_loses = ('host_reports.failed_drivers, which drivers of each host '
                   'failed to discover and why')


def upgrade():
    with op.batch_alter_table('host_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_drivers', sa.Text(),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('host_reports', schema=None) as batch_op:
        batch_op.drop_column('failed_drivers')
