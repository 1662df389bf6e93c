"""Claiming and releasing attach handles, alone and in racing
transactions, on every database backend."""

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from cyborg_clone.db import api as db_api
from cyborg_clone.db import models
from cyborg_clone.objects import attach_handle
from tests.fixtures import databases
from tests.fixtures.hardware import report_fake_host

DB_BACKENDS = databases.BACKENDS


def deployable_id():
    with db_api.reader() as session:
        return session.scalar(sa.select(models.Deployable.id))


def claim(dep_id):
    with db_api.writer() as session:
        return attach_handle.claim(session, dep_id)


def in_use_ids():
    table = models.AttachHandle
    with db_api.reader() as session:
        return set(session.scalars(sa.select(table.id).where(
            table.in_use == sa.true())))


def test_claims_take_each_free_handle_once_then_none(conf):
    report_fake_host(conf)
    dep_id = deployable_id()
    claimed = [claim(dep_id) for _ in range(16)]
    assert len(set(claimed)) == 16 and None not in claimed
    assert in_use_ids() == set(claimed)
    assert claim(dep_id) is None


def test_a_claim_rolled_back_with_its_transaction_frees_the_handle(conf):
    report_fake_host(conf)
    dep_id = deployable_id()

    class Abandoned(Exception):
        pass
    try:
        with db_api.writer() as session:
            assert attach_handle.claim(session, dep_id) is not None
            raise Abandoned()
    except Abandoned:
        pass
    assert in_use_ids() == set()


# Not SQLite: its writer transactions take turns, so nobody can take a
# handle between a claim's SELECT and its UPDATE there.
@pytest.mark.parametrize('db_backend', ['postgresql', 'mysql'],
                         indirect=True)
def test_a_claim_that_keeps_losing_takes_the_next_free_handle(conf):
    # Another conductor commits a claim of the very handle this claim
    # picked, just before this claim's UPDATE, six times in a row.
    report_fake_host(conf)
    dep_id = deployable_id()
    table = models.AttachHandle
    other = sa.create_engine(db_api.database_url(conf),
                             poolclass=sa.pool.NullPool)
    stolen = []

    def take_it_first(conn, cursor, statement, *args):
        if statement.startswith('UPDATE attach_handles') and \
                len(stolen) < 6:
            with other.begin() as theirs:
                lowest = theirs.scalar(sa.select(sa.func.min(table.id))
                                       .where(table.in_use == sa.false()))
                theirs.execute(sa.update(table).where(table.id == lowest)
                               .values(in_use=True))
            stolen.append(lowest)
    engine = db_api.writer_engine()
    event.listen(engine, 'before_cursor_execute', take_it_first)
    try:
        mine = claim(dep_id)
    finally:
        event.remove(engine, 'before_cursor_execute', take_it_first)
        other.dispose()

    assert len(set(stolen)) == 6
    with db_api.reader() as session:
        seventh = session.scalars(sa.select(table.id).where(
            table.deployable_id == dep_id).order_by(table.id)).all()[6]
    assert mine == seventh
    assert in_use_ids() == set(stolen) | {mine}


def test_racing_claims_never_hand_out_a_handle_twice(conf):
    # Eight workers, each claiming three handles in transactions of their
    # own, all started at once: 24 claims for 16 handles. Whatever the
    # interleaving, each handle is given out once and the rest get None.
    report_fake_host(conf)
    dep_id = deployable_id()
    workers = 8
    start = threading.Barrier(workers)
    results = []
    errors = []

    def worker():
        start.wait()
        try:
            for _ in range(3):
                results.append(claim(dep_id))
        except Exception as error:  # reported below, not lost in a thread
            errors.append(error)
    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    handles = [r for r in results if r is not None]
    assert len(handles) == 16
    assert len(set(handles)) == 16
    assert results.count(None) == 8
    assert in_use_ids() == set(handles)


def test_every_reader_of_in_use_agrees(conf):
    # The bind, the program call and device sync all ask "is the device in
    # use" through in_use_on, so one claim is seen by each of them.
    report_fake_host(conf, 'host-a')
    report_fake_host(conf, 'host-b')
    with db_api.reader() as session:
        ids = dict(session.execute(sa.select(models.Deployable.name,
                                             models.Deployable.id)).all())
    busy, idle = ids['host-a_FakeDevice'], ids['host-b_FakeDevice']
    mine = claim(busy)
    held = claim(busy)
    deployables = models.Deployable
    with db_api.reader() as session:
        assert attach_handle.any_in_use(session, busy)
        assert not attach_handle.any_in_use(session, idle)
        assert attach_handle.any_in_use(session, busy, besides=mine)
        assert attach_handle.count_in_use(session, busy) == 2
        assert attach_handle.count_in_use(session, idle) == 0
        assert set(session.scalars(sa.select(deployables.id).where(
            sa.exists().where(attach_handle.in_use_on(deployables.id))))) \
            == {busy}
    with db_api.writer() as session:
        session.execute(sa.update(models.AttachHandle)
                        .where(models.AttachHandle.id == held)
                        .values(in_use=False))
    with db_api.reader() as session:
        assert not attach_handle.any_in_use(session, busy, besides=mine)
        assert attach_handle.count_in_use(session, busy) == 1
