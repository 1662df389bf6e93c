"""MySQL/MariaDB: strings compared byte for byte, times to the microsecond

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 22:00:00

On MySQL/MariaDB the tables of 0001-0003 took the server's default
collation, which on a stock server (utf8mb4_general_ci) ignores case and
trailing spaces: device profiles "GPU" and "gpu" clashed on the unique
name, and a lookup of "gpu" found "GPU" and "gpu ". PostgreSQL and SQLite
compare byte for byte. Every VARCHAR column here gets the binary, no-pad
collation of cyborg_clone.db.models (BINARY_COLLATION), which does the
same; indexes and unique constraints stay and now compare that way too.

A plain DATETIME there keeps whole seconds, where the others keep
microseconds: every DATETIME column becomes DATETIME(6). Values already
stored keep what they had.

Elsewhere this revision changes nothing.
"""

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# What downgrade() destroys (cyborg_clone.db.migration): no table or
# column. On MySQL/MariaDB it puts back the types of 0003: the timestamps
# lose their fraction of a second, and it refuses (before changing
# anything) while two values of a unique key differ only in case or
# trailing spaces.
downgrade_loses = None

# As cyborg_clone.db.models.BINARY_COLLATION was when this was written.
COLLATION = 'utf8mb4_nopad_bin'
FSP = 6

# {table: ([(VARCHAR column, length, nullable)],
#          [(DATETIME column, nullable)])}, as 0001-0003 made them.
COLUMNS = {
    'devices': (
        [('uuid', 36, False), ('type', 30, False), ('vendor', 255, False),
         ('model', 255, False), ('hostname', 255, False),
         ('driver_name', 100, True), ('status', 20, False)],
        [('created_at', False), ('updated_at', True)]),
    'controlpath_ids': (
        [('uuid', 36, False), ('cpid_type', 30, False),
         ('cpid_info', 255, False)],
        [('created_at', False), ('updated_at', True)]),
    'deployables': (
        [('uuid', 36, False), ('name', 255, False),
         ('driver_name', 100, True), ('bitstream_id', 64, True),
         ('rp_uuid', 36, True)],
        [('vanished_at', True), ('created_at', False),
         ('updated_at', True)]),
    'attributes': (
        [('uuid', 36, False), ('key', 255, False), ('value', 255, False)],
        [('created_at', False), ('updated_at', True)]),
    'attach_handles': (
        [('uuid', 36, False), ('attach_type', 30, False),
         ('attach_info', 255, False)],
        [('created_at', False), ('updated_at', True)]),
    'device_profiles': (
        [('uuid', 36, False), ('name', 255, False),
         ('description', 255, True)],
        [('created_at', False), ('updated_at', True)]),
    'accelerator_requests': (
        [('uuid', 36, False), ('state', 20, False),
         ('project_id', 255, True), ('hostname', 255, True),
         ('device_rp_uuid', 36, True), ('instance_uuid', 36, True),
         ('bind_failure', 255, True)],
        [('bind_started_at', True), ('created_at', False),
         ('updated_at', True)]),
    'host_reports': (
        [('hostname', 255, False), ('fingerprint', 64, False)],
        [('reported_at', False)]),
    'fpga_images': (
        [('image_id', 32, False), ('project_id', 255, False),
         ('name', 64, False), ('description', 255, False),
         ('status', 20, False), ('message', 255, True),
         ('bucket', 63, False), ('object_key', 128, False),
         ('log_directory', 64, False), ('sha256', 64, True)],
        [('work_started_at', True), ('created_at', False),
         ('updated_at', True)]),
    'fpga_image_builds': (
        [('project_id', 255, False)],
        [('started_at', False)]),
    'fpga_image_associations': (
        [('image_id', 36, False)],
        [('created_at', False)]),
}

# The unique keys (constraints and primary keys) with a VARCHAR column:
# what the server's collation would compare again after downgrade().
UNIQUE_KEYS = (
    ('devices', ('uuid',)),
    ('controlpath_ids', ('uuid',)),
    ('controlpath_ids', ('device_id', 'cpid_info')),
    ('deployables', ('uuid',)),
    ('deployables', ('name',)),
    ('deployables', ('rp_uuid',)),
    ('attributes', ('uuid',)),
    ('attributes', ('deployable_id', 'key')),
    ('attach_handles', ('uuid',)),
    ('attach_handles', ('deployable_id', 'attach_info')),
    ('device_profiles', ('uuid',)),
    ('device_profiles', ('name',)),
    ('accelerator_requests', ('uuid',)),
    ('host_reports', ('hostname',)),
    ('fpga_images', ('image_id',)),
    ('fpga_image_builds', ('project_id',)),
    ('fpga_image_associations', ('image_id', 'fpga_image_id')),
    ('fpga_image_associations', ('image_id', 'slot')),
)


def _mysql():
    return op.get_bind().dialect.name in ('mysql', 'mariadb')


def _null(nullable):
    return 'NULL' if nullable else 'NOT NULL'


def _alter(table, string_type, datetime_type):
    """One ALTER TABLE per table: MySQL rebuilds the table once."""
    strings, datetimes = COLUMNS[table]
    clauses = ['MODIFY `%s` %s %s' % (name, string_type % length,
                                     _null(nullable))
               for name, length, nullable in strings]
    clauses += ['MODIFY `%s` %s %s' % (name, datetime_type, _null(nullable))
                for name, nullable in datetimes]
    op.execute('ALTER TABLE `%s` %s' % (table, ', '.join(clauses)))


def upgrade():
    if not _mysql():
        return
    for table in COLUMNS:
        _alter(table, 'VARCHAR(%%d) COLLATE %s' % COLLATION,
               'DATETIME(%d)' % FSP)


def downgrade():
    if not _mysql():
        return
    _refuse_keys_the_table_collation_would_merge()
    for table in COLUMNS:
        # No collation: the column takes its table's default again.
        _alter(table, 'VARCHAR(%d)', 'DATETIME')


def _refuse_keys_the_table_collation_would_merge():
    """Fail before altering anything when two rows' unique key values
    differ only as the table's own collation does not see (case, trailing
    spaces): the ALTER of that table would fail half way through the
    downgrade."""
    bind = op.get_bind()
    strings = {table: {name for name, _, _ in columns[0]}
               for table, columns in COLUMNS.items()}
    clashes = []
    for table, key in UNIQUE_KEYS:
        charset, collation = bind.exec_driver_sql(
            'SELECT c.character_set_name, t.table_collation '
            'FROM information_schema.tables t '
            'JOIN information_schema.collation_character_set_applicability'
            ' c ON c.collation_name = t.table_collation '
            'WHERE t.table_schema = DATABASE() AND t.table_name = %s',
            (table,)).one()
        columns = ', '.join(
            'CONVERT(`%s` USING %s) COLLATE %s' % (name, charset, collation)
            if name in strings[table] else '`%s`' % name
            for name in key)
        found = bind.exec_driver_sql(
            'SELECT %s FROM `%s` GROUP BY %s HAVING COUNT(*) > 1 LIMIT 1'
            % (columns, table, columns)).first()
        if found is not None:
            clashes.append('%s (%s) = %r' % (table, ', '.join(key),
                                              tuple(found)))
    if clashes:
        raise RuntimeError(
            'cannot downgrade below 0004: these unique values would be '
            'duplicates under the tables\' collation, which ignores case '
            'and trailing spaces: %s. Rename them first.'
            % '; '.join(clashes))
