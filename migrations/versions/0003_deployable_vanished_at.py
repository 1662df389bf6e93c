"""deployables.vanished_at; indexes on foreign key columns

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 18:55:00

When its host stops reporting a deployable that an accelerator request
still holds, the row is kept until the request lets go; ``vanished_at``
marks it meanwhile so that no new bind lands on it.

Removing a card deletes its rows, and each delete looks up the rows that
refer to it: the foreign key columns that no index covered yet get one, so
that this stays a lookup however many cards the cloud has.
"""

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# (table, column) of each foreign key column no index led.
_INDEXED = (
    ('deployables', 'parent_id'),
    ('deployables', 'root_id'),
    ('attach_handles', 'cpid_id'),
    ('accelerator_requests', 'deployable_id'),
)


def upgrade():
    with op.batch_alter_table('deployables', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vanished_at', sa.DateTime(),
                                      nullable=True))
    for table, column in _INDEXED:
        op.create_index(op.f('ix_%s_%s' % (table, column)), table, [column],
                        unique=False)


def downgrade():
    for table, column in reversed(_INDEXED):
        op.drop_index(op.f('ix_%s_%s' % (table, column)), table_name=table)
    with op.batch_alter_table('deployables', schema=None) as batch_op:
        batch_op.drop_column('vanished_at')
