"""nova's own Cyborg client drives a running cyborg-clone-all-in-one.

nova (34.0.0, in ``.venv-cloud``) runs in tests/functional/nova_cycle.py,
one process per phase of a server's life, as nova's conductor and compute
are separate processes with their own clients; a recording Nova takes the
``accelerator-request-bound`` events our conductor sends. The API runs
with noauth: nova's X-Auth-Token and X-Service-Token are sent but not
checked; tests/functional/test_nova_path.py runs it with a real Keystone.

nova binds with its compute node's name (``host.nodename``, NODE), which is
not the agent's ``[DEFAULT]host`` (HOST) and was never reported to us.
"""

import json
import uuid as uuid_lib

import pytest

from cyborg_clone.drivers import fake
from tests.fixtures import cloud
from tests.functional import processes
from tests.functional.json_http import request
from tests.functional.nova_path import EVENT
from tests.functional.nova_path import NovaCycle
from tests.functional.nova_path import events_for
from tests.nova_recorder import NovaRecorder

pytestmark = pytest.mark.slow

HOST = 'nova-client-host'
NODE = 'compute-3.rack-2.example.org'
INSTANCE = 'f3a4b2c1-7d8e-4f60-9a1b-2c3d4e5f6a7b'
PROFILE = {'name': 'nova-client-dp', 'groups': [
    {'resources:FPGA': '1', 'trait:CUSTOM_FAKE_DEVICE': 'required',
     'trait:CUSTOM_FPGA_INTEL': 'forbidden'},
    {'resources:FPGA': '2', 'trait:CUSTOM_FAKE_DEVICE': 'required'}]}
# Every address the fake driver can hand out as an attach handle.
FAKE_HANDLES = [fake.attach_info(i) for i in range(fake.NUM_ACCELERATORS)]


def to_v2(document):
    """The client's requests to our /v2 routes; version discovery on / is
    openstacksdk's business and Keystone logins are not ours."""
    return [r for r in document['http'] if r['path'].startswith('/v2/')]


def api_calls(document):
    return [(r['method'], r['path'], r['status']) for r in to_v2(document)]


def assert_sent_as_nova(document):
    """nova sends the user's token with a service token beside it, and
    no microversion header (so it talks to API 2.0)."""
    for sent in to_v2(document):
        assert sent['headers'] == ['X-Auth-Token', 'X-Service-Token'], sent


@pytest.fixture
def nova():
    with NovaRecorder() as recorder:
        yield recorder


@pytest.fixture
def service(tmp_path, nova):
    cloud.require()
    with processes.all_in_one(
            tmp_path, HOST,
            nova={'auth_type': 'none', 'endpoint_override': nova.url,
                  'event_retry_delay': 0}) as (process, url):
        status, _ = request('POST', url + '/v2/device_profiles', [PROFILE])
        assert status == 201
        yield process, url
        assert process.stop() == 0, process.log()


def traits_and_class(deployable):
    """A deployable's Placement traits and resource class, from the
    attributes our API lists for it."""
    attributes = [item for entry in json.loads(deployable['attributes_list'])
                  for item in entry.items()]
    traits = {value for key, value in attributes if key.startswith('trait')}
    classes = {value for key, value in attributes if key == 'rc'}
    return traits, classes


def allocate(url, request_groups):
    """What Placement and the scheduler would give nova: for each request
    group, the provider of a deployable on HOST that satisfies it."""
    def candidates():
        listed = request('GET', url + '/v2/deployables')[1]['deployables']
        return [d for d in listed if d['name'].startswith(HOST + '_')]

    deployables = processes.wait_until(candidates,
                                       message='deployables of ' + HOST)
    mapping = {}
    for group in request_groups:
        for deployable in deployables:
            traits, classes = traits_and_class(deployable)
            if (set(group['resources']) <= classes
                    and set(group['required_traits']) <= traits
                    and not set(group['forbidden_traits']) & traits
                    and deployable['num_accelerators']
                    >= sum(group['resources'].values())):
                mapping[group['requester_id']] = [deployable['rp_uuid']]
                break
    return mapping


def test_nova_client_runs_a_server_through_bind_and_delete(service, nova):
    _process, url = service
    cycle = NovaCycle(url)

    # nova-api / conductor: the profile becomes the request spec's groups.
    groups = cycle.run('groups', PROFILE['name'])
    assert groups['error'] is None
    assert groups['request_groups'] == [
        {'requester_id': 'device_profile_0', 'resources': {'FPGA': 1},
         'required_traits': ['CUSTOM_FAKE_DEVICE'],
         'forbidden_traits': ['CUSTOM_FPGA_INTEL'],
         'use_same_provider': True},
        {'requester_id': 'device_profile_1', 'resources': {'FPGA': 2},
         'required_traits': ['CUSTOM_FAKE_DEVICE'], 'forbidden_traits': [],
         'use_same_provider': True}]
    assert api_calls(groups) == [
        ('GET', '/v2/device_profiles?name=' + PROFILE['name'], 200)]
    assert_sent_as_nova(groups)

    rg_rp_map = allocate(url, groups['request_groups'])
    assert sorted(rg_rp_map) == ['device_profile_0', 'device_profile_1']
    rp_uuid = rg_rp_map['device_profile_0'][0]
    devices = request('GET', url + '/v2/devices')[1]['devices']
    assert NODE not in {d['hostname'] for d in devices}

    # nova-conductor: create the ARQs and start binding them.
    build = cycle.run('build', PROFILE['name'], INSTANCE, NODE,
                      json.dumps(rg_rp_map))
    assert build['error'] is None
    assert {b['hostname'] for b in build['bindings'].values()} == {NODE}
    arqs = {arq['uuid']: arq for arq in build['arqs']}
    assert sorted(a['device_profile_group_id'] for a in arqs.values()) == [
        0, 1, 1]
    assert {a['state'] for a in arqs.values()} == {'Initial'}
    assert api_calls(build) == [
        ('POST', '/v2/accelerator_requests', 201),
        ('PATCH', '/v2/accelerator_requests', 202)]
    assert_sent_as_nova(build)

    # nova-compute waits for one event per ARQ before it spawns.
    processes.wait_until(lambda: len(events_for(nova, INSTANCE)) >= 3,
                         message='three %s events' % EVENT)
    assert sorted(events_for(nova, INSTANCE), key=lambda e: e['tag']) == [
        {'name': EVENT, 'server_uuid': INSTANCE, 'tag': uuid,
         'status': 'completed'} for uuid in sorted(arqs)]
    for sent in nova.requests:
        assert sent['path'] == '/os-server-external-events'
        assert sent['headers']['OpenStack-API-Version'] == 'compute 2.82'

    # nova-compute: the resolved ARQs are what the virt driver attaches.
    resolved = cycle.run('resolved', INSTANCE, ','.join(arqs))
    assert resolved['error'] is None
    assert resolved['requeried'] is False
    assert sorted(a['uuid'] for a in resolved['resolved']) == sorted(arqs)
    for arq in resolved['resolved']:
        assert arq['state'] == 'Bound'
        assert arq['hostname'] == NODE
        assert arq['instance_uuid'] == INSTANCE
        assert arq['device_rp_uuid'] == rp_uuid
        assert arq['device_profile_name'] == PROFILE['name']
        assert (arq['device_profile_group_id']
                == arqs[arq['uuid']]['device_profile_group_id'])
        assert arq['attach_handle_type'] == 'TEST_PCI'
        assert arq['attach_handle_info'] in FAKE_HANDLES
    handles = [json.dumps(a['attach_handle_info'], sort_keys=True)
               for a in resolved['resolved']]
    assert len(set(handles)) == 3, 'an attach handle was given out twice'
    assert api_calls(resolved) == [
        ('GET', '/v2/accelerator_requests?instance=' + INSTANCE, 200)]
    assert_sent_as_nova(resolved)

    # nova-compute deleting the server.
    delete = cycle.run('delete', INSTANCE)
    assert delete['error'] is None
    assert api_calls(delete) == [
        ('DELETE', '/v2/accelerator_requests?instance=' + INSTANCE, 204)]
    assert_sent_as_nova(delete)
    status, listed = request(
        'GET', url + '/v2/accelerator_requests?instance=' + INSTANCE)
    assert (status, listed) == (200, {'arqs': []})
    for uuid in arqs:
        assert request('GET', url + '/v2/accelerator_requests/' + uuid)[0] \
            == 404


def test_bind_to_an_unknown_provider_fails_in_nova_and_stays_unbound(
        service, nova):
    _process, url = service
    unknown_rp = str(uuid_lib.uuid4())

    build = NovaCycle(url).run(
        'build', PROFILE['name'], INSTANCE, NODE,
        json.dumps({'device_profile_0': [unknown_rp],
                    'device_profile_1': [unknown_rp]}))

    assert build['error']['type'] == 'AcceleratorRequestBindingFailed'
    created = sorted(arq['uuid'] for arq in build['arqs'])
    assert len(created) == 3
    calls = api_calls(build)
    assert calls[0] == ('POST', '/v2/accelerator_requests', 201)
    method, path, status = calls[1]
    assert (method, path) == ('PATCH', '/v2/accelerator_requests')
    assert 400 <= status < 500, 'a bad bind is the client\'s mistake'
    # What nova would find before it cleans up: untouched ARQs.
    for arq in build['after_failed_bind']:
        assert (arq['state'], arq['hostname'], arq['instance_uuid'],
                arq['device_rp_uuid'], arq['attach_handle_type'],
                arq['attach_handle_info']) == (
            'Initial', None, None, None, '', {})
    # nova-conductor then deletes them by uuid.
    assert calls[-1] == (
        'DELETE', '/v2/accelerator_requests?arqs=' + ','.join(
            arq['uuid'] for arq in build['arqs']), 204)
    for uuid in created:
        assert request('GET', url + '/v2/accelerator_requests/' + uuid)[0] \
            == 404
    assert events_for(nova, INSTANCE) == []
