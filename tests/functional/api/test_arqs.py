"""/v2/accelerator_requests against the real app and database.

The hardware comes from the real fake driver's discovery applied by the
real device sync; the conductor is recorded here (the RPC path is covered
by tests/functional/test_bind_flow.py), and binding is finished by calling
the real conductor workflow.
"""

import uuid as uuid_lib

import pytest
import sqlalchemy as sa

from cyborg_clone.common import context
from cyborg_clone.conductor import arq_binding
from cyborg_clone.conductor import device_sync
from cyborg_clone.db import api as db_api
from tests.conftest import error_of
from tests.conftest import row_count
from tests.fixtures import arq_requests
from tests.fixtures.arq_requests import SERVICE
from tests.fixtures.arq_requests import unbind_patch
from tests.fixtures.hardware import report_fake_host
from tests.fixtures.nova import RecordingNova

HOST = 'testhost'
RP_UUID = str(uuid_lib.uuid3(uuid_lib.NAMESPACE_DNS, HOST + '_FakeDevice'))
INSTANCE = '506220bc-18f2-4294-9b29-80267a021dc0'
OTHER_INSTANCE = 'd1e3ff56-feef-4495-8e4f-1cf6ea59ffbc'
MEMBER = {'X-User-Id': 'u1', 'X-Project-Id': 'p1', 'X-Roles': 'member'}
OTHER_MEMBER = {'X-User-Id': 'u2', 'X-Project-Id': 'p2', 'X-Roles': 'member'}
ARQ_KEYS = {'uuid', 'state', 'device_profile_name', 'device_profile_group_id',
            'hostname', 'device_rp_uuid', 'instance_uuid', 'project_id',
            'attach_handle_type', 'attach_handle_uuid', 'attach_handle_info',
            'links', 'created_at', 'updated_at'}


@pytest.fixture
def hardware(conf):
    return report_fake_host(conf, HOST)


@pytest.fixture
def profile(api):
    api.post('/v2/device_profiles', [{
        'name': 'dp', 'groups': [{'resources:FPGA': '2'},
                                 {'resources:FPGA': '1',
                                  'trait:CUSTOM_FAKE_DEVICE': 'required'}]}],
        status=201)
    return 'dp'


def create_arqs(api, profile='dp', headers=None):
    return api.post('/v2/accelerator_requests',
                    {'device_profile_name': profile}, headers=headers,
                    status=201).json['arqs']


def bind_patch(arqs, instance=INSTANCE, host=HOST, rp=RP_UUID):
    return arq_requests.bind_patch(arqs, host, rp, instance)


def states(api):
    return sorted(a['state'] for a in
                  api.get('/v2/accelerator_requests', status=200)
                  .json['arqs'])


def finish_binding(conf, conductor):
    """Run the conductor workflow for every bind the API cast."""
    nova = RecordingNova(in_order=True)
    for name, kwargs in conductor.calls:
        if name == 'release_arqs':
            continue  # unbinds the test made: nothing on a host to undo
        assert name == 'bind_arqs'
        arq_binding.bind_arqs(conf, context.get_admin_context(),
                              kwargs['arq_uuids'], nova_client=nova)
    conductor.calls.clear()
    return nova


# --- create, list, show -------------------------------------------------

def test_create_makes_n_times_m_arqs_in_the_seed_shape(api, profile):
    arqs = create_arqs(api)
    assert [a['device_profile_group_id'] for a in arqs] == [0, 0, 1]
    for arq in arqs:
        assert set(arq) == ARQ_KEYS
        assert arq['state'] == 'Initial'
        assert arq['device_profile_name'] == 'dp'
        assert arq['attach_handle_type'] == ''
        assert arq['attach_handle_info'] == {}
        assert arq['hostname'] is None and arq['instance_uuid'] is None
        assert arq['project_id'] == 'admin'
        assert arq['links'] == [{
            'href': 'http://localhost/v2/accelerator_requests/'
                    + arq['uuid'], 'rel': 'self'}]


def test_get_one_is_bare(api, profile):
    arq = create_arqs(api)[0]
    got = api.get('/v2/accelerator_requests/' + arq['uuid'], status=200)
    assert got.json == arq


@pytest.mark.parametrize('body, status, needle', [
    ({'device_profile_name': 'nope'}, 404, 'nope'),
    ({}, 400, 'device_profile_name'),
    ({'device_profile_name': ''}, 404, 'Device profile "" could not'),
    ({'device_profile_name': 'x' * 256}, 400, 'device_profile_name'),
    ({'device_profile_name': 5}, 400, 'device_profile_name'),
    ({'device_profile_name': 'dp', 'extra': 1}, 400, 'extra'),
    (['dp'], 400, 'JSON object'),
])
def test_bad_create_changes_nothing(api, profile, body, status, needle):
    response = api.post('/v2/accelerator_requests', body, status=status)
    assert needle in error_of(response)
    assert row_count('accelerator_requests') == 0


def test_create_for_one_group_like_cyborgclient(api, profile):
    # python-cyborgclient's `arq create --group-id 1` sends a string.
    for group_id in (1, '1'):
        arqs = api.post('/v2/accelerator_requests',
                        {'device_profile_name': 'dp',
                         'device_profile_group_id': group_id},
                        status=201).json['arqs']
        assert [a['device_profile_group_id'] for a in arqs] == [1]
    arqs = api.post('/v2/accelerator_requests',
                    {'device_profile_name': 'dp',
                     'device_profile_group_id': 0}, status=201).json['arqs']
    assert [a['device_profile_group_id'] for a in arqs] == [0, 0]
    assert row_count('accelerator_requests') == 4


@pytest.mark.parametrize('group_id, needle', [
    (2, 'device_profile_group_id 2 is out of range: device profile dp has '
        '2 group(s)'),
    ('7', 'out of range'),
    (-1, 'non-negative integer'),
    ('one', 'non-negative integer'),
    (1.5, 'non-negative integer'),
    (True, 'non-negative integer'),
    ([0], 'non-negative integer'),
])
def test_bad_group_id_is_400_and_creates_nothing(api, profile, group_id,
                                                 needle):
    response = api.post('/v2/accelerator_requests',
                        {'device_profile_name': 'dp',
                         'device_profile_group_id': group_id}, status=400)
    assert needle in error_of(response)
    assert row_count('accelerator_requests') == 0


def test_malformed_json_create_is_400(api):
    api.post('/v2/accelerator_requests', raw='{"device_profile_name"',
             status=400)


def test_get_errors(api):
    assert 'not a valid UUID' in error_of(
        api.get('/v2/accelerator_requests/xyz', status=400))
    api.get('/v2/accelerator_requests/' + INSTANCE, status=404)


def test_projects_see_only_their_own_arqs(api, profile):
    mine = create_arqs(api, headers=MEMBER)
    create_arqs(api, headers=OTHER_MEMBER)
    listed = api.get('/v2/accelerator_requests', headers=MEMBER,
                     status=200).json['arqs']
    assert sorted(a['uuid'] for a in listed) == sorted(
        a['uuid'] for a in mine)
    assert {a['project_id'] for a in listed} == {'p1'}
    api.get('/v2/accelerator_requests/' + mine[0]['uuid'],
            headers=OTHER_MEMBER, status=404)
    api.delete('/v2/accelerator_requests/' + mine[0]['uuid'],
               headers=OTHER_MEMBER, status=404)
    assert len(api.get('/v2/accelerator_requests', headers=SERVICE,
                       status=200).json['arqs']) == 6
    assert len(api.get('/v2/accelerator_requests',
                       status=200).json['arqs']) == 6


def test_a_caller_without_roles_is_refused(api, profile):
    nobody = {'X-User-Id': 'x', 'X-Project-Id': 'p1', 'X-Roles': ''}
    api.get('/v2/accelerator_requests', headers=nobody, status=403)
    api.post('/v2/accelerator_requests', {'device_profile_name': 'dp'},
             headers=nobody, status=403)


def test_list_costs_one_statement(api, profile, count_statements):
    for _ in range(5):
        create_arqs(api)
    counter = count_statements()
    assert len(api.get('/v2/accelerator_requests',
                       status=200).json['arqs']) == 15
    assert counter.count == 1


def test_list_pages(api, profile):
    create_arqs(api)
    create_arqs(api)
    first = api.get('/v2/accelerator_requests?limit=4', status=200).json
    assert len(first['arqs']) == 4
    rest = api.get(first['next'].replace('http://localhost', ''),
                   status=200).json
    assert len(rest['arqs']) == 2 and 'next' not in rest


# --- bind, unbind ------------------------------------------------------

def test_bind_flow(conf, api, conductor, hardware, profile):
    arqs = create_arqs(api)
    response = api.patch('/v2/accelerator_requests', bind_patch(arqs),
                         headers=SERVICE, status=202)
    assert response.text == ''
    assert states(api) == ['BindStarted'] * 3
    assert conductor.calls == [('bind_arqs', {'arq_uuids': sorted(
        a['uuid'] for a in arqs)})]
    resolved = '/v2/accelerator_requests?instance=%s&bind_state=resolved'
    assert 'still binding' in error_of(
        api.get(resolved % INSTANCE, status=423))

    nova = finish_binding(conf, conductor)

    bound = api.get(resolved % INSTANCE, status=200).json['arqs']
    assert [a['state'] for a in bound] == ['Bound'] * 3
    for arq in bound:
        assert arq['hostname'] == HOST
        assert arq['device_rp_uuid'] == RP_UUID
        assert arq['instance_uuid'] == INSTANCE
        assert arq['attach_handle_type'] == 'TEST_PCI'
        assert set(arq['attach_handle_info']) == {'domain', 'bus',
                                                  'device', 'function'}
    assert len({a['attach_handle_uuid'] for a in bound}) == 3
    assert nova.sent == [(INSTANCE, [(a['uuid'], 'Bound') for a in bound])]


def test_bind_takes_any_node_name_nova_sends(conf, api, conductor,
                                             hardware, profile):
    # Nova sends its compute node name (often an FQDN), which need not be
    # the agent's host; the device_rp_uuid names the accelerator.
    arqs = create_arqs(api)
    node = 'compute-7.rack3.example.org'
    api.patch('/v2/accelerator_requests',
              bind_patch(arqs, host=node), headers=SERVICE, status=202)
    finish_binding(conf, conductor)
    for arq in api.get('/v2/accelerator_requests', status=200).json['arqs']:
        assert arq['state'] == 'Bound'
        assert arq['hostname'] == node
        assert arq['device_rp_uuid'] == RP_UUID


def test_bind_at_the_item_path_like_openstacksdk(conf, api, conductor,
                                                 hardware, profile):
    arq = create_arqs(api)[0]
    api.patch('/v2/accelerator_requests/' + arq['uuid'], bind_patch([arq]),
              headers=SERVICE, status=202)
    finish_binding(conf, conductor)
    got = api.get('/v2/accelerator_requests/' + arq['uuid'], status=200)
    assert got.json['state'] == 'Bound'


def test_item_path_patch_must_name_that_arq(api, hardware, profile):
    one, two = create_arqs(api)[:2]
    api.patch('/v2/accelerator_requests/' + one['uuid'], bind_patch([two]),
              headers=SERVICE, status=400)
    assert states(api) == ['Initial'] * 3


def test_unbind_releases_handles_and_allows_rebinding(conf, api, conductor,
                                                      hardware, profile):
    arqs = create_arqs(api)
    api.patch('/v2/accelerator_requests', bind_patch(arqs),
              headers=SERVICE, status=202)
    finish_binding(conf, conductor)
    api.patch('/v2/accelerator_requests', unbind_patch(arqs),
              headers=SERVICE, status=202)
    unbound = api.get('/v2/accelerator_requests', status=200).json['arqs']
    for arq in unbound:
        assert arq['state'] == 'Unbound'
        assert arq['attach_handle_info'] == {}
        assert arq['hostname'] is None and arq['instance_uuid'] is None
    assert free_handles() == 16
    api.patch('/v2/accelerator_requests',
              bind_patch(arqs, instance=OTHER_INSTANCE), headers=SERVICE,
              status=202)
    finish_binding(conf, conductor)
    assert states(api) == ['Bound'] * 3
    assert free_handles() == 13


def free_handles():
    with db_api.reader() as session:
        return session.execute(sa.text(
            'SELECT count(*) FROM attach_handles WHERE NOT in_use')
        ).scalar_one()


def test_bind_fails_cleanly_when_accelerators_run_out(conf, api, conductor,
                                                      hardware, profile):
    api.post('/v2/device_profiles', [{
        'name': 'big', 'groups': [{'resources:FPGA': '17'}]}], status=201)
    arqs = create_arqs(api, profile='big')
    api.patch('/v2/accelerator_requests', bind_patch(arqs),
              headers=SERVICE, status=202)
    nova = finish_binding(conf, conductor)
    assert states(api) == ['BindFailed'] + ['Bound'] * 16
    [(instance, sent)] = nova.sent
    assert sorted(state for _, state in sent) == (
        ['BindFailed'] + ['Bound'] * 16)


def test_binding_needs_the_service_role(api, hardware, profile):
    arqs = create_arqs(api, headers=MEMBER)
    for headers in (MEMBER, {'X-User-Id': 'a', 'X-Project-Id': 'p1',
                             'X-Roles': 'admin'}):
        api.patch('/v2/accelerator_requests', bind_patch(arqs),
                  headers=headers, status=403)
    assert states(api) == ['Initial'] * 3


def test_binding_twice_is_409(api, hardware, profile):
    arqs = create_arqs(api)
    api.patch('/v2/accelerator_requests', bind_patch(arqs),
              headers=SERVICE, status=202)
    response = api.patch('/v2/accelerator_requests', bind_patch(arqs),
                         headers=SERVICE, status=409)
    assert 'BindStarted' in error_of(response)


def test_binding_to_an_instance_with_other_arqs_is_409(api, hardware,
                                                        profile):
    first = create_arqs(api)
    second = create_arqs(api)
    api.patch('/v2/accelerator_requests', bind_patch(first),
              headers=SERVICE, status=202)
    response = api.patch('/v2/accelerator_requests', bind_patch(second),
                         headers=SERVICE, status=409)
    assert INSTANCE in error_of(response)
    assert states(api) == ['BindStarted'] * 3 + ['Initial'] * 3


def test_project_id_needs_2_1(conf, api, conductor, hardware, profile):
    arqs = create_arqs(api)
    body = bind_patch(arqs)
    for ops in body.values():
        ops.append({'op': 'add', 'path': '/project_id', 'value': 'p9'})
    api.patch('/v2/accelerator_requests', body, headers=SERVICE, status=406)
    assert states(api) == ['Initial'] * 3
    # Moving ARQs to another project is for an admin with a service token.
    response = api.patch('/v2/accelerator_requests', body, headers=SERVICE,
                         version='2.1', status=403)
    assert 'cyborg:arq:update_project_id' in error_of(response)
    assert states(api) == ['Initial'] * 3
    api.patch('/v2/accelerator_requests', body,
              headers=dict(SERVICE, **{'X-Roles': 'admin'}),
              version='2.1', status=202)
    listed = api.get('/v2/accelerator_requests', status=200).json['arqs']
    assert {a['project_id'] for a in listed} == {'p9'}


def _ops(arq, *ops):
    return {arq['uuid']: list(ops)}


ADD_HOST = {'op': 'add', 'path': '/hostname', 'value': HOST}
ADD_RP = {'op': 'add', 'path': '/device_rp_uuid', 'value': RP_UUID}
ADD_INSTANCE = {'op': 'add', 'path': '/instance_uuid', 'value': INSTANCE}


@pytest.mark.parametrize('make_body, status, needle', [
    (lambda a: _ops(a, ADD_HOST, ADD_RP,
                    {'op': 'remove', 'path': '/instance_uuid'}),
     400, 'cannot be mixed'),
    (lambda a: _ops(a, ADD_HOST, ADD_RP,
                    {'op': 'replace', 'path': '/instance_uuid',
                     'value': INSTANCE}), 400, 'op must be'),
    (lambda a: _ops(a, ADD_HOST, ADD_RP, ADD_INSTANCE,
                    {'op': 'add', 'path': '/state', 'value': 'Bound'}),
     400, 'path must be'),
    (lambda a: _ops(a, ADD_HOST, ADD_RP), 400, '/instance_uuid'),
    (lambda a: _ops(a, ADD_HOST, ADD_HOST, ADD_RP, ADD_INSTANCE),
     400, 'twice'),
    (lambda a: _ops(a, ADD_HOST, ADD_RP, {'op': 'add',
                                          'path': '/instance_uuid'}),
     400, 'no value'),
    (lambda a: _ops(a, ADD_HOST, ADD_RP, dict(ADD_INSTANCE, value=5)),
     400, '/2/value'),
    (lambda a: _ops(a, ADD_HOST, ADD_RP, dict(ADD_INSTANCE, value='x')),
     400, 'not a valid UUID'),
    (lambda a: _ops(a, ADD_HOST, dict(ADD_RP, value=INSTANCE),
                    ADD_INSTANCE), 400, 'names no accelerator'),
    (lambda a: {'not-a-uuid': [ADD_HOST, ADD_RP, ADD_INSTANCE]},
     400, 'not a valid UUID'),
    (lambda a: {OTHER_INSTANCE: [ADD_HOST, ADD_RP, ADD_INSTANCE]},
     404, OTHER_INSTANCE),
    (lambda a: {a['uuid']: []}, 400, 'non-empty'),
    (lambda a: {a['uuid']: 'add'}, 400, 'array'),
    (lambda a: {}, 400, 'names no ARQ'),
    (lambda a: [ADD_HOST], 400, 'map ARQ uuids'),
])
def test_bad_patches_change_nothing(api, hardware, profile, make_body,
                                    status, needle):
    arq = create_arqs(api)[0]
    response = api.patch('/v2/accelerator_requests', make_body(arq),
                         headers=SERVICE, status=status)
    assert needle in error_of(response)
    assert states(api) == ['Initial'] * 3


def test_malformed_json_patch_is_400(api, hardware, profile):
    create_arqs(api)
    response = api.request('PATCH', '/v2/accelerator_requests',
                           raw='{"x": [', headers=SERVICE, status=400)
    assert 'JSON' in error_of(response)
    assert states(api) == ['Initial'] * 3


def test_bad_bind_state_is_400(api):
    response = api.get('/v2/accelerator_requests?bind_state=bound',
                       status=400)
    assert 'resolved' in error_of(response)


# --- delete ------------------------------------------------------------

def test_delete_by_path_and_by_list(api, profile):
    one, two, three = create_arqs(api)
    api.delete('/v2/accelerator_requests/' + one['uuid'], status=204)
    api.delete('/v2/accelerator_requests?arqs=%s,%s'
               % (two['uuid'], three['uuid']), status=204)
    assert row_count('accelerator_requests') == 0


def test_delete_by_list_is_all_or_nothing(api, profile):
    one = create_arqs(api)[0]
    api.delete('/v2/accelerator_requests?arqs=%s,%s'
               % (one['uuid'], INSTANCE), status=404)
    assert row_count('accelerator_requests') == 3


def test_delete_by_instance_releases_handles(conf, api, conductor,
                                             hardware, profile):
    arqs = create_arqs(api)
    api.patch('/v2/accelerator_requests', bind_patch(arqs),
              headers=SERVICE, status=202)
    finish_binding(conf, conductor)
    api.delete('/v2/accelerator_requests?instance=' + INSTANCE,
               headers=MEMBER, status=403)
    api.delete('/v2/accelerator_requests?instance=' + INSTANCE,
               headers=SERVICE, status=204)
    assert row_count('accelerator_requests') == 0
    assert free_handles() == 16
    # Idempotent, as Nova expects.
    api.delete('/v2/accelerator_requests?instance=' + INSTANCE,
               headers=SERVICE, status=204)


@pytest.mark.parametrize('query', [
    '', '?arqs=%s&instance=%s' % (INSTANCE, INSTANCE), '?arqs=',
    '?arqs=bad', '?instance=bad'])
def test_bad_deletes_are_400(api, profile, query):
    create_arqs(api)
    api.delete('/v2/accelerator_requests' + query, status=400)
    assert row_count('accelerator_requests') == 3


def test_profile_in_use_cannot_be_deleted(api, profile):
    create_arqs(api)
    response = api.delete('/v2/device_profiles?value=dp', status=409)
    assert 'dp' in error_of(response)
    assert row_count('device_profiles') == 1


def test_no_bind_onto_a_device_its_host_stopped_reporting(
        api, conductor, hardware, profile):
    # An ARQ holds a handle, so the vanished card is kept, and marked.
    with db_api.writer() as session:
        session.execute(sa.text(
            'UPDATE attach_handles SET in_use = 1 WHERE id = '
            '(SELECT MIN(id) FROM attach_handles)'))
    device_sync.apply_report(context.get_admin_context(), HOST, [])
    arqs = create_arqs(api)
    response = api.patch('/v2/accelerator_requests', bind_patch(arqs),
                         headers=SERVICE, status=409)
    assert 'no longer reported by host testhost' in error_of(response)
    assert states(api) == ['Initial'] * 3
    assert conductor.calls == []
