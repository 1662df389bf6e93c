"""Placement sync through the conductor, against a real Placement.

Reports go in through ``ConductorManager.report_data`` as an agent's cast
would deliver them; what Placement holds afterwards is read back over plain
HTTP, and what nova would be offered is asked the way its scheduler asks.
"""

import uuid

import pytest

from cyborg_clone.clients import placement as placement_client
from cyborg_clone.common import context
from cyborg_clone.common import trait_names
from cyborg_clone.conductor import manager as conductor_manager
from cyborg_clone.conductor import placement_sync
from cyborg_clone.drivers import fake
from cyborg_clone.drivers import report
from cyborg_clone.objects import deployable as deployable_obj
from cyborg_clone.objects import device as device_obj
from tests.fixtures import placement as placement_fixture
from tests.fixtures.hardware import InProcessAgents
from tests.fixtures.images import put_image
from tests.fixtures.placement import placement_server  # noqa: F401
from tests.functional import processes

# Placement runs as a server of its own (tests/fixtures/placement.py).
# One server for the module: its tests stay on one xdist worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(__name__)]

CTX = context.get_admin_context()
LOGGER = 'cyborg_clone.conductor.placement_sync'


class RequestLog:
    """Every request the conductor sends Placement, as (method, path,
    status); ``before`` runs just before each one is sent."""

    def __init__(self, adapter, monkeypatch):
        self.sent = []
        self.before = None
        send = adapter.request

        def request(url, method, **kwargs):
            if self.before is not None:
                self.before(method, url)
            response = send(url, method, **kwargs)
            self.sent.append((method, url, response.status_code))
            return response
        monkeypatch.setattr(adapter, 'request', request)

    def writes(self):
        return [r for r in self.sent if r[0] != 'GET']


@pytest.fixture
def hostname():
    # The server outlives a test: each test reports hosts of its own.
    return 'host-%s' % uuid.uuid4().hex[:8]


@pytest.fixture
def manager(conf, placement):
    placement_fixture.configure(conf, placement.url)
    return conductor_manager.ConductorManager(conf, agent_api=object())


@pytest.fixture
def sent(manager, monkeypatch):
    return RequestLog(manager.placement.client.adapter, monkeypatch)


@pytest.fixture
def compute_node(placement, hostname):
    return placement.register_compute_node(hostname)


def function_trait():
    """The trait of a freshly loaded function: unique, so nova's queries
    below find our providers and no other test's."""
    return trait_names.function_id('FAKE', uuid.uuid4().hex)


def card(hostname, bus, traits=(), accelerators=2, resource_class='FPGA'):
    """A PCI FPGA card as a vendor driver reports it."""
    address = {'domain': '0000', 'bus': bus, 'device': '00'}
    return report.Device(
        type='FPGA', vendor='0x10ee', model='xcvu9p', driver_name='xilinx',
        controlpath=report.ControlPath('PCI', dict(address, function='0')),
        deployables=(report.Deployable(
            name='%s_0000:%s:00.0' % (hostname, bus),
            num_accelerators=accelerators, resource_class=resource_class,
            traits=('CUSTOM_FPGA_XILINX',) + tuple(traits),
            attach_handles=tuple(
                report.AttachHandle('PCI', dict(address, function=str(f)))
                for f in range(accelerators))),))


def send(manager, hostname, *cards):
    manager.report_data(CTX, hostname, report.to_primitive(list(cards)))


def rp_of(device):
    return deployable_obj.rp_uuid_for(device.deployables[0].name)


def device_uuid(hostname):
    [found] = device_obj.Device.list(hostname=hostname)
    return found.uuid


def test_each_deployable_becomes_a_child_of_the_compute_node(
        manager, placement, compute_node, hostname):
    cards = [card(hostname, '5e', accelerators=2),
             card(hostname, 'af', accelerators=4)]
    send(manager, hostname, *cards)
    for reported in cards:
        name = reported.deployables[0].name
        provider = placement.provider(rp_of(reported))
        assert provider['name'] == name
        assert provider['uuid'] == str(uuid.uuid3(uuid.NAMESPACE_DNS, name))
        assert provider['parent_provider_uuid'] == compute_node
        assert provider['root_provider_uuid'] == compute_node
        [inventory] = placement.inventories(provider['uuid']).items()
        assert inventory[0] == 'FPGA'
        assert inventory[1]['total'] == reported.deployables[0] \
            .num_accelerators
        assert inventory[1]['reserved'] == 0
        assert placement.traits(provider['uuid']) == {
            'CUSTOM_FPGA_XILINX', 'OWNER_CYBORG'}


def test_nova_is_offered_our_providers(manager, placement, compute_node,
                                       hostname):
    trait = function_trait()
    programmed, blank = card(hostname, '5e', [trait]), card(hostname, 'af')
    send(manager, hostname, programmed, blank)
    # What the scheduler asks for one FPGA with a function.
    assert placement.candidates('resources=FPGA:1&required=' + trait) == {
        rp_of(programmed)}
    # With the instance's own resources in the same request, as a flavor
    # with a device profile makes nova ask: one allocation spans the
    # compute node and our child of it.
    answer = placement.get(
        '/allocation_candidates?resources=VCPU:1,MEMORY_MB:512'
        '&resources_ACCEL=FPGA:1&required_ACCEL=%s&group_policy=none'
        % trait)
    [request] = answer['allocation_requests']
    assert request['allocations'] == {
        compute_node: {'resources': {'VCPU': 1, 'MEMORY_MB': 512}},
        rp_of(programmed): {'resources': {'FPGA': 1}}}


def test_custom_resource_classes_are_created(manager, placement,
                                             compute_node, hostname):
    resource_class = 'CUSTOM_FPGA_%s' % uuid.uuid4().hex.upper()
    reported = card(hostname, '5e', resource_class=resource_class)
    send(manager, hostname, reported)
    placement.request('GET', '/resource_classes/' + resource_class,
                      status=200)
    assert placement.inventories(rp_of(reported))[resource_class][
        'total'] == 2
    assert placement.candidates('resources=%s:2' % resource_class) == {
        rp_of(reported)}


def test_an_unchanged_report_costs_no_request_and_no_sql(
        manager, sent, compute_node, hostname, count_statements, caplog):
    cards = [card(hostname, '5e'), card(hostname, 'af')]
    send(manager, hostname, *cards)
    assert sent.writes()
    sent.sent.clear()
    caplog.set_level('DEBUG', logger='cyborg_clone.conductor.device_sync')
    counter = count_statements()
    send(manager, hostname, *cards)
    assert sent.sent == []
    assert counter.count == 1
    assert caplog.records[-1].getMessage() == (
        'Report of host %s unchanged (1 SQL statements).' % hostname)


def test_a_changed_report_writes_only_what_changed(
        manager, sent, placement, compute_node, hostname):
    first, second = card(hostname, '5e'), card(hostname, 'af')
    send(manager, hostname, first, second)
    sent.sent.clear()
    trait = function_trait()
    send(manager, hostname, card(hostname, '5e', [trait]), second)
    assert sent.writes() == [
        ('PUT', '/traits/' + trait, 201),
        ('PUT', '/resource_providers/%s/traits' % rp_of(first), 200)]
    assert placement.traits(rp_of(first)) == {
        'CUSTOM_FPGA_XILINX', 'OWNER_CYBORG', trait}


def test_an_unregistered_compute_node_is_retried_until_it_is_registered(
        manager, sent, placement, hostname, caplog):
    reported = card(hostname, '5e')
    send(manager, hostname, reported)
    # The database took the report all the same.
    assert device_obj.Device.list(hostname=hostname)
    [warning] = [r for r in caplog.records if r.name == LOGGER]
    assert warning.levelname == 'WARNING'
    assert warning.getMessage() == (
        'Placement was not brought in line with host %s: The compute node '
        '%s is not registered in Placement yet (nova-compute registers it '
        'when it starts); its accelerators will be reported then: retried '
        'at its next report.' % (hostname, hostname))
    assert sent.writes() == []
    placement.register_compute_node(hostname)
    # The same report again: unchanged for the database, not for Placement.
    send(manager, hostname, reported)
    assert placement.provider(rp_of(reported))['name'] == \
        reported.deployables[0].name


def test_a_vanished_device_loses_its_provider(manager, placement,
                                              compute_node, hostname):
    kept, gone = card(hostname, '5e'), card(hostname, 'af')
    send(manager, hostname, kept, gone)
    send(manager, hostname, kept)
    assert placement.provider(rp_of(gone)) is None
    assert placement.provider(rp_of(kept)) is not None


def test_a_vanished_device_with_allocations_is_kept_and_named(
        manager, sent, placement, compute_node, hostname, caplog):
    trait = function_trait()
    kept, gone = card(hostname, '5e', [trait]), card(hostname, 'af', [trait])
    send(manager, hostname, kept, gone)
    consumer = str(uuid.uuid4())
    placement.allocate(consumer, rp_of(gone), {'FPGA': 1})
    send(manager, hostname, kept)
    assert placement.provider(rp_of(gone)) is not None
    warnings = [r.getMessage() for r in caplog.records
                if r.name == LOGGER and r.levelname == 'WARNING']
    assert warnings == [
        'Host %s no longer reports %s, but its resource provider %s has '
        'allocations in Placement: kept, its inventory reserved, until '
        'they are removed; retried at the next report.'
        % (hostname, gone.deployables[0].name, rp_of(gone))]
    # Nothing new is scheduled onto the vanished card meanwhile.
    inventory = placement.inventories(rp_of(gone))['FPGA']
    assert (inventory['total'], inventory['reserved']) == (2, 2)
    assert placement.candidates('resources=FPGA:1&required=' + trait) == {
        rp_of(kept)}
    # Each report tries the delete again and rewrites nothing else.
    sent.sent.clear()
    send(manager, hostname, kept)
    assert sent.writes() == [
        ('DELETE', '/resource_providers/' + rp_of(gone), 409)]
    # It succeeds once the allocation is gone.
    placement.request('DELETE', '/allocations/' + consumer, status=204)
    sent.sent.clear()
    send(manager, hostname, kept)
    assert ('DELETE', '/resource_providers/' + rp_of(gone), 204) in sent.sent
    assert placement.provider(rp_of(gone)) is None
    sent.sent.clear()
    send(manager, hostname, kept)
    assert sent.sent == []


def test_disabling_reserves_the_inventory_and_enabling_releases_it(
        manager, placement, compute_node, hostname):
    trait = function_trait()
    reported = card(hostname, '5e', [trait], accelerators=4)
    send(manager, hostname, reported)
    query = 'resources=FPGA:1&required=' + trait
    assert placement.candidates(query) == {rp_of(reported)}

    manager.set_device_status(CTX, device_uuid=device_uuid(hostname),
                              status=device_obj.MAINTAINING)
    inventory = placement.inventories(rp_of(reported))['FPGA']
    assert (inventory['total'], inventory['reserved']) == (4, 4)
    assert placement.candidates(query) == set()

    manager.set_device_status(CTX, device_uuid=device_uuid(hostname),
                              status=device_obj.ENABLED)
    assert placement.inventories(rp_of(reported))['FPGA']['reserved'] == 0
    assert placement.candidates(query) == {rp_of(reported)}


def test_a_disabled_device_stays_reserved_when_reported_again(
        manager, placement, compute_node, hostname):
    send(manager, hostname, card(hostname, '5e'))
    manager.set_device_status(CTX, device_uuid=device_uuid(hostname),
                              status=device_obj.MAINTAINING)
    changed = card(hostname, '5e', [function_trait()], accelerators=2)
    send(manager, hostname, changed)
    assert placement.inventories(rp_of(changed))['FPGA']['reserved'] == 2


def test_reprogramming_replaces_the_function_trait(manager, placement,
                                                   compute_node, hostname):
    old, new = function_trait(), function_trait()
    send(manager, hostname, card(hostname, '5e', [old]))
    reprogrammed = card(hostname, '5e', [new])
    send(manager, hostname, reprogrammed)
    assert placement.traits(rp_of(reprogrammed)) == {
        'CUSTOM_FPGA_XILINX', 'OWNER_CYBORG', new}
    assert placement.candidates('resources=FPGA:1&required=' + old) == set()
    assert placement.candidates('resources=FPGA:1&required=' + new) == {
        rp_of(reprogrammed)}


def test_programming_through_the_conductor_reaches_placement(
        conf, placement, compute_node, hostname):
    placement_fixture.configure(conf, placement.url)
    manager = conductor_manager.ConductorManager(
        conf, agent_api=InProcessAgents(conf))
    driver = fake.FakeDriver(conf, host=hostname)
    manager.report_data(CTX, hostname, report.to_primitive(driver.discover()))
    rp_uuid = deployable_obj.rp_uuid_for(driver.deployable_name)
    assert placement.traits(rp_uuid) == {'CUSTOM_FAKE_DEVICE',
                                         'OWNER_CYBORG'}
    [dep] = deployable_obj.Deployable.list()
    image_id = put_image(conf)
    manager.program_deployable(CTX, dep.uuid, image_id)
    # At once, not at the agent's next periodic report: nova may schedule
    # onto the new function right away.
    programmed = {'CUSTOM_FAKE_DEVICE', 'OWNER_CYBORG',
                  trait_names.function_id('FAKE', image_id)}
    assert placement.traits(rp_uuid) == programmed
    # That next report is the one programming applied already.
    manager.report_data(CTX, hostname, report.to_primitive(driver.discover()))
    assert placement.traits(rp_uuid) == programmed


def test_a_generation_conflict_is_retried(manager, sent, placement,
                                          compute_node, hostname, caplog):
    reported = card(hostname, '5e')
    send(manager, hostname, reported)
    rp_uuid = rp_of(reported)
    path = '/resource_providers/%s/inventories' % rp_uuid

    def race(method, url):
        # Another writer gets in between our read and our write, once.
        if (method, url) == ('PUT', path):
            sent.before = None
            placement.touch(rp_uuid)
    sent.before = race
    sent.sent.clear()
    manager.set_device_status(CTX, device_uuid=device_uuid(hostname),
                              status=device_obj.MAINTAINING)
    assert [r for r in sent.sent if r[:2] == ('PUT', path)] == [
        ('PUT', path, 409), ('PUT', path, 200)]
    assert placement.inventories(rp_uuid)['FPGA']['reserved'] == 2
    assert not [r for r in caplog.records
                if r.name == LOGGER and r.levelname == 'WARNING']


def test_endless_generation_conflicts_leave_the_host_for_its_next_report(
        manager, sent, placement, compute_node, hostname, caplog):
    reported = card(hostname, '5e')
    send(manager, hostname, reported)
    path = '/resource_providers/%s/inventories' % rp_of(reported)

    def race(method, url):
        # Another writer gets in before every one of our writes.
        if (method, url) == ('PUT', path):
            placement.touch(rp_of(reported))
    sent.before = race
    manager.set_device_status(CTX, device_uuid=device_uuid(hostname),
                              status=device_obj.MAINTAINING)
    conflicts = [r for r in sent.sent if r == ('PUT', path, 409)]
    assert len(conflicts) == placement_sync.CONFLICT_RETRIES + 1
    assert ('it changed in Placement during each of %d attempts'
            % (placement_sync.CONFLICT_RETRIES + 1)) in caplog.text
    sent.before = None
    sent.sent.clear()
    send(manager, hostname, reported)
    assert placement.inventories(rp_of(reported))['FPGA']['reserved'] == 2


def test_conductors_taking_turns_see_each_others_writes(
        conf, manager, placement, compute_node, hostname):
    other = conductor_manager.ConductorManager(conf, agent_api=object())
    reported = card(hostname, '5e')
    for conductor in (manager, other):
        send(conductor, hostname, reported)
    other.set_device_status(CTX, device_uuid=device_uuid(hostname),
                            status=device_obj.MAINTAINING)
    # This conductor last saw the inventory unreserved, which is what it
    # wants now: only the moved generation tells it Placement differs.
    manager.set_device_status(CTX, device_uuid=device_uuid(hostname),
                              status=device_obj.ENABLED)
    assert placement.inventories(rp_of(reported))['FPGA']['reserved'] == 0


def test_a_provider_deleted_behind_our_back_comes_back(
        manager, placement, compute_node, hostname):
    reported = card(hostname, '5e')
    send(manager, hostname, reported)
    placement.request('DELETE', '/resource_providers/' + rp_of(reported),
                      status=204)
    manager.set_device_status(CTX, device_uuid=device_uuid(hostname),
                              status=device_obj.ENABLED)
    assert placement.inventories(rp_of(reported))['FPGA']['total'] == 2
    assert 'OWNER_CYBORG' in placement.traits(rp_of(reported))


def test_a_provider_left_unmarked_is_adopted(manager, placement,
                                            compute_node, hostname):
    # As a pass that died between creating the provider and giving it its
    # traits leaves it.
    reported = card(hostname, '5e')
    placement.request('POST', '/resource_providers', {
        'name': reported.deployables[0].name, 'uuid': rp_of(reported),
        'parent_provider_uuid': compute_node}, status=200)
    send(manager, hostname, reported)
    assert placement.traits(rp_of(reported)) == {'CUSTOM_FPGA_XILINX',
                                                 'OWNER_CYBORG'}
    assert placement.inventories(rp_of(reported))['FPGA']['total'] == 2


def test_a_provider_under_another_parent_is_a_clear_error(
        manager, placement, compute_node, hostname, caplog):
    reported = card(hostname, '5e')
    elsewhere = placement.register_compute_node(hostname + '-old')
    placement.request('POST', '/resource_providers', {
        'name': reported.deployables[0].name, 'uuid': rp_of(reported),
        'parent_provider_uuid': elsewhere}, status=200)
    send(manager, hostname, reported)
    [warning] = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert warning == (
        'Resource provider %s of host %s is not in line with the database: '
        'Placement creation of resource provider %s failed: %s exists under '
        'parent %s, not under the compute node %s (%s)' % (
            reported.deployables[0].name, hostname,
            reported.deployables[0].name, rp_of(reported), elsewhere,
            hostname, compute_node))


def test_an_unreachable_placement_never_fails_the_report(conf, hostname,
                                                         caplog):
    placement_fixture.configure(
        conf, 'http://127.0.0.1:%d' % processes.free_port(),
        token='secret-token')
    manager = conductor_manager.ConductorManager(conf, agent_api=object())
    reported = card(hostname, '5e')
    for _ in range(2):
        send(manager, hostname, reported)
    assert device_obj.Device.list(hostname=hostname)
    warnings = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    # Retried at the unchanged second report.
    assert len(warnings) == 2
    assert all('Placement could not be reached' in w for w in warnings)
    assert 'secret-token' not in caplog.text


def test_without_placement_the_sync_is_skipped_with_one_info(
        conf, hostname, caplog):
    assert not placement_client.PlacementClient(conf).configured
    manager = conductor_manager.ConductorManager(conf, agent_api=object())
    caplog.set_level('INFO', logger=LOGGER)
    send(manager, hostname, card(hostname, '5e'))
    send(manager, hostname, card(hostname, '5e', [function_trait()]))
    manager.set_device_status(CTX, device_uuid=device_uuid(hostname),
                              status=device_obj.MAINTAINING)
    assert [(r.levelname, r.getMessage()) for r in caplog.records
            if r.name == LOGGER] == [
        ('INFO', 'Placement is not configured ([placement]auth_type is '
                 'unset): accelerators are not reported to Placement.')]
