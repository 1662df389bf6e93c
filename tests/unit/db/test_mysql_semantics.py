"""Strings and timestamps mean the same on every database backend.

MariaDB's defaults differ from PostgreSQL's and SQLite's: its default
collation ignores case and trailing spaces when it compares (so a unique
name and a lookup by name would too), and a plain DATETIME keeps whole
seconds. Migration 0004 makes MySQL/MariaDB compare strings byte for byte
and keep microseconds; these tests hold every backend to that.
"""

import datetime

import pytest
import sqlalchemy as sa

from cyborg_clone.common import exception
from cyborg_clone.db import api as db_api
from cyborg_clone.db import migration
from cyborg_clone.db import models
from cyborg_clone.objects import base
from cyborg_clone.objects import device
from cyborg_clone.objects import device_profile
from tests.fixtures import databases

DB_BACKENDS = databases.BACKENDS

GROUPS = [{'resources:FPGA': '1'}]

PRECISE = datetime.datetime(2026, 1, 2, 3, 4, 5, 123456)


def add(*rows):
    with db_api.writer() as session:
        session.add_all(rows)


def new_device(hostname, uuid=None):
    return models.Device(uuid=uuid or base.new_uuid(), type='FPGA',
                         vendor='0x10ee', model='m', hostname=hostname,
                         status='enabled')


def test_names_differing_only_in_case_are_different_profiles(conf):
    upper = device_profile.DeviceProfile.create('GPU', GROUPS)
    lower = device_profile.DeviceProfile.create('gpu', GROUPS)

    assert device_profile.DeviceProfile.get_by_name('GPU').uuid == upper.uuid
    assert device_profile.DeviceProfile.get_by_name('gpu').uuid == lower.uuid
    assert [p.uuid for p in device_profile.DeviceProfile.list(
        names=['gpu'])] == [lower.uuid]
    with pytest.raises(exception.DeviceProfileNotFound):
        device_profile.DeviceProfile.get_by_name('Gpu')


def test_a_trailing_space_makes_a_different_name(conf):
    plain = device_profile.DeviceProfile.create('gpu', GROUPS)
    spaced = device_profile.DeviceProfile.create('gpu ', GROUPS)

    assert device_profile.DeviceProfile.get_by_name('gpu').uuid == plain.uuid
    assert device_profile.DeviceProfile.get_by_name('gpu ').uuid == \
        spaced.uuid
    assert [p.uuid for p in device_profile.DeviceProfile.list(
        names=['gpu'])] == [plain.uuid]
    with pytest.raises(exception.DeviceProfileNotFound):
        device_profile.DeviceProfile.get_by_name('gpu  ')


def test_the_same_name_is_still_refused(conf):
    device_profile.DeviceProfile.create('gpu', GROUPS)
    with pytest.raises(exception.Conflict):
        device_profile.DeviceProfile.create('gpu', GROUPS)


def test_hosts_are_found_by_their_exact_name(conf):
    add(new_device('Compute-1'), new_device('compute-1'),
        new_device('compute-1 '))

    assert [d.hostname for d in device.Device.list(
        hostname='compute-1')] == ['compute-1']
    assert [d.hostname for d in device.Device.list(
        hostname='Compute-1')] == ['Compute-1']


def test_attribute_keys_differing_in_case_are_different_keys(conf):
    card = new_device('h1')
    add(card)
    deployable = models.Deployable(uuid=base.new_uuid(), name='h1_card',
                                   num_accelerators=1, device_id=card.id)
    add(deployable)
    add(models.Attribute(uuid=base.new_uuid(), deployable_id=deployable.id,
                         key='traits', value='CUSTOM_A'),
        models.Attribute(uuid=base.new_uuid(), deployable_id=deployable.id,
                         key='Traits', value='CUSTOM_B'))

    table = models.Attribute
    with db_api.reader() as session:
        found = session.execute(sa.select(table.value).where(
            table.deployable_id == deployable.id,
            table.key == 'traits')).scalars().all()
    assert found == ['CUSTOM_A']


def test_strings_sort_by_their_code_points(conf):
    # PostgreSQL (initdb --locale C) and SQLite sort byte for byte:
    # every upper-case letter before every lower-case one.
    for name in ('b', 'A', 'a', 'B'):
        device_profile.DeviceProfile.create(name, GROUPS)
    page = base.Page(sort_key='name')
    assert [p.name for p in device_profile.DeviceProfile.list(
        page=page)] == ['A', 'B', 'a', 'b']


def test_timestamps_keep_their_microseconds(conf):
    later = PRECISE + datetime.timedelta(microseconds=1)
    add(models.DeviceProfile(uuid='p1', name='gpu', profile_json='[]',
                             created_at=PRECISE, updated_at=later))

    found = device_profile.DeviceProfile.get_by_uuid('p1')
    assert (found.created_at, found.updated_at) == (PRECISE, later)


def test_rows_made_within_a_second_keep_their_order(conf):
    first = device_profile.DeviceProfile.create('first', GROUPS)
    second = device_profile.DeviceProfile.create('second', GROUPS)
    assert first.created_at < second.created_at

    stored = {p.name: p.created_at
              for p in device_profile.DeviceProfile.list()}
    assert stored == {'first': first.created_at,
                      'second': second.created_at}


def test_every_timestamp_column_keeps_microseconds(conf):
    # Each DATETIME column of the schema, written and read back.
    engine = db_api.writer_engine()
    columns = [(table, column)
               for table in models.Base.metadata.sorted_tables
               for column in table.columns
               if isinstance(column.type, sa.DateTime)]
    assert len(columns) > 10
    with engine.begin() as connection:
        connection.exec_driver_sql(
            'CREATE TABLE probe (id INTEGER PRIMARY KEY)')
    try:
        for table, column in columns:
            probe = sa.Table('probe', sa.MetaData(),
                             sa.Column('id', sa.Integer, primary_key=True),
                             sa.Column('stamp', column.type))
            with engine.begin() as connection:
                connection.exec_driver_sql('DROP TABLE probe')
                # The column's type as the migrated database has it.
                found = {c['name']: c['type'] for c in
                         sa.inspect(connection).get_columns(table.name)}
                connection.exec_driver_sql(
                    'CREATE TABLE probe (id INTEGER PRIMARY KEY, stamp %s)'
                    % found[column.name].compile(connection.dialect))
                connection.execute(probe.insert().values(id=1, stamp=PRECISE))
                assert connection.execute(sa.select(probe.c.stamp)).scalar() \
                    == PRECISE, (table.name, column.name)
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql('DROP TABLE IF EXISTS probe')


def profile_rows():
    table = models.DeviceProfile.__table__
    with db_api.writer_engine().connect() as connection:
        return connection.execute(
            sa.select(table.c.name, table.c.created_at)
            .order_by(table.c.id)).all()


def test_downgrading_below_0004_refuses_names_it_would_merge(empty_conf,
                                                             db_backend):
    conf = empty_conf
    migration.upgrade(conf, '0004')
    with db_api.writer_engine().begin() as connection:
        connection.execute(models.DeviceProfile.__table__.insert(), [
            {'uuid': 'p1', 'name': 'gpu', 'profile_json': '[]',
             'created_at': PRECISE},
            {'uuid': 'p2', 'name': 'GPU', 'profile_json': '[]',
             'created_at': PRECISE}])

    if db_backend == 'mysql':
        # Nothing changed: still 0004, both rows, microseconds and all.
        with pytest.raises(RuntimeError, match=r"device_profiles \(name\)"):
            migration.downgrade(conf, '0003')
        assert migration.current_revision(conf) == '0004'
        assert profile_rows() == [('gpu', PRECISE), ('GPU', PRECISE)]
        with db_api.writer_engine().begin() as connection:
            connection.exec_driver_sql(
                "DELETE FROM device_profiles WHERE uuid = 'p2'")

    migration.downgrade(conf, '0003')
    assert migration.current_revision(conf) == '0003'
    if db_backend == 'mysql':
        # DATETIME again: whole seconds (MariaDB truncates).
        assert profile_rows() == [('gpu', PRECISE.replace(microsecond=0))]
    else:
        assert profile_rows()[0] == ('gpu', PRECISE)
