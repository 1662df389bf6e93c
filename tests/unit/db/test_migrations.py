"""Every migration, up and down and up again, on every database backend.

After each step the schema is read back from the database: what each
revision adds must be there from that revision on and absent before it, a
downgrade must give back exactly the schema the revision below had, and
the rows already stored must survive.
"""

import datetime

import sqlalchemy as sa

from cyborg_clone.db import api as db_api
from cyborg_clone.db import migration
from cyborg_clone.db import models
from tests.conftest import make_conf
from tests.fixtures import databases

DB_BACKENDS = databases.BACKENDS

# What each revision adds: tables, (table, column) and (table, index).
ADDS = {
    '0001': {
        'tables': {'device_profiles', 'devices', 'host_reports',
                   'controlpath_ids', 'deployables', 'attach_handles',
                   'attributes', 'accelerator_requests'},
        'columns': {('devices', 'hostname'), ('deployables', 'rp_uuid'),
                    ('attach_handles', 'in_use'),
                    ('accelerator_requests', 'attach_handle_id')},
        'indexes': {('devices', 'ix_devices_hostname'),
                    ('deployables', 'ix_deployables_device_id'),
                    ('accelerator_requests',
                     'ix_accelerator_requests_state')},
    },
    '0002': {
        'tables': {'fpga_images', 'fpga_image_associations',
                   'fpga_image_builds'},
        'columns': {('fpga_images', 'image_id'),
                    ('fpga_image_associations', 'slot')},
        'indexes': {('fpga_images', 'ix_fpga_images_status')},
    },
    '0003': {
        'tables': set(),
        'columns': {('deployables', 'vanished_at')},
        'indexes': {('deployables', 'ix_deployables_parent_id'),
                    ('deployables', 'ix_deployables_root_id'),
                    ('attach_handles', 'ix_attach_handles_cpid_id'),
                    ('accelerator_requests',
                     'ix_accelerator_requests_deployable_id')},
    },
    # Column types only (collation, DATETIME(6)), on MySQL only: the
    # snapshots below compare them.
    '0004': {'tables': set(), 'columns': set(), 'indexes': set()},
    '0005': {'tables': set(),
             'columns': {('host_reports', 'failed_drivers')},
             'indexes': set()},
    '0006': {'tables': {'conductors'},
             'columns': {('accelerator_requests', 'bind_owner'),
                         ('accelerator_requests', 'notified_at')},
             'indexes': {('accelerator_requests',
                          'ix_accelerator_requests_state_notified_at')}},
    '0007': {'tables': set(),
             'columns': {('deployables', 'state'),
                         ('deployables', 'state_reason'),
                         ('accelerator_requests', 'attach_info')},
             'indexes': set()},
}

REVISIONS = [script.revision for script in migration.scripts()]


def schema():
    """The schema of the configured database as plain, comparable data:
    {table: {columns, primary key, indexes, unique constraints, foreign
    keys, check constraints}}."""
    inspector = sa.inspect(db_api.writer_engine())
    found = {}
    for table in inspector.get_table_names():
        found[table] = {
            'columns': sorted(
                (c['name'], str(c['type']), c['nullable'])
                for c in inspector.get_columns(table)),
            'primary key': inspector.get_pk_constraint(
                table)['constrained_columns'],
            'indexes': sorted(
                (i['name'], tuple(i['column_names']), bool(i['unique']))
                for i in inspector.get_indexes(table)),
            'unique': sorted(
                (u['name'], tuple(u['column_names']))
                for u in inspector.get_unique_constraints(table)),
            'foreign keys': sorted(
                (f['name'], tuple(f['constrained_columns']),
                 f['referred_table'], tuple(f['referred_columns']),
                 (f['options'].get('ondelete') or '').upper())
                for f in inspector.get_foreign_keys(table)),
            'checks': sorted(
                c['name'] or '' for c in inspector.get_check_constraints(
                    table)),
        }
    return found


def assert_schema_of(revision, found):
    """What the revisions up to ``revision`` add is there, and what later
    ones add is not."""
    applied = REVISIONS[:REVISIONS.index(revision) + 1]
    for rev in REVISIONS:
        adds = ADDS[rev]
        present = rev in applied
        for table in adds['tables']:
            assert (table in found) is present, (revision, rev, table)
        for table, column in adds['columns']:
            columns = {c[0] for c in found.get(table, {}).get('columns', ())}
            assert (column in columns) is present, (revision, rev, column)
        for table, index in adds['indexes']:
            indexes = {i[0] for i in found.get(table, {}).get('indexes', ())}
            assert (index in indexes) is present, (revision, rev, index)


def test_every_revision_says_what_it_adds_and_what_downgrading_loses():
    assert sorted(ADDS) == REVISIONS
    for script in migration.scripts():
        # Set on purpose, even to None: the template's NotImplemented and
        # a missing attribute both fail here.
        loses = vars(script.module).get('downgrade_loses', NotImplemented)
        assert loses is None or (isinstance(loses, str) and loses), (
            script.revision, loses)


def test_each_revision_goes_up_then_down_then_up_again(empty_conf):
    conf = empty_conf
    db_api.configure(conf)
    assert schema() == {}
    snapshots = {}
    for revision in REVISIONS:
        migration.upgrade(conf, revision)
        assert migration.current_revision(conf) == revision
        snapshots[revision] = schema()
        assert_schema_of(revision, snapshots[revision])
    # The head is the models, no more, no less.
    assert set(snapshots[REVISIONS[-1]]) == (
        set(models.Base.metadata.tables) | {'alembic_version'})

    for below in reversed([None] + REVISIONS[:-1]):
        migration.downgrade(conf, below or 'base', force=True)
        assert migration.current_revision(conf) == below
        if below is not None:
            assert schema() == snapshots[below], below
    # Alembic keeps its (now empty) version table; nothing else is left.
    assert list(schema()) == ['alembic_version']

    migration.upgrade(conf)
    assert schema() == snapshots[REVISIONS[-1]]


NOW = datetime.datetime(2026, 1, 2, 3, 4, 5)


def insert(table, **values):
    with db_api.writer_engine().begin() as connection:
        connection.execute(sa.table(table, *map(sa.column, values)).insert()
                           .values(**values))


def select_all(table, *columns):
    # The models' columns, for their types: SQLite hands back a DATETIME
    # as text unless told what it is.
    model = models.Base.metadata.tables[table]
    with db_api.writer_engine().connect() as connection:
        return connection.execute(
            sa.select(*(model.c[name] for name in columns))).all()


def test_rows_survive_every_upgrade_and_the_downgrades_that_keep_them(
        empty_conf):
    # SQLite rebuilds a table to add or drop a column (alembic's batch
    # mode): the copy must carry every row over.
    conf = empty_conf
    migration.upgrade(conf, REVISIONS[0])
    insert('devices', id=1, uuid='d1', type='FPGA', vendor='0x10ee',
           model='m', hostname='h1', status='enabled', created_at=NOW)
    insert('deployables', id=1, uuid='p1', name='h1_card',
           num_accelerators=2, device_id=1, rp_uuid='r1', created_at=NOW)
    insert('host_reports', hostname='h1', fingerprint='f' * 64,
           reported_at=NOW)
    expected = select_all('deployables', 'uuid', 'name', 'device_id')
    assert expected == [('p1', 'h1_card', 1)]

    migration.upgrade(conf)
    assert select_all('deployables', 'uuid', 'name', 'device_id') == \
        expected
    assert select_all('deployables', 'vanished_at') == [(None,)]
    assert select_all('host_reports', 'hostname', 'fingerprint',
                      'failed_drivers') == [('h1', 'f' * 64, None)]

    migration.downgrade(conf, REVISIONS[0], force=True)
    assert select_all('deployables', 'uuid', 'name', 'device_id') == \
        expected
    assert select_all('devices', 'uuid', 'created_at') == [('d1', NOW)]
    assert select_all('host_reports', 'hostname', 'reported_at') == [
        ('h1', NOW)]


def test_a_downgrade_that_does_not_restore_the_schema_is_caught(tmp_path):
    # The comparison above must be able to fail: here something made at
    # 0003 outlives 0003's downgrade. Once, on SQLite, is enough.
    conf = make_conf(tmp_path)
    migration.upgrade(conf, '0002')
    before = schema()
    migration.upgrade(conf, '0003')
    with db_api.writer_engine().begin() as connection:
        connection.exec_driver_sql('CREATE INDEX ix_extra ON devices (type)')
    migration.downgrade(conf, '0002', force=True)
    after = schema()
    assert after != before
    assert ('ix_extra', ('type',), False) in after['devices']['indexes']
    db_api.reset()


def test_arqs_resolved_before_0006_count_as_reported_to_nova(empty_conf):
    # The code before 0006 told Nova as it resolved them: no conductor
    # may report them again. A bind in flight is left to be adopted.
    conf = empty_conf
    migration.upgrade(conf, '0005')
    insert('device_profiles', id=1, uuid='dp', name='dp',
           profile_json='[{}]', created_at=NOW)
    later = NOW + datetime.timedelta(seconds=5)
    for number, state, updated in ((1, 'Bound', later),
                                   (2, 'BindFailed', None),
                                   (3, 'BindStarted', later),
                                   (4, 'Initial', None)):
        insert('accelerator_requests', id=number, uuid='a%d' % number,
               state=state, device_profile_id=1, device_profile_group_id=0,
               created_at=NOW, updated_at=updated)
    migration.upgrade(conf, '0006')
    assert sorted(select_all('accelerator_requests', 'uuid', 'notified_at',
                             'bind_owner')) == [
        ('a1', later, None), ('a2', NOW, None), ('a3', None, None),
        ('a4', None, None)]
