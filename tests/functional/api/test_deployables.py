"""/v2/deployables against the real app, database and fake-driver reports.

Programming runs the conductor's real workflow in-process: the conductor
stub calls ``deployable_programming.program`` with an agent stub standing
in for RPC, which runs each host's real agent with the fake driver.
"""

import json

import oslo_messaging as messaging
import pytest
import sqlalchemy as sa

from cyborg_clone.common import exception
from cyborg_clone.conductor import deployable_programming
from cyborg_clone.db import api as db_api
from tests.conftest import error_of
from tests.fixtures.hardware import InProcessAgents
from tests.fixtures.hardware import report_fake_host
from tests.fixtures.images import put_image

MEMBER = {'X-Roles': 'member', 'X-Project-Id': 'p1', 'X-User-Id': 'u1'}
MANAGER = {'X-Roles': 'manager', 'X-Project-Id': 'p1', 'X-User-Id': 'u1'}
UNKNOWN = '5518a925-1c2c-49a2-a8bf-0927d9456f3e'
IMAGE = 'd5ca2f11-3108-4426-a11c-a959987565df'
FPGA_IMAGE = '4010a32c5c62bad9015c62dc2290002b'
IMAGE_HEX = IMAGE.replace('-', '')
FIELDS = {'uuid', 'parent_id', 'root_id', 'name', 'num_accelerators',
          'device_id', 'attributes_list', 'rp_uuid', 'driver_name',
          'bitstream_id', 'created_at', 'updated_at', 'links'}


class ProgrammingConductor:
    """The conductor RPC client, without RPC: the real workflow."""

    def __init__(self, conf, agents):
        self.conf = conf
        self.agents = agents
        self.calls = []
        self.error = None

    def program_deployable(self, context, deployable_uuid, image_id):
        self.calls.append((deployable_uuid, image_id))
        if self.error is not None:
            raise self.error
        return deployable_programming.program(
            self.conf, context, self.agents, deployable_uuid, image_id)


@pytest.fixture
def agents(conf):
    return InProcessAgents(conf)


@pytest.fixture
def conductor(conf, agents):
    return ProgrammingConductor(conf, agents)


@pytest.fixture
def deployable(conf, api):
    report_fake_host(conf)
    return api.get('/v2/deployables', status=200).json['deployables'][0]


def program_body(image=IMAGE):
    return [{'path': '/program', 'op': 'replace',
             'value': [{'image_uuid': image}]}]


def program(api, uuid, body=None, **kw):
    return api.patch('/v2/deployables/%s/program' % uuid,
                     program_body() if body is None else body, **kw)


def test_list_returns_the_seed_shape(api, deployable):
    assert set(deployable) == FIELDS
    assert deployable['name'] == 'testhost_FakeDevice'
    assert deployable['num_accelerators'] == 16
    assert deployable['parent_id'] is None
    assert deployable['root_id'] is None
    assert deployable['driver_name'] == 'fake'
    assert deployable['bitstream_id'] is None
    assert deployable['rp_uuid'] == 'f70a27cd-ba92-35c0-b83d-d36bb298f655'
    assert deployable['created_at'].endswith('+00:00')
    assert json.loads(deployable['attributes_list']) == [
        {'traits1': 'CUSTOM_FAKE_DEVICE'}, {'rc': 'FPGA'}]
    assert deployable['links'] == [
        {'href': 'http://localhost/v2/deployables/' + deployable['uuid'],
         'rel': 'self'},
        {'href': 'http://localhost/deployables/' + deployable['uuid'],
         'rel': 'bookmark'}]


def test_device_id_is_the_devices_integer_id(api, deployable):
    with db_api.reader() as session:
        device_id = session.execute(sa.text(
            'SELECT id FROM devices')).scalar_one()
    assert deployable['device_id'] == device_id
    assert isinstance(deployable['device_id'], int)


def test_get_one_is_bare(api, deployable):
    got = api.get('/v2/deployables/' + deployable['uuid'], status=200).json
    assert got == deployable


def test_get_unknown_is_404_and_malformed_is_400(api):
    response = api.get('/v2/deployables/' + UNKNOWN, status=404)
    assert 'Deployable %s could not be found' % UNKNOWN in error_of(
        response)
    response = api.get('/v2/deployables/nope', status=400)
    assert 'nope is not a valid UUID' in error_of(response)


def test_list_pages_with_limit_and_marker(conf, api):
    for host in ('h1', 'h2', 'h3'):
        report_fake_host(conf, host)
    first = api.get('/v2/deployables?limit=2', status=200).json
    names = [d['name'] for d in first['deployables']]
    assert names == ['h1_FakeDevice', 'h2_FakeDevice']
    marker = first['deployables'][1]['uuid']
    assert 'marker=' + marker in first['next']
    rest = api.get('/v2/deployables?marker=' + marker, status=200).json
    assert [d['name'] for d in rest['deployables']] == ['h3_FakeDevice']


def test_list_costs_two_statements_whatever_the_row_count(
        conf, api, count_statements):
    for i in range(10):
        report_fake_host(conf, 'host%d' % i)
    counter = count_statements()
    listed = api.get('/v2/deployables', status=200).json['deployables']
    assert len(listed) == 10
    assert all(json.loads(d['attributes_list']) for d in listed)
    # One for the deployables, one for all of their attributes.
    assert counter.count == 2


def test_empty_list(api, count_statements):
    counter = count_statements()
    assert api.get('/v2/deployables', status=200).json == {
        'deployables': []}
    assert counter.count == 1


@pytest.mark.parametrize('image', [IMAGE, FPGA_IMAGE, IMAGE.upper()])
def test_program_loads_the_image_and_answers_the_deployable(
        conf, api, conductor, deployable, image):
    # Dashed Glance-style UUIDs name the image of the same 32 hex digits.
    stored = put_image(conf, image_id=FPGA_IMAGE if image == FPGA_IMAGE
                       else IMAGE_HEX)
    response = program(api, deployable['uuid'], program_body(image),
                       status=200)
    assert set(response.json) == FIELDS
    assert response.json['bitstream_id'] == stored
    assert response.json['uuid'] == deployable['uuid']
    assert conductor.calls == [(deployable['uuid'], stored)]
    # The card itself now reports the image: the next report agrees.
    report_fake_host(conf)
    got = api.get('/v2/deployables/' + deployable['uuid']).json
    assert got['bitstream_id'] == stored


def test_program_path_used_by_openstacksdk(conf, api, deployable):
    put_image(conf, image_id=IMAGE_HEX)
    response = api.patch('/deployables/%s/program' % deployable['uuid'],
                         program_body(), status=200)
    assert response.json['bitstream_id'] == IMAGE_HEX


def test_image_missing_from_the_store_is_404(api, conductor, deployable):
    response = program(api, deployable['uuid'], status=404)
    assert IMAGE_HEX in error_of(response)
    assert api.get('/v2/deployables/' + deployable['uuid']).json[
        'bitstream_id'] is None


def test_program_is_refused_while_a_handle_is_in_use(
        api, conductor, deployable):
    with db_api.writer() as session:
        session.execute(sa.text(
            'UPDATE attach_handles SET in_use = 1 WHERE id = 1'))
    response = program(api, deployable['uuid'], status=409)
    assert 'in use' in error_of(response)
    assert api.get('/v2/deployables/' + deployable['uuid']).json[
        'bitstream_id'] is None


def test_image_the_card_refuses_is_409_with_the_drivers_reason(
        api, agents, deployable):
    agents.error = exception.DriverError(driver='fake',
                                         reason='wrong interface id')
    response = program(api, deployable['uuid'], status=409)
    assert 'wrong interface id' in error_of(response)
    assert api.get('/v2/deployables/' + deployable['uuid']).json[
        'bitstream_id'] is None


def test_silent_agent_is_503(conf, api, agents, deployable):
    # The conductor asks a silent agent again until program_timeout; a
    # short one keeps the test short.
    conf.set_override('program_timeout', 3, group='conductor')
    agents.error = messaging.MessagingTimeout('no reply')
    error_of(program(api, deployable['uuid'], status=503))


def test_silent_conductor_is_503(api, conductor, deployable):
    conductor.error = messaging.MessagingTimeout('no reply')
    error_of(program(api, deployable['uuid'], status=503))


def test_program_unknown_is_404_and_malformed_is_400(api, conductor):
    response = program(api, UNKNOWN, status=404)
    assert UNKNOWN in error_of(response)
    response = program(api, 'nope', status=400)
    assert 'nope is not a valid UUID' in error_of(response)
    assert [c[0] for c in conductor.calls] == [UNKNOWN]


def test_patch_without_program_is_404(api, conductor, deployable):
    api.patch('/v2/deployables/' + deployable['uuid'], program_body(),
              status=404)
    api.patch('/v2/deployables/%s/reset' % deployable['uuid'],
              program_body(), status=404)
    assert conductor.calls == []


@pytest.mark.parametrize('body, needle', [
    ({'image_uuid': IMAGE}, 'list holding one operation'),
    ([], 'list holding one operation'),
    (program_body() * 2, 'list holding one operation'),
    (['x'], 'JSON object'),
    ([{'path': '/program', 'value': [{'image_uuid': IMAGE}]}],
     "'op' is a required property"),
    ([dict(program_body()[0], op='add')], 'replace'),
    ([dict(program_body()[0], path='/bitstream')], '/program'),
    ([dict(program_body()[0], value={'image_uuid': IMAGE})], 'value'),
    ([dict(program_body()[0], value=[])], 'value'),
    ([dict(program_body()[0], value=['x'])], 'image_uuid'),
    ([dict(program_body()[0], value=[{}])], "'image_uuid' is a required"),
    ([dict(program_body()[0], value=[{'image_uuid': IMAGE, 'x': 1}])],
     'x'),
    ([dict(program_body()[0], extra=1)], 'extra'),
    (program_body('not-an-image'), 'image_uuid'),
    (program_body(FPGA_IMAGE.upper()), 'image_uuid'),
    (program_body(FPGA_IMAGE[:-1]), 'image_uuid'),
    (program_body('../../etc/passwd'), 'image_uuid'),
    (program_body(5), 'image_uuid'),
])
def test_bad_program_body_is_400_and_calls_nothing(
        api, conductor, deployable, body, needle):
    response = program(api, deployable['uuid'], body, status=400)
    assert needle in error_of(response)
    assert conductor.calls == []


def test_malformed_json_is_400(api, conductor, deployable):
    response = api.patch('/v2/deployables/%s/program' % deployable['uuid'],
                         raw='[{"path": ', status=400)
    assert 'JSON' in error_of(response)
    assert conductor.calls == []


@pytest.mark.parametrize('headers', [MEMBER, MANAGER])
def test_only_admins_program(api, conductor, deployable, headers):
    response = program(api, deployable['uuid'], headers=headers,
                       status=403)
    assert 'cyborg:deployable:program' in error_of(response)
    assert conductor.calls == []


@pytest.mark.parametrize('suffix', ['', '/{uuid}'])
def test_members_are_forbidden_and_managers_may_read(
        api, deployable, suffix):
    path = '/v2/deployables' + suffix.format(uuid=deployable['uuid'])
    response = api.get(path, headers=MEMBER, status=403)
    assert 'cyborg:deployable:get_' in error_of(response)
    api.get(path, headers=MANAGER, status=200)
