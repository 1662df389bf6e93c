"""conductors; accelerator_requests.bind_owner and notified_at

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:00:00

A conductor that dies mid-bind used to leave its ARQs in BindStarted until
the stuck-bind timeout failed them. Now each running conductor has a row in
``conductors`` whose ``heartbeat_at`` it refreshes every few seconds; each
ARQ names the conductor finishing its bind (``bind_owner``) and records
when Nova was told (``notified_at``), so a live conductor adopts the binds
of a dead one, resumes them, and Nova hears once per ARQ.

The ARQs already resolved when this runs were reported to Nova by the code
before it: they get ``notified_at``, so no conductor reports them again.
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# What downgrade() destroys (cyborg_clone.db.migration). Binds in flight
# then have no owner and are finished only by the stuck-bind timeout.
downgrade_loses = ('the conductors table (running conductors and their '
                   'heartbeats) and accelerator_requests.bind_owner and '
                   'notified_at, which conductor finishes each bind and '
                   'whether Nova was told')

# As cyborg_clone.db.models has them when this was written (see 0004).
COLLATION = 'utf8mb4_nopad_bin'
FSP = 6


def _string(length):
    return sa.String(length=length).with_variant(
        mysql.VARCHAR(length, collation=COLLATION), 'mysql', 'mariadb')


def _datetime():
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=FSP), 'mysql',
                                      'mariadb')


def upgrade():
    op.create_table(
        'conductors',
        sa.Column('id', _string(36), nullable=False),
        sa.Column('host', _string(255), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('started_at', _datetime(), nullable=False),
        sa.Column('heartbeat_at', _datetime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_conductors')))
    with op.batch_alter_table('accelerator_requests',
                              schema=None) as batch_op:
        batch_op.add_column(sa.Column('bind_owner', _string(36),
                                      nullable=True))
        batch_op.add_column(sa.Column('notified_at', _datetime(),
                                      nullable=True))
    op.create_index('ix_accelerator_requests_state_notified_at',
                    'accelerator_requests', ['state', 'notified_at'],
                    unique=False)
    arqs = sa.table('accelerator_requests', sa.column('state'),
                    sa.column('notified_at'), sa.column('created_at'),
                    sa.column('updated_at'))
    op.execute(arqs.update()
               .where(arqs.c.state.in_(('Bound', 'BindFailed')))
               .values(notified_at=sa.func.coalesce(arqs.c.updated_at,
                                                    arqs.c.created_at)))


def downgrade():
    op.drop_index('ix_accelerator_requests_state_notified_at',
                  table_name='accelerator_requests')
    with op.batch_alter_table('accelerator_requests',
                              schema=None) as batch_op:
        batch_op.drop_column('notified_at')
        batch_op.drop_column('bind_owner')
    op.drop_table('conductors')
