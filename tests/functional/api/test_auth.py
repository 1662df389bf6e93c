"""Authentication in-process: keystonemiddleware through its own
AuthTokenFixture (which replaces only the token lookup) and the noauth
laptop mode.

These are the fast checks; tests/functional/test_keystone.py proves the
same rules with a real Keystone and real tokens.
"""

import json
import uuid

from keystonemiddleware import fixture as ksm_fixture
import pytest
import webtest

from cyborg_clone.api import app as api_app
from cyborg_clone.api import auth
from cyborg_clone.common import context
from tests.conftest import Api
from tests.conftest import error_of

INSTANCE_QUERY = ('/v2/accelerator_requests?instance='
                  '506220bc-18f2-4294-9b29-80267a021dc0')
PROFILE = [{'name': 'dp', 'groups': [{'resources:FPGA': '1'}]}]


@pytest.fixture
def authtoken(conf, conductor):
    """Call with ``[keystone_authtoken]`` overrides; returns (tokens, api)
    for an app behind keystonemiddleware."""
    tokens = ksm_fixture.AuthTokenFixture()
    tokens.setUp()

    def make(**overrides):
        conf.set_override('auth_strategy', 'keystone', group='api')
        auth.register_opts(conf)
        # A real deployment sets it; without it the middleware asks
        # Keystone's catalog for it.
        conf.set_override('www_authenticate_uri',
                          'http://127.0.0.1:5000/v3',
                          group='keystone_authtoken')
        for name, value in overrides.items():
            conf.set_override(name, value, group='keystone_authtoken')
        app = api_app.setup_app(conf, conductor_api=conductor)
        # keystonemiddleware leaves None values in the environ, which
        # webtest's WSGI linter rejects; real servers do not care.
        return tokens, Api(webtest.TestApp(app, lint=False))
    try:
        yield make
    finally:
        tokens.cleanUp()


@pytest.fixture
def keystone(authtoken):
    return authtoken()


def token(tokens, project, *roles):
    token_id = uuid.uuid4().hex
    tokens.add_token_data(token_id=token_id, user_id='u-' + project,
                          project_id=project, role_list=list(roles))
    return token_id


def delete_by_instance(api, user, service, status):
    """Delete an instance's ARQs as nova does: the user's token with a
    service token beside it."""
    api.delete(INSTANCE_QUERY, headers={'X-Auth-Token': user,
                                        'X-Service-Token': service},
               status=status)


def test_version_discovery_needs_no_token(keystone):
    _, api = keystone
    assert api.get('/', status=200).json['versions']
    assert api.get('/v2', status=200).json['id'] == 'v2.0'


def test_no_token_is_401_in_the_wire_format(keystone):
    _, api = keystone
    response = api.get('/v2/device_profiles', status=401)
    assert error_of(response)
    assert response.headers['WWW-Authenticate'] == (
        'Keystone uri="http://127.0.0.1:5000/v3"')


def test_invalid_token_is_401(keystone):
    _, api = keystone
    api.get('/v2/device_profiles', headers={'X-Auth-Token': 'nope'},
            status=401)


def test_token_roles_and_project_reach_policy(keystone):
    tokens, api = keystone
    member = {'X-Auth-Token': token(tokens, 'p1', 'member', 'reader')}
    admin = {'X-Auth-Token': token(tokens, 'admin-project', 'admin',
                                   'member', 'reader')}
    api.post('/v2/device_profiles', PROFILE, headers=member, status=403)
    api.post('/v2/device_profiles', PROFILE, headers=admin, status=201)
    arqs = api.post('/v2/accelerator_requests',
                    {'device_profile_name': 'dp'}, headers=member,
                    status=201).json['arqs']
    assert arqs[0]['project_id'] == 'p1'


def test_service_token_makes_the_caller_a_service(keystone):
    tokens, api = keystone
    user = token(tokens, 'p1', 'member', 'reader')
    service = token(tokens, 'service', 'service')
    api.delete(INSTANCE_QUERY, headers={'X-Auth-Token': user}, status=403)
    delete_by_instance(api, user, service, 204)


def test_a_service_role_on_the_user_token_is_not_a_service(keystone):
    tokens, api = keystone
    nova_alone = {'X-Auth-Token': token(tokens, 'service', 'service')}
    api.delete(INSTANCE_QUERY, headers=nova_alone, status=403)
    api.patch('/v2/accelerator_requests', {}, headers=nova_alone,
              status=403)


def test_a_service_token_without_a_service_role_is_401(keystone):
    tokens, api = keystone
    user = token(tokens, 'p1', 'member', 'reader')
    not_a_service = token(tokens, 'admin-project', 'admin', 'member')
    delete_by_instance(api, user, not_a_service, 401)


def test_service_token_roles_come_from_the_authtoken_section(authtoken):
    tokens, api = authtoken(service_token_roles=['accelerator-service'])
    user = token(tokens, 'p1', 'member', 'reader')
    usual = token(tokens, 'service', 'service')
    configured = token(tokens, 'service', 'accelerator-service')
    delete_by_instance(api, user, usual, 401)
    delete_by_instance(api, user, configured, 204)


def test_the_api_checks_service_roles_when_the_middleware_does_not(
        authtoken):
    # With service_token_roles_required off, keystonemiddleware passes any
    # valid service token on; its roles still have to be service roles.
    tokens, api = authtoken(service_token_roles_required=False)
    user = token(tokens, 'p1', 'member', 'reader')
    not_a_service = token(tokens, 'admin-project', 'admin', 'member')
    service = token(tokens, 'service', 'service')
    delete_by_instance(api, user, not_a_service, 403)
    delete_by_instance(api, user, service, 204)


def test_noauth_without_headers_is_an_administrator(api):
    api.post('/v2/device_profiles', PROFILE, status=201)
    api.delete(INSTANCE_QUERY, status=204)


def test_noauth_headers_are_taken_as_given(api):
    reader = {'X-User-Id': 'u', 'X-Project-Id': 'p', 'X-Roles': 'reader'}
    assert api.get('/v2/device_profiles', headers=reader,
                   status=200).json == {'device_profiles': []}
    response = api.post('/v2/device_profiles', PROFILE, headers=reader,
                        status=403)
    assert 'cyborg:device_profile:create' in json.loads(
        response.json['error_message'])['faultstring']


def test_noauth_service_roles_header_plays_the_service_token(api):
    member = {'X-User-Id': 'u', 'X-Project-Id': 'p', 'X-Roles': 'member'}
    api.delete(INSTANCE_QUERY, headers=dict(member, **{
        'X-Roles': 'member,service'}), status=403)
    api.delete(INSTANCE_QUERY, headers=dict(member, **{
        'X-Service-Roles': 'member'}), status=403)
    api.delete(INSTANCE_QUERY, headers=dict(member, **{
        'X-Service-Roles': 'service'}), status=204)


def test_noauth_follows_the_configured_service_token_roles(conf,
                                                           conductor):
    auth.register_opts(conf)
    conf.set_override('service_token_roles', ['accelerator-service'],
                      group='keystone_authtoken')
    api = Api(webtest.TestApp(api_app.setup_app(conf,
                                                conductor_api=conductor)))
    member = {'X-User-Id': 'u', 'X-Project-Id': 'p', 'X-Roles': 'member'}
    api.delete(INSTANCE_QUERY, headers=dict(member, **{
        'X-Service-Roles': 'service'}), status=403)
    api.delete(INSTANCE_QUERY, headers=dict(member, **{
        'X-Service-Roles': 'accelerator-service'}), status=204)
    # The header-less administrator still holds a service token.
    api.delete(INSTANCE_QUERY, status=204)


def test_the_service_verdict_survives_rpc_serialisation():
    environ = {'HTTP_X_USER_ID': 'u', 'HTTP_X_PROJECT_ID': 'p',
               'HTTP_X_ROLES': 'member',
               'HTTP_X_SERVICE_ROLES': 'accelerator-service'}
    caller = context.RequestContext.from_environ(
        environ, service_token_roles=('accelerator-service',))
    assert caller.is_service
    assert context.RequestContext.from_dict(caller.to_dict()).is_service
    assert not context.RequestContext.from_environ(environ).is_service
