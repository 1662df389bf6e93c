"""Device sync: agent reports become rows, applied as a diff."""

import dataclasses
import threading

import pytest
import sqlalchemy as sa

from cyborg_clone.common import context
from cyborg_clone.common import exception
from cyborg_clone.conductor import device_sync
from cyborg_clone.db import api as db_api
from cyborg_clone.db import models
from cyborg_clone.drivers import fake
from cyborg_clone.drivers import report
from cyborg_clone.objects import host_inventory
from tests.conftest import row_count
from tests.fixtures import databases

# Each test that uses the database runs on each backend.
DB_BACKENDS = databases.BACKENDS

CTX = context.get_admin_context()
TABLES = ('devices', 'controlpath_ids', 'deployables', 'attach_handles',
          'attributes')


def discover(conf, host='testhost'):
    return fake.FakeDriver(conf, host=host).discover()


def apply(host, devices):
    return device_sync.apply_report(CTX, host, report.to_primitive(devices))


def with_deployable(devices, **changes):
    """The report with its (only) deployable changed."""
    [device] = devices
    [dep] = device.deployables
    return [dataclasses.replace(
        device, deployables=(dataclasses.replace(dep, **changes),))]


def rows(sql, **params):
    with db_api.reader() as session:
        return session.execute(sa.text(sql), params).all()


def uuids():
    """Every hardware row's uuid, by table."""
    return {table: sorted(r.uuid for r in rows('SELECT uuid FROM ' + table))
            for table in TABLES}


def counts():
    return {table: row_count(table) for table in TABLES}


def attributes(*where):
    """(key, value) of the attributes matching ``where``, oldest first.
    Built with SQLAlchemy rather than written out: ``key`` is a reserved
    word in MySQL and needs the dialect's quoting."""
    table = models.Attribute
    with db_api.reader() as session:
        return session.execute(sa.select(table.key, table.value).where(
            *where).order_by(table.id)).all()


def hold_a_handle():
    """Mark one handle in use, as binding an ARQ does."""
    handles = models.AttachHandle
    with db_api.writer() as session:
        # Two statements: MySQL refuses an UPDATE whose subquery reads the
        # table being updated.
        first = session.scalar(sa.select(sa.func.min(handles.id)))
        session.execute(sa.update(handles).where(handles.id == first)
                        .values(in_use=True))


def release_handles():
    with db_api.writer() as session:
        session.execute(sa.update(models.AttachHandle).values(in_use=False))


def test_new_host_gets_every_row(conf):
    changes = apply('testhost', discover(conf))
    assert counts() == {'devices': 1, 'controlpath_ids': 1,
                        'deployables': 1, 'attach_handles': 16,
                        'attributes': 2}
    assert changes.created == 21
    [device] = rows('SELECT * FROM devices')
    assert (device.hostname, device.type, device.vendor, device.status) == (
        'testhost', 'FPGA', '0xABCD', 'enabled')
    [dep] = rows('SELECT * FROM deployables')
    assert dep.name == 'testhost_FakeDevice'
    # uuid3(NAMESPACE_DNS, name): the provider's uuid never changes.
    assert dep.rp_uuid == 'f70a27cd-ba92-35c0-b83d-d36bb298f655'
    assert attributes() == [
        ('traits1', 'CUSTOM_FAKE_DEVICE'), ('rc', 'FPGA')]
    [cpid] = rows('SELECT * FROM controlpath_ids')
    assert cpid.cpid_info == ('{"bus": "0c", "device": "00", '
                              '"domain": "0000", "function": "0"}')


def test_unchanged_report_costs_one_statement(conf, count_statements):
    apply('testhost', discover(conf))
    counter = count_statements()
    assert apply('testhost', discover(conf)) is None
    assert counter.count == 1
    assert 'host_reports' in counter.statements[0]


def many_cards(count, host='testhost'):
    """A report of ``count`` cards like the vendor drivers emit."""
    return [report.Device(
        type='FPGA', vendor='0x10ee', model='m', driver_name='xilinx',
        controlpath=report.ControlPath('PCI', {'bus': '%02x' % card}),
        deployables=(report.Deployable(
            name='%s_%02x' % (host, card), num_accelerators=2,
            resource_class='FPGA', traits=('CUSTOM_FPGA_XILINX',),
            attach_handles=tuple(
                report.AttachHandle('PCI', {'bus': '%02x' % card,
                                            'function': str(f)})
                for f in (1, 2))),))
        for card in range(count)]


@pytest.mark.parametrize('cards', [1, 8])
def test_the_log_shows_the_statements_of_each_report(conf, caplog, cards):
    caplog.set_level('DEBUG', logger='cyborg_clone.conductor.device_sync')
    apply('testhost', many_cards(cards))
    apply('testhost', many_cards(cards))
    applied, unchanged = [r.getMessage() for r in caplog.records]
    assert applied.startswith('Applied the report of host testhost')
    assert applied.endswith('(13 SQL statements).')
    # The same single read whatever the number of cards.
    assert unchanged == 'Report of host testhost unchanged (1 SQL ' \
                        'statements).'


def test_statements_of_other_threads_are_not_counted(conf, caplog):
    apply('testhost', discover(conf))
    caplog.set_level('DEBUG', logger='cyborg_clone.conductor.device_sync')
    busy = threading.Event()
    done = threading.Event()

    def other_work():
        busy.set()
        while not done.is_set():
            row_count('devices')

    thread = threading.Thread(target=other_work)
    thread.start()
    busy.wait()
    try:
        for _ in range(20):
            apply('testhost', discover(conf))
    finally:
        done.set()
        thread.join()
    assert [r.getMessage() for r in caplog.records] == [
        'Report of host testhost unchanged (1 SQL statements).'] * 20


@pytest.mark.parametrize('handles', [16, 64])
def test_changed_report_reads_each_table_once(conf, count_statements,
                                              handles):
    devices = discover(conf)
    apply('testhost', devices)
    many = tuple(report.AttachHandle('TEST_PCI', {'bus': '%02x' % i})
                 for i in range(handles))
    counter = count_statements()
    apply('testhost', with_deployable(devices, attach_handles=many))
    selects = [s for s in counter.statements if s.startswith('SELECT')]
    # The fingerprint, then one read per hardware table, whatever the size.
    assert len(selects) == 6, selects


def test_changed_card_is_updated_in_place_keeping_uuids(conf):
    devices = discover(conf)
    apply('testhost', devices)
    before = uuids()
    changed = with_deployable(devices, bitstream_id='abc',
                              num_accelerators=8)
    changes = apply('testhost', changed)
    assert uuids() == before
    [dep] = rows('SELECT * FROM deployables')
    assert (dep.bitstream_id, dep.num_accelerators) == ('abc', 8)
    assert changes.updated == 1
    assert (changes.created, changes.deleted) == (0, 0)


def test_programmed_fake_card_is_reported_with_its_bitstream(conf):
    driver = fake.FakeDriver(conf)
    apply('testhost', driver.discover())
    driver.program('testhost_FakeDevice', '/images/f00d')
    apply('testhost', driver.discover())
    assert rows('SELECT bitstream_id FROM deployables') == [('f00d',)]


def test_changed_traits_rewrite_the_derived_attributes(conf):
    devices = discover(conf)
    apply('testhost', devices)
    rc_uuid = rc_attribute_uuid()
    apply('testhost', with_deployable(devices, traits=('CUSTOM_A',
                                                       'CUSTOM_B')))
    assert sorted(attributes()) == [
        ('rc', 'FPGA'), ('traits1', 'CUSTOM_A'), ('traits2', 'CUSTOM_B')]
    assert rc_attribute_uuid() == rc_uuid
    apply('testhost', with_deployable(devices, traits=()))
    assert attributes() == [('rc', 'FPGA')]


def rc_attribute_uuid():
    table = models.Attribute
    with db_api.reader() as session:
        return session.scalar(sa.select(table.uuid).where(table.key == 'rc'))


def test_operator_attributes_survive_a_sync(conf):
    devices = discover(conf)
    apply('testhost', devices)
    [(dep_id,)] = rows('SELECT id FROM deployables')
    with db_api.writer() as session:
        session.add(models.Attribute(uuid='u', deployable_id=dep_id,
                                     key='owner', value='team-a'))
    apply('testhost', with_deployable(devices, traits=()))
    assert sorted(key for key, _ in attributes()) == ['owner', 'rc']


def test_vanished_handle_is_removed(conf):
    devices = discover(conf)
    apply('testhost', devices)
    handles = devices[0].deployables[0].attach_handles
    changes = apply('testhost', with_deployable(
        devices, attach_handles=handles[1:]))
    assert row_count('attach_handles') == 15
    assert changes.deleted == 1


def test_vanished_card_is_removed(conf):
    apply('testhost', discover(conf))
    changes = apply('testhost', [])
    assert counts() == dict.fromkeys(TABLES, 0)
    assert changes.kept == 0
    # The empty report is remembered like any other.
    assert apply('testhost', []) is None


def test_vanished_card_with_a_handle_in_use_is_kept(conf):
    apply('testhost', discover(conf))
    hold_a_handle()
    changes = apply('testhost', [])
    assert counts() == {'devices': 1, 'controlpath_ids': 1,
                        'deployables': 1, 'attach_handles': 1,
                        'attributes': 2}
    assert changes.kept == 3
    # Marked, so no new bind lands on it; the mark stays put.
    [(marked,)] = rows('SELECT vanished_at FROM deployables')
    assert marked is not None
    # Until the ARQ lets go, the same report is applied again, not skipped;
    # then the card goes.
    assert apply('testhost', []).kept == 3
    assert rows('SELECT vanished_at FROM deployables') == [(marked,)]
    release_handles()
    apply('testhost', [])
    assert counts() == dict.fromkeys(TABLES, 0)


def test_a_vanished_card_that_comes_back_is_usable_again(conf):
    apply('testhost', discover(conf))
    hold_a_handle()
    apply('testhost', [])
    apply('testhost', discover(conf))
    assert rows('SELECT vanished_at FROM deployables') == [(None,)]
    assert counts()['attach_handles'] == 16


def test_card_replaced_by_another_in_the_same_slot(conf):
    devices = discover(conf)
    apply('testhost', devices)
    before = uuids()
    moved = [dataclasses.replace(devices[0], controlpath=report.ControlPath(
        'PCI', dict(fake.CONTROL_PATH, bus='5e')))]
    apply('testhost', moved)
    after = uuids()
    # A new device row; the deployable (same name) and its handles stay.
    assert after['devices'] != before['devices']
    assert after['deployables'] == before['deployables']
    assert after['attach_handles'] == before['attach_handles']
    assert row_count('devices') == 1


def test_two_hosts_are_independent(conf):
    apply('host-a', discover(conf, 'host-a'))
    apply('host-b', discover(conf, 'host-b'))
    b_rows = rows("SELECT uuid FROM deployables WHERE name LIKE 'host-b%'")
    apply('host-a', [])
    assert rows('SELECT hostname FROM devices') == [('host-b',)]
    assert rows('SELECT uuid FROM deployables') == b_rows
    assert row_count('attach_handles') == 16


def test_malformed_report_is_refused_and_writes_nothing(conf):
    with pytest.raises(exception.Invalid) as caught:
        device_sync.apply_report(CTX, 'testhost', [{'type': 'FPGA'}])
    assert 'testhost' in str(caught.value)
    assert counts() == dict.fromkeys(TABLES, 0)


def test_report_naming_a_deployable_twice_writes_nothing(conf):
    [device] = discover(conf)
    twice = [device, dataclasses.replace(
        device, controlpath=report.ControlPath('PCI', {'bus': '5e'}))]
    with pytest.raises(exception.Invalid) as caught:
        apply('testhost', twice)
    assert 'testhost_FakeDevice' in str(caught.value)
    assert counts() == dict.fromkeys(TABLES, 0)
    assert host_inventory.stored_fingerprint('testhost') is None


def test_deployable_name_taken_by_another_host_is_not_applied(conf):
    apply('host-a', discover(conf, 'host-a'))
    assert apply('host-b', discover(conf, 'host-a')) is None
    assert rows('SELECT hostname FROM devices') == [('host-a',)]
    assert host_inventory.stored_fingerprint('host-b') is None


def test_an_outer_count_includes_the_reports_own(conf):
    apply('testhost', discover(conf))
    with db_api.counting_statements() as outer:
        apply('testhost', discover(conf))
        apply('testhost', discover(conf))
    assert outer.value == 2


def linked_rows():
    """(deployable, its device's control path, the control path of each of
    its handles) for every deployable: who points at whom."""
    return rows(
        'SELECT d.name, c.cpid_info AS device_cpid, '
        'hc.cpid_info AS handle_cpid, d.bitstream_id '
        'FROM deployables d JOIN controlpath_ids c ON c.device_id = '
        'd.device_id JOIN attach_handles h ON h.deployable_id = d.id '
        'JOIN controlpath_ids hc ON hc.id = h.cpid_id ORDER BY d.name')


def test_new_cards_are_linked_to_their_own_rows(conf):
    # Inserted a table at a time, each child must still find its own
    # parent, whatever columns each card fills.
    devices = many_cards(6)
    devices[1:3] = with_deployable(devices[1:2], bitstream_id='b1') + \
        with_deployable(devices[2:3], bitstream_id='b2')
    apply('testhost', devices)
    linked = linked_rows()
    assert len(linked) == 12
    for name, device_cpid, handle_cpid, _ in linked:
        assert device_cpid == handle_cpid == '{"bus": "%s"}' % name[-2:]
    assert {(r.name, r.bitstream_id) for r in linked
            if r.bitstream_id} == {('testhost_01', 'b1'),
                                   ('testhost_02', 'b2')}
    [dep_id] = [r.id for r in rows('SELECT id, name FROM deployables')
                if r.name == 'testhost_04']
    assert attributes(models.Attribute.deployable_id == dep_id) == [
        ('traits1', 'CUSTOM_FPGA_XILINX'), ('rc', 'FPGA')]


def test_cards_added_to_a_known_host_are_linked_to_their_own_rows(conf):
    apply('testhost', many_cards(3))
    apply('testhost', many_cards(3)[1:] + many_cards(7)[4:])
    linked = linked_rows()
    assert sorted({r.name for r in linked}) == [
        'testhost_01', 'testhost_02', 'testhost_04', 'testhost_05',
        'testhost_06']
    for name, device_cpid, handle_cpid, _ in linked:
        assert device_cpid == handle_cpid == '{"bus": "%s"}' % name[-2:]


@pytest.mark.parametrize('cards', [1, 8])
def test_a_first_report_costs_the_same_statements_whatever_the_cards(
        conf, count_statements, cards):
    counter = count_statements()
    apply('testhost', many_cards(cards))
    # The fingerprint, one read per hardware table, one INSERT per table,
    # and recording the fingerprint (an UPDATE that finds no row, then an
    # INSERT).
    assert counter.count == 1 + 5 + 5 + 2, counter.statements


def test_new_cards_filling_different_columns_share_one_insert(
        conf, count_statements):
    devices = many_cards(4)
    devices[1:2] = with_deployable(devices[1:2], bitstream_id='b1')
    counter = count_statements()
    apply('testhost', devices)
    inserts = [s for s in counter.statements
               if s.startswith('INSERT INTO deployables')]
    assert len(inserts) == 1
    assert rows('SELECT name, bitstream_id FROM deployables ORDER BY name') \
        == [('testhost_00', None), ('testhost_01', 'b1'),
            ('testhost_02', None), ('testhost_03', None)]


# --- a driver that failed to discover ---------------------------------------

def apply_failing(host, devices, failed_drivers):
    return device_sync.apply_report(CTX, host, report.to_primitive(devices),
                                    failed_drivers=failed_drivers)


def driver_rows(driver):
    """uuids of a driver's rows: devices, deployables, their handles and
    attributes."""
    return {
        'devices': sorted(r.uuid for r in rows(
            'SELECT uuid FROM devices WHERE driver_name = :d', d=driver)),
        'deployables': sorted(r.uuid for r in rows(
            'SELECT uuid FROM deployables WHERE driver_name = :d',
            d=driver)),
        'attach_handles': sorted(r.uuid for r in rows(
            'SELECT h.uuid FROM attach_handles h JOIN deployables d ON '
            'd.id = h.deployable_id WHERE d.driver_name = :d', d=driver)),
        'attributes': sorted(r.uuid for r in rows(
            'SELECT a.uuid FROM attributes a JOIN deployables d ON '
            'd.id = a.deployable_id WHERE d.driver_name = :d', d=driver)),
    }


def test_a_failed_drivers_rows_stay_as_they_were(conf):
    fake_cards = discover(conf)
    apply('testhost', fake_cards + many_cards(3))
    xilinx = driver_rows('xilinx')
    [(updated_at,)] = rows("SELECT max(updated_at) FROM deployables "
                           "WHERE driver_name = 'xilinx'")
    # The xilinx tool breaks while the fake card changes.
    changes = apply_failing('testhost', with_deployable(
        fake_cards, bitstream_id='b1'), {'xilinx': 'cannot run xbutil'})
    assert (changes.updated, changes.deleted, changes.kept) == (1, 0, 0)
    assert driver_rows('xilinx') == xilinx
    assert rows("SELECT max(updated_at), count(vanished_at) FROM "
                "deployables WHERE driver_name = 'xilinx'") == [
        (updated_at, 0)]
    assert rows("SELECT bitstream_id FROM deployables WHERE driver_name "
                "= 'fake'") == [('b1',)]


def test_a_driver_failing_before_its_first_report_deletes_nothing(conf):
    # Its cards have no rows yet; the others' appear.
    apply_failing('testhost', discover(conf), {'xilinx': 'no xbutil'})
    assert row_count('deployables') == 1
    [failure] = host_inventory.driver_failures()
    assert (failure.hostname, failure.driver, failure.reason) == (
        'testhost', 'xilinx', 'no xbutil')


def test_a_recovered_driver_is_synced_again_and_its_failure_cleared(conf):
    apply('testhost', discover(conf) + many_cards(3))
    apply_failing('testhost', discover(conf), {'xilinx': 'broken'})
    assert len(driver_rows('xilinx')['deployables']) == 3
    # Back, with one card fewer: now that card goes.
    apply('testhost', discover(conf) + many_cards(2))
    assert len(driver_rows('xilinx')['deployables']) == 2
    assert host_inventory.driver_failures() == []
    assert host_inventory.stored_report('testhost').failed == {}


def test_a_held_card_of_a_failed_driver_is_not_marked_vanished(conf):
    apply('testhost', discover(conf))
    hold_a_handle()
    changes = apply_failing('testhost', [], {'fake': 'broken'})
    assert (changes.deleted, changes.kept) == (0, 0)
    assert counts()['attach_handles'] == 16
    assert rows('SELECT vanished_at FROM deployables') == [(None,)]
    # An ordinary fingerprint: the same report next time is unchanged.
    assert apply_failing('testhost', [], {'fake': 'broken'}) is None


def test_an_unchanged_report_with_a_failed_driver_costs_one_statement(
        conf, count_statements):
    apply_failing('testhost', discover(conf), {'xilinx': 'broken'})
    counter = count_statements()
    assert apply_failing('testhost', discover(conf),
                         {'xilinx': 'broken'}) is None
    assert counter.count == 1, counter.statements


def test_a_new_reason_alone_costs_one_update_and_keeps_since(
        conf, count_statements):
    apply_failing('testhost', many_cards(8), {'fake': 'tool missing'})
    [before] = host_inventory.driver_failures()
    counter = count_statements()
    assert apply_failing('testhost', many_cards(8),
                         {'fake': 'tool exited 1'}) is None
    assert counter.count == 2, counter.statements
    assert counter.statements[1].startswith('UPDATE host_reports')
    [after] = host_inventory.driver_failures()
    assert (after.reason, after.since) == ('tool exited 1', before.since)


def test_a_driver_failing_changes_the_fingerprint(conf):
    devices = discover(conf)
    apply('testhost', devices)
    # The same cards, but now a driver says it failed: applied, recorded.
    assert apply_failing('testhost', devices, {'xilinx': 'broken'}) \
        is not None
    assert list(host_inventory.stored_report('testhost').failed) == [
        'xilinx']
    # And back.
    assert apply('testhost', devices) is not None
    assert host_inventory.stored_report('testhost').failed == {}


def test_failures_are_recorded_per_host_and_driver(conf):
    apply_failing('host-a', discover(conf, 'host-a'),
                  {'xilinx': 'x broken', 'intel_opae': 'o broken'})
    apply_failing('host-b', discover(conf, 'host-b'), {'xilinx': 'other'})
    apply('host-c', discover(conf, 'host-c'))
    assert [(f.hostname, f.driver, f.reason)
            for f in host_inventory.driver_failures()] == [
        ('host-a', 'intel_opae', 'o broken'), ('host-a', 'xilinx', 'x broken'),
        ('host-b', 'xilinx', 'other')]


def test_a_long_or_multiline_reason_is_stored_as_one_cut_line(conf):
    apply_failing('testhost', [], {'fake': 'first\nsecond ' + 'x' * 900})
    [failure] = host_inventory.driver_failures()
    assert failure.reason.startswith('first second xxx')
    assert len(failure.reason) == device_sync.MAX_REASON


@pytest.mark.parametrize('failed', [['xilinx'], {'': 'why'}, {3: 'why'}])
def test_malformed_failed_drivers_are_refused_and_write_nothing(
        conf, failed):
    with pytest.raises(exception.Invalid) as caught:
        apply_failing('testhost', discover(conf), failed)
    assert 'failed_drivers' in str(caught.value)
    assert counts() == dict.fromkeys(TABLES, 0)
