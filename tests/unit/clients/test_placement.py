"""clients/placement.py against a real OpenStack Placement."""

import uuid

from oslo_config import cfg
import pytest

from cyborg_clone import conf as cc_conf
from cyborg_clone.clients import placement as placement_client
from tests.fixtures import placement as placement_fixture
from tests.fixtures.placement import placement_server  # noqa: F401
from tests.functional import processes

# Placement runs as a server of its own (tests/fixtures/placement.py).
# One server for the module: its tests stay on one xdist worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(__name__)]


@pytest.fixture
def client(conf, placement):
    placement_fixture.configure(conf, placement.url)
    return placement_client.PlacementClient(conf)


@pytest.fixture
def hostname():
    return 'host-%s' % uuid.uuid4().hex[:8]


@pytest.fixture
def compute_node(placement, hostname):
    return placement.register_compute_node(hostname)


@pytest.fixture
def child(client, compute_node, hostname):
    """A provider of ours under the compute node; its uuid."""
    rp_uuid = str(uuid.uuid4())
    client.create_provider(rp_uuid, hostname + '_0000:5e:00.0', compute_node)
    return rp_uuid


def test_service_credentials_come_from_the_placement_section(
        tmp_path, placement, compute_node, hostname):
    config = tmp_path / 'cyborg_clone.conf'
    config.write_text('[placement]\nauth_type = admin_token\n'
                      'endpoint = %s\ntoken = %s\n'
                      % (placement.url, placement_fixture.TOKEN))
    conf = cfg.ConfigOpts()
    cc_conf.register_opts(conf)
    conf(['--config-file', str(config)], project='cyborg_clone',
         default_config_files=[])
    client = placement_client.PlacementClient(conf)
    assert client.configured
    assert client.compute_node(hostname) == compute_node


def test_not_configured_without_an_auth_type(conf):
    assert not placement_client.PlacementClient(conf).configured


def test_a_missing_compute_node_says_it_will_be_retried(client, hostname):
    with pytest.raises(placement_client.ComputeNodeNotRegistered) as caught:
        client.compute_node(hostname)
    assert caught.value.faultstring == (
        'The compute node %s is not registered in Placement yet '
        '(nova-compute registers it when it starts); its accelerators will '
        'be reported then: retried at its next report.' % hostname)


def test_an_unreachable_placement_is_named(conf, hostname):
    url = 'http://127.0.0.1:%d' % processes.free_port()
    placement_fixture.configure(conf, url, token='secret-token')
    client = placement_client.PlacementClient(conf)
    with pytest.raises(placement_client.PlacementUnreachable) as caught:
        client.compute_node(hostname)
    message = caught.value.faultstring
    assert message.startswith('Placement could not be reached for GET '
                              '/resource_providers?name=%s: ' % hostname)
    assert url in message
    assert 'secret-token' not in message


def test_children_hang_under_their_parent(client, placement, compute_node,
                                          child):
    [listed] = [p for p in client.providers_in_tree(compute_node)
                if p['uuid'] == child]
    assert listed['parent_provider_uuid'] == compute_node
    assert listed['generation'] == 0
    assert client.provider(child)['root_provider_uuid'] == compute_node
    assert client.provider(str(uuid.uuid4())) is None


def test_inventories_and_traits_round_trip(client, child):
    client.ensure_trait('CUSTOM_FPGA_TEST')
    generation = client.set_traits(child, 0,
                                   {'CUSTOM_FPGA_TEST', 'OWNER_CYBORG'})
    generation = client.set_inventories(child, generation, {
        'FPGA': {'total': 4, 'reserved': 1}})
    assert client.traits(child) == (generation,
                                    {'CUSTOM_FPGA_TEST', 'OWNER_CYBORG'})
    got_generation, inventories = client.inventories(child)
    assert got_generation == generation
    assert inventories['FPGA']['total'] == 4
    assert inventories['FPGA']['reserved'] == 1


def test_tree_lists_filter_on_required_traits(client, compute_node, child):
    # Also proves the microversion: below 1.18 "required" is refused here.
    assert client.providers_in_tree(compute_node,
                                    required=['OWNER_CYBORG']) == []
    client.set_traits(child, 0, {'OWNER_CYBORG'})
    [ours] = client.providers_in_tree(compute_node, required=['OWNER_CYBORG'])
    assert ours['uuid'] == child


def test_a_stale_generation_is_a_generation_conflict(client, child):
    client.set_traits(child, 0, {'OWNER_CYBORG'})
    with pytest.raises(placement_client.GenerationConflict) as caught:
        client.set_inventories(child, 0, {'FPGA': {'total': 1}})
    assert caught.value.faultstring == (
        'Placement PUT /resource_providers/%s/inventories failed: 409 '
        'resource provider generation conflict' % child)


def test_creating_a_taken_uuid_is_provider_exists(client, compute_node,
                                                  child):
    with pytest.raises(placement_client.ProviderExists) as caught:
        client.create_provider(child, 'another-name', compute_node)
    assert child in caught.value.faultstring


def test_custom_classes_and_traits_are_created_once(client, placement):
    name = 'CUSTOM_FPGA_%s' % uuid.uuid4().hex.upper()
    for _ in range(2):
        client.ensure_resource_class(name)
        client.ensure_trait(name)
    placement.request('GET', '/resource_classes/' + name, status=200)
    placement.request('GET', '/traits/' + name, status=204)


def test_an_undefined_trait_is_refused_with_placements_reason(client, child):
    with pytest.raises(placement_client.PlacementError) as caught:
        client.set_traits(child, 0, {'CUSTOM_NEVER_CREATED'})
    assert caught.value.faultstring.endswith(
        '400 No such trait CUSTOM_NEVER_CREATED')


def test_an_allocated_provider_cannot_be_deleted(client, placement, child):
    client.set_inventories(child, 0, {'FPGA': {'total': 2}})
    placement.allocate(str(uuid.uuid4()), child, {'FPGA': 1})
    with pytest.raises(placement_client.ProviderInUse):
        client.delete_provider(child)
    assert client.provider(child) is not None


def test_deleting_twice_is_not_an_error(client, child):
    assert client.delete_provider(child) is True
    assert client.delete_provider(child) is False
