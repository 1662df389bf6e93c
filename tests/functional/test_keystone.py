"""Authentication and authorisation with a real Keystone and real tokens.

One Keystone (tests/fixtures/keystone.py) serves the module; the
all-in-one runs with ``[api]auth_strategy = keystone``, so its
keystonemiddleware validates every token against that Keystone, and its
conductor binds over the in-process transport. Nova's calls are made the
way nova-compute makes them: the user's token in X-Auth-Token and the nova
service user's token in X-Service-Token.
"""

import uuid

import pytest
import requests

from tests.fixtures.arq_requests import bind_patch
from tests.fixtures.arq_requests import unbind_patch
from tests.fixtures.keystone import PROJECT_A
from tests.fixtures.keystone import keystone_fixture  # noqa: F401
from tests.functional import processes

# One server for the module: its tests stay on one xdist worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(__name__)]

HOST = 'keystone-test-host'
ARQS = '/v2/accelerator_requests'
PROFILE = 'keystone-test-profile'


class Api:
    """HTTP to the running API, with tokens for the fixture's personas."""

    def __init__(self, url, keystone):
        self.url = url
        self.keystone = keystone

    def headers(self, persona=None, service=None, token=None,
                service_token=None):
        """X-Auth-Token of ``persona`` (or ``token``) and X-Service-Token
        of ``service`` (or ``service_token``)."""
        headers = {}
        if persona is not None:
            token = self.keystone.token(persona)
        if token is not None:
            headers['X-Auth-Token'] = token
        if service is not None:
            service_token = self.keystone.token(service)
        if service_token is not None:
            headers['X-Service-Token'] = service_token
        return headers

    def call(self, method, path, status, body=None, version=None, **who):
        headers = self.headers(**who)
        if version is not None:
            headers['OpenStack-API-Version'] = 'accelerator ' + version
        response = requests.request(method, self.url + path, json=body,
                                    headers=headers, timeout=30)
        assert response.status_code == status, (
            method, path, who, response.status_code, response.text)
        return response


def start_all_in_one(directory, keystone, **authtoken):
    return processes.all_in_one(
        directory, HOST, api={'auth_strategy': 'keystone'},
        keystone_authtoken=keystone.authtoken_options(**authtoken))


@pytest.fixture(scope='module')
def api(keystone, tmp_path_factory):
    with start_all_in_one(tmp_path_factory.mktemp('cyborg'),
                          keystone) as (_, url):
        yield Api(url, keystone)


@pytest.fixture(scope='module')
def rp_uuid(api):
    """The resource provider of the fake deployable the agent reported."""
    name = HOST + '_FakeDevice'

    def reported():
        deployables = api.call('GET', '/v2/deployables', 200,
                               persona='admin').json()['deployables']
        return next((d['rp_uuid'] for d in deployables
                     if d['name'] == name), None)
    return processes.wait_until(reported, message='fake deployable listed')


def create_profile(api):
    api.call('POST', '/v2/device_profiles', 201, persona='admin',
             body=[{'name': PROFILE, 'groups': [{'resources:FPGA': '1'}]}])
    return PROFILE


@pytest.fixture(scope='module')
def profile(api):
    return create_profile(api)


def new_arq(api, profile, persona='member'):
    return api.call('POST', ARQS, 201, persona=persona,
                    body={'device_profile_name': profile}).json()['arqs'][0]


def state(api, arq):
    return api.call('GET', '%s/%s' % (ARQS, arq['uuid']), 200,
                    persona='member').json()['state']


def test_version_discovery_needs_no_token(api):
    assert api.call('GET', '/', 200).json()['versions']


def test_no_token_is_401_pointing_at_keystone(api):
    response = api.call('GET', ARQS, 401)
    assert response.headers['WWW-Authenticate'] == (
        'Keystone uri="%s"' % api.keystone.auth_url)


def test_a_token_keystone_did_not_issue_is_401(api):
    api.call('GET', ARQS, 401, token='gAAAAAB' + uuid.uuid4().hex * 3)


def test_a_token_revoked_in_keystone_is_401(api):
    token = api.keystone.token('member')
    admin = api.keystone.session('admin')
    revoked = admin.delete(api.keystone.auth_url + '/auth/tokens',
                           headers={'X-Subject-Token': token},
                           raise_exc=False)
    assert revoked.status_code == 204, revoked.text
    api.call('GET', ARQS, 401, token=token)


def test_a_member_creates_arqs_in_its_own_project(api, profile):
    arq = new_arq(api, profile)

    assert arq['project_id'] == api.keystone.project_ids[PROJECT_A]
    assert arq['state'] == 'Initial'
    listed = api.call('GET', ARQS, 200, persona='reader').json()['arqs']
    assert arq['uuid'] in {a['uuid'] for a in listed}
    api.call('POST', ARQS, 403, persona='reader',
             body={'device_profile_name': profile})
    # Project B's member does not even learn that the ARQ exists.
    api.call('GET', '%s/%s' % (ARQS, arq['uuid']), 404, persona='other')


def test_user_tokens_alone_cannot_bind_unbind_or_delete_by_instance(
        api, profile, rp_uuid):
    arq = new_arq(api, profile)
    instance = str(uuid.uuid4())
    # The nova user's own token holds the service role, but as a user
    # token: only a service token makes a caller a service.
    for persona in ('member', 'admin', 'nova'):
        api.call('PATCH', ARQS, 403, persona=persona,
                 body=bind_patch([arq], HOST, rp_uuid, instance))
        api.call('PATCH', ARQS, 403, persona=persona,
                 body=unbind_patch([arq]))
        api.call('DELETE', ARQS + '?instance=' + instance, 403,
                 persona=persona)
    assert state(api, arq) == 'Initial'


def test_nova_service_token_binds_unbinds_and_deletes_by_instance(
        api, profile, rp_uuid):
    arq = new_arq(api, profile)
    instance = str(uuid.uuid4())
    nova = {'persona': 'member', 'service': 'nova'}

    api.call('PATCH', ARQS, 202,
             body=bind_patch([arq], HOST, rp_uuid, instance), **nova)
    processes.wait_until(lambda: state(api, arq) == 'Bound',
                         message='ARQ bound')
    api.call('PATCH', ARQS, 202, body=unbind_patch([arq]), **nova)
    assert state(api, arq) == 'Unbound'
    api.call('PATCH', ARQS, 202,
             body=bind_patch([arq], HOST, rp_uuid, instance), **nova)
    api.call('DELETE', ARQS + '?instance=' + instance, 204, **nova)

    api.call('GET', '%s/%s' % (ARQS, arq['uuid']), 404, persona='member')


def test_nova_on_its_own_credentials_reads_device_profiles(api, profile):
    # As nova does when no user token is at hand: the service user's token
    # is both the user and the service token. Profiles are like flavors.
    nova = {'persona': 'nova', 'service': 'nova'}
    listed = api.call('GET', '/v2/device_profiles', 200, **nova).json()
    assert profile in [p['name'] for p in listed['device_profiles']]
    api.call('GET', '/v2/device_profiles/' + profile, 200, version='2.2',
             **nova)
    # A service role on the user token alone is no service.
    api.call('GET', '/v2/device_profiles', 403, persona='nova')


@pytest.mark.parametrize('service', ['admin', 'member'])
def test_a_service_token_without_a_service_role_is_refused(
        api, profile, rp_uuid, service):
    arq = new_arq(api, profile)
    instance = str(uuid.uuid4())
    # keystonemiddleware (service_token_roles_required) refuses the whole
    # request.
    api.call('PATCH', ARQS, 401, persona='member', service=service,
             body=bind_patch([arq], HOST, rp_uuid, instance))
    api.call('DELETE', ARQS + '?instance=' + instance, 401,
             persona='member', service=service)
    assert state(api, arq) == 'Initial'


def test_without_service_token_roles_required_the_api_checks_the_roles(
        rp_uuid, keystone, tmp_path):
    # Here keystonemiddleware passes any valid service token on, with its
    # roles in X-Service-Roles: the API itself must refuse one that holds
    # no role of service_token_roles.
    with start_all_in_one(tmp_path, keystone,
                          service_token_roles_required='false') as (_, url):
        lenient = Api(url, keystone)
        arq = new_arq(lenient, create_profile(lenient))
        instance = str(uuid.uuid4())
        for service in ('admin', 'member'):
            lenient.call('PATCH', ARQS, 403, persona='member',
                         service=service,
                         body=bind_patch([arq], HOST, rp_uuid, instance))
            lenient.call('DELETE', ARQS + '?instance=' + instance, 403,
                         persona='member', service=service)
        lenient.call('DELETE', ARQS + '?instance=' + instance, 204,
                     persona='member', service='nova')
        assert state(lenient, arq) == 'Initial'


def test_admins_write_hardware_records_members_cannot(api, rp_uuid):
    name = 'profile-' + uuid.uuid4().hex[:8]
    body = [{'name': name, 'groups': [{'resources:FPGA': '1'}]}]
    for persona in ('member', 'manager', 'nova'):
        api.call('POST', '/v2/device_profiles', 403, persona=persona,
                 body=body)
    api.call('POST', '/v2/device_profiles', 201, persona='admin', body=body)
    api.call('DELETE', '/v2/device_profiles?value=' + name, 403,
             persona='member')
    api.call('DELETE', '/v2/device_profiles?value=' + name, 204,
             persona='admin')

    devices = api.call('GET', '/v2/devices?hostname=' + HOST, 200,
                       persona='admin').json()['devices']
    device = '/v2/devices/%s' % devices[0]['uuid']
    api.call('POST', device + '/disable', 403, persona='member')
    api.call('POST', device + '/disable', 200, persona='admin')
    # Devices show their status from microversion 2.3.
    assert api.call('GET', device, 200, persona='admin',
                    version='2.3').json()['status'] == 'maintaining'
    api.call('POST', device + '/enable', 403, persona='manager')
    api.call('POST', device + '/enable', 200, persona='admin')
    assert api.call('GET', device, 200, persona='admin',
                    version='2.3').json()['status'] == 'enabled'


def test_a_user_without_roles_gets_a_token_but_no_access(api, profile):
    api.call('GET', '/v2/device_profiles', 403, persona='no-roles')
    api.call('GET', ARQS, 403, persona='no-roles')
    api.call('POST', ARQS, 403, persona='no-roles',
             body={'device_profile_name': profile})
