"""deployables.state and state_reason; accelerator_requests.attach_info

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09 12:00:00

A device may be cleaned between two tenants (an NVMe secure erase, a PCI
reset): while that runs, or after it failed, its deployable is not to be
offered. ``deployables.state`` says ``available``, ``cleaning`` or
``cleanup_failed``, and ``state_reason`` the tool's message of a failed
cleanup. A vGPU is created at bind: ``accelerator_requests.attach_info``
holds what the bound ARQ attaches (the mediated device's uuid), which is
not the attach handle the agent reports.
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# What downgrade() destroys (cyborg_clone.db.migration). Devices that
# were being cleaned, or failed to, are offered again uncleaned; bound
# vGPUs lose their mediated device's uuid.
downgrade_loses = ('deployables.state and state_reason, which devices are '
                   'being cleaned or failed to be, and '
                   'accelerator_requests.attach_info, the mediated devices '
                   'created for bound vGPUs')

# As cyborg_clone.db.models has them when this was written (see 0004).
COLLATION = 'utf8mb4_nopad_bin'


def _string(length):
    return sa.String(length=length).with_variant(
        mysql.VARCHAR(length, collation=COLLATION), 'mysql', 'mariadb')


def upgrade():
    with op.batch_alter_table('deployables', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', _string(20), nullable=False,
                                      server_default='available'))
        batch_op.add_column(sa.Column('state_reason', _string(255),
                                      nullable=True))
    with op.batch_alter_table('accelerator_requests',
                              schema=None) as batch_op:
        batch_op.add_column(sa.Column('attach_info', sa.Text(),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('accelerator_requests',
                              schema=None) as batch_op:
        batch_op.drop_column('attach_info')
    with op.batch_alter_table('deployables', schema=None) as batch_op:
        batch_op.drop_column('state_reason')
        batch_op.drop_column('state')
