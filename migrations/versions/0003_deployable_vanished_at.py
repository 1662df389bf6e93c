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

# What downgrade() destroys (cyborg_clone.db.migration). The indexes hold
# nothing, but the column does, and losing it matters: deployables kept
# only for the requests holding them would look usable to new binds.
downgrade_loses = ('deployables.vanished_at, the mark on deployables their '
                   'hosts no longer report')

# (table, column) of each foreign key column no index led.
_INDEXED = (
    ('deployables', 'parent_id'),
    ('deployables', 'root_id'),
    ('attach_handles', 'cpid_id'),
    ('accelerator_requests', 'deployable_id'),
)

# The foreign keys on those columns, as 0001 made them: (referred table,
# ON DELETE), for MySQL's downgrade below.
_FOREIGN_KEYS = {
    ('deployables', 'parent_id'): ('deployables', 'CASCADE'),
    ('deployables', 'root_id'): ('deployables', 'CASCADE'),
    ('attach_handles', 'cpid_id'): ('controlpath_ids', 'CASCADE'),
    ('accelerator_requests', 'deployable_id'): ('deployables', 'SET NULL'),
}


def upgrade():
    with op.batch_alter_table('deployables', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vanished_at', sa.DateTime(),
                                      nullable=True))
    for table, column in _INDEXED:
        op.create_index(op.f('ix_%s_%s' % (table, column)), table, [column],
                        unique=False)


def downgrade():
    mysql = op.get_bind().dialect.name == 'mysql'
    for table, column in reversed(_INDEXED):
        if mysql:
            _drop_index_under_mysql_foreign_key(table, column)
        else:
            op.drop_index(op.f('ix_%s_%s' % (table, column)),
                          table_name=table)
    with op.batch_alter_table('deployables', schema=None) as batch_op:
        batch_op.drop_column('vanished_at')


def _drop_index_under_mysql_foreign_key(table, column):
    """MySQL keeps an index under every foreign key: it made one of its
    own for each in 0001, dropped it when upgrade() made ours, and refuses
    to drop ours while the key is there. So the key goes first and comes
    back after, bringing MySQL's own index back: the schema of 0002."""
    referred, ondelete = _FOREIGN_KEYS[table, column]
    name = op.f('fk_%s_%s_%s' % (table, column, referred))
    op.drop_constraint(name, table, type_='foreignkey')
    op.drop_index(op.f('ix_%s_%s' % (table, column)), table_name=table)
    op.create_foreign_key(name, table, referred, [column], ['id'],
                          ondelete=ondelete)
