"""db_api.read(): one SELECT outside any session, on every backend; on
SQLite on an engine of its own that sends no BEGIN and reads beside an
open writer transaction."""

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from cyborg_clone.db import api as db_api
from cyborg_clone.db import models
from cyborg_clone.objects import device_profile
from tests.fixtures import databases

DB_BACKENDS = databases.BACKENDS

profiles = models.DeviceProfile.__table__


def names():
    return [row.name for row in db_api.read(
        sa.select(profiles.c.name).order_by(profiles.c.name))]


def test_read_sees_what_writers_committed(conf):
    assert names() == []
    device_profile.DeviceProfile.create('a', [{'resources:FPGA': '1'}])
    device_profile.DeviceProfile.create('b', [{'resources:FPGA': '1'}])
    assert names() == ['a', 'b']
    rows = db_api.read(sa.select(profiles.c.name, profiles.c.created_at)
                       .where(profiles.c.name == sa.bindparam('name')),
                       {'name': 'b'})
    assert [row.name for row in rows] == ['b']
    assert rows[0].created_at is not None
    assert rows[0].created_at.year >= 2024  # a datetime, not a string


def test_read_counts_as_one_statement(conf, count_statements):
    counter = count_statements()
    with db_api.counting_statements() as statements:
        names()
        names()
    assert statements.value == 2
    assert counter.count == 2


@pytest.mark.parametrize('db_backend', ['sqlite'], indirect=True)
def test_on_sqlite_read_sends_only_its_select(conf):
    sent = []

    def record(conn, cursor, statement, *args):
        sent.append(statement)
    engines = db_api.engines()
    assert len(engines) == 3
    for engine in engines:
        event.listen(engine, 'before_cursor_execute', record)
    try:
        names()
    finally:
        for engine in engines:
            event.remove(engine, 'before_cursor_execute', record)
    assert len(sent) == 1
    assert sent[0].startswith('SELECT')


@pytest.mark.parametrize('db_backend', ['sqlite'], indirect=True)
def test_on_sqlite_read_does_not_wait_for_an_open_writer(conf):
    device_profile.DeviceProfile.create('a', [{'resources:FPGA': '1'}])
    with db_api.writer() as session:
        # BEGIN IMMEDIATE holds the write lock until the block ends.
        session.execute(sa.delete(profiles))
        assert names() == ['a']  # the committed state, at once
    assert names() == []
