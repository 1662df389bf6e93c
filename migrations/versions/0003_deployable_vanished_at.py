"""deployables.vanished_at

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 18:55:00

When its host stops reporting a deployable that an accelerator request
still holds, the row is kept until the request lets go; ``vanished_at``
marks it meanwhile so that no new bind lands on it.
"""

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deployables', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vanished_at', sa.DateTime(),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('deployables', schema=None) as batch_op:
        batch_op.drop_column('vanished_at')
