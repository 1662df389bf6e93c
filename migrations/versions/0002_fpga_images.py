"""fpga images

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 15:51:17.956174
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# What downgrade() destroys (cyborg_clone.db.migration).
downgrade_loses = ('the FPGA image tables (fpga_images, '
                   'fpga_image_associations, fpga_image_builds) with every '
                   'image record, association and build in flight')


def upgrade():
    op.create_table('fpga_images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.String(length=32), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('message', sa.String(length=255), nullable=True),
    sa.Column('metadata_json', sa.Text(), nullable=False),
    sa.Column('bucket', sa.String(length=63), nullable=False),
    sa.Column('object_key', sa.String(length=128), nullable=False),
    sa.Column('log_directory', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('work_started_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fpga_images')),
    sa.UniqueConstraint('image_id', name=op.f('uq_fpga_images_image_id'))
    )
    with op.batch_alter_table('fpga_images', schema=None) as batch_op:
        batch_op.create_index('ix_fpga_images_project_id_created_at', ['project_id', 'created_at'], unique=False)
        batch_op.create_index('ix_fpga_images_status', ['status'], unique=False)

    op.create_table('fpga_image_associations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.String(length=36), nullable=False),
    sa.Column('fpga_image_id', sa.Integer(), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('slot >= 0 AND slot < 10', name='ck_fpga_image_associations_slot'),
    sa.ForeignKeyConstraint(['fpga_image_id'], ['fpga_images.id'], name=op.f('fk_fpga_image_associations_fpga_image_id_fpga_images'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fpga_image_associations')),
    sa.UniqueConstraint('image_id', 'fpga_image_id', name=op.f('uq_fpga_image_associations_image_id_fpga_image_id')),
    sa.UniqueConstraint('image_id', 'slot', name=op.f('uq_fpga_image_associations_image_id_slot'))
    )
    with op.batch_alter_table('fpga_image_associations', schema=None) as batch_op:
        batch_op.create_index('ix_fpga_image_associations_fpga_image_id', ['fpga_image_id'], unique=False)

    op.create_table('fpga_image_builds',
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('fpga_image_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['fpga_image_id'], ['fpga_images.id'], name=op.f('fk_fpga_image_builds_fpga_image_id_fpga_images'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_fpga_image_builds')),
    sa.UniqueConstraint('fpga_image_id', name=op.f('uq_fpga_image_builds_fpga_image_id'))
    )


def downgrade():
    # DROP TABLE takes the table's indexes along. Dropping them first, as
    # autogenerate wrote, fails on MySQL for an index under a foreign key.
    op.drop_table('fpga_image_builds')
    op.drop_table('fpga_image_associations')
    op.drop_table('fpga_images')
