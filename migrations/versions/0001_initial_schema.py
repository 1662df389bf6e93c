"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 14:52:10.122098
"""

from alembic import op
import sqlalchemy as sa

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

# What downgrade() destroys (cyborg_clone.db.migration).
downgrade_loses = ('every table of the service with all its rows: devices, '
                   'deployables, attach handles, attributes, device '
                   'profiles and accelerator requests')


def upgrade():
    op.create_table('device_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('profile_json', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_profiles')),
    sa.UniqueConstraint('name', name=op.f('uq_device_profiles_name')),
    sa.UniqueConstraint('uuid', name=op.f('uq_device_profiles_uuid'))
    )
    op.create_table('devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('type', sa.String(length=30), nullable=False),
    sa.Column('vendor', sa.String(length=255), nullable=False),
    sa.Column('model', sa.String(length=255), nullable=False),
    sa.Column('std_board_info', sa.Text(), nullable=True),
    sa.Column('vendor_board_info', sa.Text(), nullable=True),
    sa.Column('hostname', sa.String(length=255), nullable=False),
    sa.Column('driver_name', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_devices')),
    sa.UniqueConstraint('uuid', name=op.f('uq_devices_uuid'))
    )
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.create_index('ix_devices_hostname', ['hostname'], unique=False)

    op.create_table('host_reports',
    sa.Column('hostname', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('reported_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('hostname', name=op.f('pk_host_reports'))
    )
    op.create_table('controlpath_ids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('cpid_type', sa.String(length=30), nullable=False),
    sa.Column('cpid_info', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_controlpath_ids_device_id_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_controlpath_ids')),
    sa.UniqueConstraint('device_id', 'cpid_info', name=op.f('uq_controlpath_ids_device_id_cpid_info')),
    sa.UniqueConstraint('uuid', name=op.f('uq_controlpath_ids_uuid'))
    )
    op.create_table('deployables',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('root_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('num_accelerators', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('driver_name', sa.String(length=100), nullable=True),
    sa.Column('bitstream_id', sa.String(length=64), nullable=True),
    sa.Column('rp_uuid', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_deployables_device_id_devices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['deployables.id'], name=op.f('fk_deployables_parent_id_deployables'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['root_id'], ['deployables.id'], name=op.f('fk_deployables_root_id_deployables'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deployables')),
    sa.UniqueConstraint('name', name=op.f('uq_deployables_name')),
    sa.UniqueConstraint('rp_uuid', name=op.f('uq_deployables_rp_uuid')),
    sa.UniqueConstraint('uuid', name=op.f('uq_deployables_uuid'))
    )
    with op.batch_alter_table('deployables', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deployables_device_id'), ['device_id'], unique=False)

    op.create_table('attach_handles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('deployable_id', sa.Integer(), nullable=False),
    sa.Column('cpid_id', sa.Integer(), nullable=False),
    sa.Column('attach_type', sa.String(length=30), nullable=False),
    sa.Column('attach_info', sa.String(length=255), nullable=False),
    sa.Column('in_use', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['cpid_id'], ['controlpath_ids.id'], name=op.f('fk_attach_handles_cpid_id_controlpath_ids'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['deployable_id'], ['deployables.id'], name=op.f('fk_attach_handles_deployable_id_deployables'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attach_handles')),
    sa.UniqueConstraint('deployable_id', 'attach_info', name=op.f('uq_attach_handles_deployable_id_attach_info')),
    sa.UniqueConstraint('uuid', name=op.f('uq_attach_handles_uuid'))
    )
    with op.batch_alter_table('attach_handles', schema=None) as batch_op:
        batch_op.create_index('ix_attach_handles_deployable_id_in_use', ['deployable_id', 'in_use'], unique=False)

    op.create_table('attributes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('deployable_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['deployable_id'], ['deployables.id'], name=op.f('fk_attributes_deployable_id_deployables'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attributes')),
    sa.UniqueConstraint('deployable_id', 'key', name=op.f('uq_attributes_deployable_id_key')),
    sa.UniqueConstraint('uuid', name=op.f('uq_attributes_uuid'))
    )
    op.create_table('accelerator_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('device_profile_id', sa.Integer(), nullable=False),
    sa.Column('device_profile_group_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=True),
    sa.Column('hostname', sa.String(length=255), nullable=True),
    sa.Column('device_rp_uuid', sa.String(length=36), nullable=True),
    sa.Column('instance_uuid', sa.String(length=36), nullable=True),
    sa.Column('deployable_id', sa.Integer(), nullable=True),
    sa.Column('attach_handle_id', sa.Integer(), nullable=True),
    sa.Column('bind_started_at', sa.DateTime(), nullable=True),
    sa.Column('bind_failure', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['attach_handle_id'], ['attach_handles.id'], name=op.f('fk_accelerator_requests_attach_handle_id_attach_handles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deployable_id'], ['deployables.id'], name=op.f('fk_accelerator_requests_deployable_id_deployables'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['device_profile_id'], ['device_profiles.id'], name=op.f('fk_accelerator_requests_device_profile_id_device_profiles'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accelerator_requests')),
    sa.UniqueConstraint('attach_handle_id', name=op.f('uq_accelerator_requests_attach_handle_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_accelerator_requests_uuid'))
    )
    with op.batch_alter_table('accelerator_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accelerator_requests_device_profile_id'), ['device_profile_id'], unique=False)
        batch_op.create_index('ix_accelerator_requests_instance_uuid', ['instance_uuid'], unique=False)
        batch_op.create_index('ix_accelerator_requests_project_id', ['project_id'], unique=False)
        batch_op.create_index('ix_accelerator_requests_state', ['state'], unique=False)



def downgrade():
    # DROP TABLE takes the table's indexes along. Dropping them first, as
    # autogenerate wrote, fails on MySQL for an index under a foreign key.
    op.drop_table('accelerator_requests')
    op.drop_table('attributes')
    op.drop_table('attach_handles')
    op.drop_table('deployables')
    op.drop_table('controlpath_ids')
    op.drop_table('host_reports')
    op.drop_table('devices')
    op.drop_table('device_profiles')
