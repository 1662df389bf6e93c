"""/v2/devices against the real app, database and fake-driver reports.

Enable and disable go through a real conductor over oslo.messaging's
in-process transport: the conductor writes the status and tells Placement.
"""

import pytest
import webtest

from cyborg_clone.api import app as api_app
from cyborg_clone.common import context
from cyborg_clone.common import rpc
from cyborg_clone.conductor import manager as conductor_manager
from cyborg_clone.conductor import rpcapi as conductor_rpcapi
from cyborg_clone.drivers import fake
from cyborg_clone.drivers import report
from cyborg_clone.objects import deployable as deployable_obj
from tests.conftest import Api
from tests.conftest import error_of
from tests.fixtures import placement as placement_fixture
from tests.fixtures.hardware import report_fake_host
from tests.fixtures.placement import placement_server  # noqa: F401

MEMBER = {'X-Roles': 'member', 'X-Project-Id': 'p1', 'X-User-Id': 'u1'}
MANAGER = {'X-Roles': 'manager', 'X-Project-Id': 'p1', 'X-User-Id': 'u1'}
UNKNOWN = '5518a925-1c2c-49a2-a8bf-0927d9456f3e'
FIELDS = {'uuid', 'type', 'vendor', 'model', 'std_board_info',
          'vendor_board_info', 'hostname', 'created_at', 'updated_at',
          'links'}


@pytest.fixture
def conductor_service(conf):
    """The conductor's endpoint, serving RPC while the test runs."""
    conf.set_override('transport_url', 'fake:/')
    service = conductor_manager.ConductorManager(conf)
    server = rpc.get_server(conf, conf.conductor.topic, 'conductor-1',
                            [service])
    server.start()
    yield service
    server.stop()
    server.wait()
    rpc.cleanup()


@pytest.fixture
def conductor(conf, conductor_service):
    return conductor_rpcapi.ConductorAPI(conf)


@pytest.fixture
def device(conf, api):
    report_fake_host(conf)
    return api.get('/v2/devices', status=200).json['devices'][0]


def test_list_returns_the_seed_shape(device):
    assert set(device) == FIELDS
    assert device['type'] == 'FPGA'
    assert device['vendor'] == '0xABCD'
    assert device['model'] == 'miss model info'
    assert device['std_board_info'] == ('{"device_id": "0xabcd", '
                                        '"class": "Fake class"}')
    assert device['vendor_board_info'] == 'fake_vendor_info'
    assert device['hostname'] == 'testhost'
    assert device['created_at'].endswith('+00:00')
    assert device['updated_at'] is None
    assert device['links'] == [{
        'href': 'http://localhost/v2/devices/' + device['uuid'],
        'rel': 'self'}]


def test_get_one_is_bare(api, device):
    got = api.get('/v2/devices/' + device['uuid'], status=200).json
    assert got == device


@pytest.mark.parametrize('version', ['2.0', '2.2'])
def test_status_is_left_out_below_2_3(api, device, version):
    listed = api.get('/v2/devices', version=version, status=200).json
    assert 'status' not in listed['devices'][0]
    got = api.get('/v2/devices/' + device['uuid'], version=version,
                  status=200).json
    assert 'status' not in got


def test_status_is_shown_from_2_3(api, device):
    listed = api.get('/v2/devices', version='2.3', status=200).json
    assert set(listed['devices'][0]) == FIELDS | {'status'}
    assert listed['devices'][0]['status'] == 'enabled'
    got = api.get('/v2/devices/' + device['uuid'], version='latest',
                  status=200)
    assert got.json['status'] == 'enabled'
    assert got.headers['OpenStack-API-Version'] == 'accelerator 2.4'


def test_disable_and_enable_answer_200_with_no_body(api, device):
    path = '/v2/devices/%s/' % device['uuid']
    response = api.post(path + 'disable', status=200)
    assert response.body == b''
    got = api.get('/v2/devices/' + device['uuid'], version='2.3').json
    assert got['status'] == 'maintaining'
    assert got['updated_at'] is not None
    response = api.post(path + 'enable', status=200)
    assert response.body == b''
    got = api.get('/v2/devices/' + device['uuid'], version='2.3').json
    assert got['status'] == 'enabled'


@pytest.mark.parametrize('action', ['enable', 'disable'])
def test_actions_on_unknown_or_malformed_uuids(api, action):
    response = api.post('/v2/devices/%s/%s' % (UNKNOWN, action),
                        status=404)
    assert UNKNOWN in error_of(response)
    response = api.post('/v2/devices/not-a-uuid/%s' % action, status=400)
    assert 'not-a-uuid' in error_of(response)


@pytest.mark.parametrize('method, suffix', [
    ('POST', '/{uuid}/reboot'), ('POST', ''), ('DELETE', '/{uuid}'),
    ('PATCH', '/{uuid}')])
def test_other_methods_are_not_allowed(api, device, method, suffix):
    path = '/v2/devices' + suffix.format(uuid=device['uuid'])
    error_of(api.request(method, path, status=405))


def test_get_unknown_is_404_and_malformed_is_400(api):
    response = api.get('/v2/devices/' + UNKNOWN, status=404)
    assert 'Device %s could not be found' % UNKNOWN in error_of(response)
    response = api.get('/v2/devices/nope', status=400)
    assert 'nope is not a valid UUID' in error_of(response)


def test_filters(conf, api):
    for host in ('host-a', 'host-b'):
        report_fake_host(conf, host)

    def hosts(query):
        listed = api.get('/v2/devices' + query, status=200).json['devices']
        return sorted(d['hostname'] for d in listed)

    assert hosts('') == ['host-a', 'host-b']
    assert hosts('?hostname=host-b') == ['host-b']
    assert hosts('?type=FPGA&vendor=0xABCD') == ['host-a', 'host-b']
    assert hosts('?type=GPU') == []
    assert hosts('?vendor=0x10ee') == []


def test_list_pages_with_limit_and_marker(conf, api):
    for host in ('h1', 'h2', 'h3'):
        report_fake_host(conf, host)
    first = api.get('/v2/devices?limit=2', status=200).json
    assert [d['hostname'] for d in first['devices']] == ['h1', 'h2']
    marker = first['devices'][1]['uuid']
    assert 'marker=' + marker in first['next']
    rest = api.get('/v2/devices?limit=2&marker=' + marker, status=200).json
    assert [d['hostname'] for d in rest['devices']] == ['h3']
    desc = api.get('/v2/devices?sort_key=hostname&sort_dir=desc',
                   status=200).json
    assert [d['hostname'] for d in desc['devices']] == ['h3', 'h2', 'h1']
    api.get('/v2/devices?sort_key=std_board_info', status=400)
    api.get('/v2/devices?marker=nope', status=400)


def test_list_costs_one_statement_whatever_the_row_count(
        conf, api, count_statements):
    for i in range(10):
        report_fake_host(conf, 'host%d' % i)
    counter = count_statements()
    listed = api.get('/v2/devices', status=200).json['devices']
    assert len(listed) == 10
    assert counter.count == 1


@pytest.mark.parametrize('method, suffix', [
    ('get', ''), ('get', '/{uuid}'), ('post', '/{uuid}/enable'),
    ('post', '/{uuid}/disable')])
def test_members_are_forbidden(api, device, method, suffix):
    path = '/v2/devices' + suffix.format(uuid=device['uuid'])
    response = api.request(method.upper(), path, headers=MEMBER,
                           status=403)
    assert 'cyborg:device:' in error_of(response)


def test_managers_read_but_do_not_write(api, device):
    api.get('/v2/devices', headers=MANAGER, status=200)
    api.get('/v2/devices/' + device['uuid'], headers=MANAGER, status=200)
    api.post('/v2/devices/%s/disable' % device['uuid'], headers=MANAGER,
             status=403)


def test_served_without_the_v2_prefix_too(api, device):
    listed = api.get('/devices', status=200).json
    assert [d['uuid'] for d in listed['devices']] == [device['uuid']]
    api.post('/devices/%s/disable' % device['uuid'], status=200)


@pytest.mark.slow
def test_disable_reserves_the_device_in_placement_and_enable_releases_it(
        conf, api, conductor_service, placement):
    placement_fixture.configure(conf, placement.url)
    hostname = 'devices-api-host'
    placement.register_compute_node(hostname)
    driver = fake.FakeDriver(conf, host=hostname)
    # As the agent's report reaches the conductor.
    conductor_service.report_data(context.get_admin_context(), hostname,
                                  report.to_primitive(driver.discover()))
    rp_uuid = deployable_obj.rp_uuid_for(driver.deployable_name)
    query = 'resources=FPGA:1&required=CUSTOM_FAKE_DEVICE'
    assert rp_uuid in placement.candidates(query)
    [device] = api.get('/v2/devices', status=200).json['devices']

    api.post('/v2/devices/%s/disable' % device['uuid'], status=200)
    inventory = placement.inventories(rp_uuid)['FPGA']
    assert inventory['reserved'] == inventory['total'] == 16
    assert rp_uuid not in placement.candidates(query)

    api.post('/v2/devices/%s/enable' % device['uuid'], status=200)
    assert placement.inventories(rp_uuid)['FPGA']['reserved'] == 0
    assert rp_uuid in placement.candidates(query)



def test_disable_without_a_conductor_is_503_and_changes_nothing(
        conf, api, device):
    # An API whose conductors are all gone: its call times out and nothing
    # is written (the conductor owns the write).
    conf.set_override('rpc_response_timeout', 1)
    conf.set_override('topic', 'no-conductor-listens', group='conductor')
    silent = Api(webtest.TestApp(api_app.setup_app(
        conf, conductor_api=conductor_rpcapi.ConductorAPI(conf))))
    response = silent.post('/v2/devices/%s/disable' % device['uuid'],
                           status=503)
    assert error_of(response)  # the error body, in the wire format
    got = api.get('/v2/devices/' + device['uuid'], version='2.3').json
    assert got['status'] == 'enabled'
