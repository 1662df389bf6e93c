"""Nova's whole path, against real services where one can run here.

A real Placement and a real Keystone (``.venv-cloud``), a recording Nova,
and our API, conductor and three agents as separate processes over a real
RabbitMQ. nova's own Cyborg client code does what nova-conductor and
nova-compute do, with a user's token and nova's service token:

allocation candidates -> ARQs created -> bound with a service token ->
events received -> resolved ARQs carry the attach handle of the device
Placement offered -> deleted with the server.
"""

import json

import pytest

from cyborg_clone.common import trait_names
from cyborg_clone.drivers import pci
from cyborg_clone.objects import deployable as deployable_obj
from tests.fixtures import opae_host
from tests.fixtures.keystone import keystone_fixture  # noqa: F401
from tests.fixtures.placement import placement_server  # noqa: F401
from tests.functional import multi_host
from tests.functional import nova_path
from tests.functional import processes

pytestmark = pytest.mark.slow

INSTANCE = '2b6d1bb2-39a6-4fb4-9d3c-7f0c6e3c2a11'
# The Arria 10 on compute-1 is the only card in its region.
ARRIA10_REGION = trait_names.custom('FPGA_REGION_INTEL',
                                    opae_host.ARRIA10.interface_id)
PROFILE = {'name': 'arria10-vf', 'groups': [
    {'resources:FPGA': '1', 'trait:' + ARRIA10_REGION: 'required'}]}


@pytest.fixture
def running(tmp_path, rabbitmq_url, keystone, placement):
    with nova_path.running_cloud(tmp_path, rabbitmq_url, keystone,
                                 placement) as running_cloud:
        yield running_cloud


def providers_reported(running):
    """Wait until every deployable of the three hosts is a provider under
    its compute node; {deployable name: provider}."""
    def reported():
        found = {}
        for name in multi_host.DEPLOYABLES:
            provider = running.placement.provider(
                deployable_obj.rp_uuid_for(name))
            if provider is None:
                return None
            found[name] = provider
        return found

    return processes.wait_until(reported, timeout=90,
                                message='providers of every deployable')


def placement_query(group):
    """The allocation candidates query of one request group, in the
    unnumbered form: resources plus required and forbidden traits."""
    resources = ','.join('%s:%d' % item
                         for item in sorted(group['resources'].items()))
    traits = sorted(group['required_traits']) + [
        '!' + trait for trait in sorted(group['forbidden_traits'])]
    query = 'resources=' + resources
    if traits:
        query += '&required=' + ','.join(traits)
    return query


def test_nova_path_from_allocation_candidates_to_resolved_arqs(running):
    providers = providers_reported(running)
    for name, provider in providers.items():
        host = name.split('_', 1)[0]
        assert provider['name'] == name
        assert provider['parent_provider_uuid'] == \
            running.compute_nodes[host], name
    running.api.ok('POST', '/v2/device_profiles', [PROFILE], status=201)

    member = nova_path.NovaCycle.with_keystone(running.url, running.keystone,
                                               'member')
    groups = member.run('groups', PROFILE['name'])
    assert groups['error'] is None, groups
    [group] = groups['request_groups']

    # nova's scheduler: Placement offers the Arria 10 and nothing else.
    query = placement_query(group)
    assert query == 'resources=FPGA:1&required=' + ARRIA10_REGION
    [(rp_uuid, host)] = nova_path.offered(running.placement, query)
    assert (rp_uuid, host) == (
        deployable_obj.rp_uuid_for(multi_host.ARRIA10), 'compute-1')

    # nova-conductor: ARQs created with the user's token, bound with the
    # user's token plus nova's service token.
    build = member.run('build', PROFILE['name'], INSTANCE, host,
                       json.dumps({group['requester_id']: [rp_uuid]}))
    assert build['error'] is None, build
    assert [(r['method'], r['path'].split('?')[0], r['status'])
            for r in build['http'] if r['path'].startswith('/v2/')] == [
        ('POST', '/v2/accelerator_requests', 201),
        ('PATCH', '/v2/accelerator_requests', 202)]
    [arq] = build['arqs']
    assert arq['project_id'] == running.keystone.project_ids['project-a']

    # nova-compute waits for the bound event before it spawns.
    processes.wait_until(
        lambda: nova_path.events_for(running.nova, INSTANCE),
        timeout=60, message='the %s event' % nova_path.EVENT)
    assert nova_path.events_for(running.nova, INSTANCE) == [
        {'name': nova_path.EVENT, 'server_uuid': INSTANCE,
         'tag': arq['uuid'], 'status': 'completed'}]

    # The resolved ARQ names a VF of the card Placement offered.
    resolved = member.run('resolved', INSTANCE, arq['uuid'])
    assert resolved['error'] is None, resolved
    [bound] = resolved['resolved']
    assert bound['state'] == 'Bound'
    assert (bound['hostname'], bound['device_rp_uuid']) == (host, rp_uuid)
    assert bound['attach_handle_type'] == 'PCI'
    assert bound['attach_handle_info'] in [
        pci.attach_info(vf) for vf in opae_host.ARRIA10.vfs]

    # nova-compute deleting the server.
    assert member.run('delete', INSTANCE)['error'] is None
    assert running.api.ok(
        'GET', '/v2/accelerator_requests?instance=' + INSTANCE) == {
        'arqs': []}

