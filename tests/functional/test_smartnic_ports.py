"""SmartNIC ports: nova's own code takes a Neutron port with a device
profile from Placement to the port's PCI binding profile.

A ``cyborg-clone-all-in-one`` runs the ``intel_nic`` driver on the host of
``tests/fixtures/nic_host.py`` (an X710 PF with two VFs on ``physnet1``
and a PF without VFs on ``physnet2``) and reports to a real Placement;
tests/functional/nova_port_profile.py runs nova 34's code (``.venv-cloud``)
for each of nova's services in turn against it and that Placement.
"""

import json
import os
import subprocess
import uuid

import pytest

from cyborg_clone.objects import deployable as deployable_obj
from tests.fixtures import cloud
from tests.fixtures import gpu_host
from tests.fixtures import nic_host
from tests.fixtures import placement as placement_fixture
from tests.fixtures.nic_host import PF_ALONE
from tests.fixtures.nic_host import VF0
from tests.fixtures.nic_host import VF1
from tests.fixtures.placement import placement_server  # noqa: F401
from tests.functional import processes
from tests.functional.json_http import request
from tests.functional.nova_path import EVENT
from tests.functional.nova_path import events_for
from tests.nova_recorder import NovaRecorder

# Placement runs as a server of its own; one for the module.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(__name__)]

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      'nova_port_profile.py')
# nova binds with its compute node's name, not the agent's host name.
NODE = 'compute-7.rack-1.example.org'
VF_TRAITS = {'CUSTOM_VF', 'CUSTOM_GTPV1', 'CUSTOM_PHYSNET1'}
PF_TRAITS = {'CUSTOM_PF', 'CUSTOM_PHYSNET2'}


class Service:
    def __init__(self, url, placement, host, compute_node, nova):
        self.url = url
        self.placement = placement
        self.host = host
        self.compute_node = compute_node
        self.nova = nova

    def rp(self, function):
        return deployable_obj.rp_uuid_for(
            self.host.deployable_name(function))

    def providers(self):
        """{provider name: (inventory totals, traits)} below the compute
        node."""
        tree = self.placement.get('/resource_providers?in_tree='
                                  + self.compute_node)['resource_providers']
        return {p['name']: (
            {rc: inv['total'] for rc, inv in
             self.placement.inventories(p['uuid']).items()},
            self.placement.traits(p['uuid']))
            for p in tree if p['uuid'] != self.compute_node}

    def profile(self, name, *groups):
        status, _ = request('POST', self.url + '/v2/device_profiles',
                            [{'name': name, 'groups': list(groups)}])
        assert status == 201

    def nova_runs(self, phase, *args):
        """One phase of nova_port_profile.py; its JSON document."""
        result = subprocess.run(
            [cloud.PYTHON, '-I', SCRIPT, '--endpoint', self.url,
             '--placement', self.placement.url, phase, *args],
            capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, (
            'nova_port_profile.py %s failed:\n%s' % (phase, result.stderr))
        document = json.loads(result.stdout)
        assert document['error'] is None, document
        return document


@pytest.fixture
def service(tmp_path, placement):
    cloud.require()
    hostname = 'smartnic-%s' % uuid.uuid4().hex[:8]
    host = nic_host.build(tmp_path / 'root', tmp_path / 'nic-state',
                          hostname)
    compute_node = placement.register_compute_node(hostname)
    sections = host.sections()
    sections['agent']['enabled_drivers'] = 'intel_nic'
    with NovaRecorder() as nova, processes.all_in_one(
            tmp_path, hostname, placement=placement_fixture.options(
                placement.url),
            nova={'auth_type': 'none', 'endpoint_override': nova.url,
                  'event_retry_delay': 0},
            **sections) as (process, url):
        running = Service(url, placement, host, compute_node, nova)
        processes.wait_until(
            lambda: len(running.providers()) == 3
            and all(traits for _, traits in running.providers().values()),
            message='the NIC providers of ' + hostname)
        yield running
        assert process.stop() == 0, process.log()


def test_vfs_and_a_pf_without_vfs_are_nic_providers(service):
    host = service.host
    assert service.providers() == {
        host.deployable_name(VF0): ({'CUSTOM_NIC': 1},
                                    VF_TRAITS | {'OWNER_CYBORG'}),
        host.deployable_name(VF1): ({'CUSTOM_NIC': 1},
                                    VF_TRAITS | {'OWNER_CYBORG'}),
        host.deployable_name(PF_ALONE): ({'CUSTOM_NIC': 1},
                                         PF_TRAITS | {'OWNER_CYBORG'})}
    # The PF with VFs is a device, not a deployable.
    _, listed = request('GET', service.url + '/v2/devices')
    devices = [d for d in listed['devices']
               if d['hostname'] == host.host_name]
    assert sorted((d['type'], d['vendor'], d['model']) for d in
                  devices) == [('NIC', '0x8086', 'Ethernet Controller X710 '
                                'for 10GbE SFP+')] * 2
    _, listed = request('GET', service.url + '/v2/deployables')
    assert {d['name']: d['driver_name'] for d in listed['deployables']
            if d['name'].startswith(host.host_name)} == dict.fromkeys(
        map(host.deployable_name, (VF0, VF1, PF_ALONE)), 'intel_nic')


@pytest.mark.parametrize('traits, functions, physnet', [
    ({'trait:CUSTOM_PHYSNET1': 'required', 'trait:CUSTOM_VF': 'required'},
     (VF0, VF1), 'physnet1'),
    ({'trait:CUSTOM_PHYSNET2': 'required'}, (PF_ALONE,), 'physnet2'),
], ids=['vf-on-physnet1', 'pf-on-physnet2'])
def test_nova_binds_a_port_arq_and_builds_its_pci_profile(
        service, traits, functions, physnet):
    port, instance = str(uuid.uuid4()), str(uuid.uuid4())
    service.profile('smartnic', dict({'resources:CUSTOM_NIC': '1'},
                                     **traits))
    requester = 'device_profile_0' + port

    # nova-api and nova-scheduler: the port's group, its candidates.
    scheduled = service.nova_runs('schedule', 'smartnic', port, instance,
                                  service.compute_node)
    assert scheduled['devices'] == 1
    assert scheduled['request_groups'] == [{
        'requester_id': requester, 'resources': {'CUSTOM_NIC': 1},
        'required_traits': sorted(t.split(':')[1] for t in traits),
        'forbidden_traits': [], 'use_same_provider': True}]
    assert scheduled['claimed'] is True
    chosen = scheduled['allocation_request']
    [rp_uuid] = chosen['mappings'][requester]
    assert rp_uuid in {service.rp(f) for f in functions}
    assert chosen['allocations'][rp_uuid]['resources'] == {'CUSTOM_NIC': 1}
    [function] = [f for f in functions if service.rp(f) == rp_uuid]

    # nova-conductor: the port's ARQ, matched to the group by its
    # device_profile_group_id, bound to that provider.
    built = service.nova_runs('build', 'smartnic', port, instance, NODE,
                              json.dumps(chosen))
    assert built['group_mapping'] == {requester: [rp_uuid]}
    [arq] = built['arqs']
    assert built['accel_uuids'] == [arq['uuid']]
    assert built['port_arq_uuid'] == arq['uuid']
    assert arq['device_profile_group_id'] == 0
    assert (arq['hostname'], arq['device_rp_uuid'],
            arq['instance_uuid']) == (NODE, rp_uuid, instance)

    processes.wait_until(lambda: events_for(service.nova, instance),
                         message='the %s event' % EVENT)
    assert events_for(service.nova, instance) == [
        {'name': EVENT, 'server_uuid': instance, 'tag': arq['uuid'],
         'status': 'completed'}]
    _, bound = request('GET', service.url + '/v2/accelerator_requests/'
                       + arq['uuid'])
    assert bound['state'] == 'Bound'
    assert bound['attach_handle_type'] == 'PCI'
    assert bound['attach_handle_info'] == dict(
        gpu_host.pci_info(function.address), physical_network=physnet)

    # nova-compute: the port's binding profile for Neutron.
    attached = service.nova_runs('attach', port, instance, arq['uuid'])
    assert (attached['spec_arqs'], attached['port_arqs']) == (
        [], [arq['uuid']])
    assert attached['binding_profile'] == {
        'physical_network': physnet, 'pci_slot': function.address,
        'arq_uuid': arq['uuid']}

    service.nova_runs('delete', instance)
    assert request('GET', service.url + '/v2/accelerator_requests/'
                   + arq['uuid'])[0] == 404


def test_an_explicit_group_id_creates_that_groups_arq_only(service):
    service.profile('two-ports', {'resources:CUSTOM_NIC': '1',
                                  'trait:CUSTOM_PHYSNET1': 'required'},
                    {'resources:CUSTOM_NIC': '1',
                     'trait:CUSTOM_PHYSNET2': 'required'})
    url = service.url + '/v2/accelerator_requests'
    status, created = request('POST', url, {
        'device_profile_name': 'two-ports'})
    assert status == 201
    assert sorted(a['device_profile_group_id']
                  for a in created['arqs']) == [0, 1]
    for group_id in (1, '1'):
        status, created = request('POST', url, {
            'device_profile_name': 'two-ports',
            'device_profile_group_id': group_id})
        assert status == 201
        [arq] = created['arqs']
        assert arq['device_profile_group_id'] == 1
        _, shown = request('GET', url + '/' + arq['uuid'])
        assert shown['device_profile_group_id'] == 1
    status, refused = request('POST', url, {
        'device_profile_name': 'two-ports', 'device_profile_group_id': 2})
    assert status == 400
    assert 'device_profile_group_id 2 is out of range' in \
        refused['error_message']
