"""Authentication: keystonemiddleware (through its own AuthTokenFixture,
which replaces only the token lookup) and the noauth laptop mode."""

import json
import uuid

from keystonemiddleware import fixture as ksm_fixture
from keystonemiddleware import opts as ksm_opts
import pytest
import webtest

from cyborg_clone.api import app as api_app
from tests.conftest import Api
from tests.conftest import error_of


@pytest.fixture
def keystone(conf, conductor):
    conf.set_override('auth_strategy', 'keystone', group='api')
    tokens = ksm_fixture.AuthTokenFixture()
    tokens.setUp()
    try:
        # keystonemiddleware leaves None values in the environ, which
        # webtest's WSGI linter rejects; real servers do not care.
        # A real deployment sets it in [keystone_authtoken]; without it
        # the middleware asks Keystone's catalog for it.
        for group, opts in ksm_opts.list_auth_token_opts():
            conf.register_opts(opts, group=group)
        conf.set_override('www_authenticate_uri',
                          'http://127.0.0.1:5000/v3',
                          group='keystone_authtoken')
        app = api_app.setup_app(conf, conductor_api=conductor)
        yield tokens, Api(webtest.TestApp(app, lint=False))
    finally:
        tokens.cleanUp()


def token(tokens, project, *roles):
    token_id = uuid.uuid4().hex
    tokens.add_token_data(token_id=token_id, user_id='u-' + project,
                          project_id=project, role_list=list(roles))
    return token_id


def test_version_discovery_needs_no_token(keystone):
    _, api = keystone
    assert api.get('/', status=200).json['versions']
    assert api.get('/v2', status=200).json['id'] == 'v2.0'


def test_no_token_is_401_in_the_wire_format(keystone):
    _, api = keystone
    response = api.get('/v2/device_profiles', status=401)
    assert error_of(response)
    assert 'WWW-Authenticate' in response.headers


def test_invalid_token_is_401(keystone):
    _, api = keystone
    api.get('/v2/device_profiles', headers={'X-Auth-Token': 'nope'},
            status=401)


def test_token_roles_and_project_reach_policy(keystone):
    tokens, api = keystone
    member = {'X-Auth-Token': token(tokens, 'p1', 'member', 'reader')}
    admin = {'X-Auth-Token': token(tokens, 'admin-project', 'admin',
                                   'member', 'reader')}
    api.post('/v2/device_profiles', [{'name': 'dp', 'groups': [
        {'resources:FPGA': '1'}]}], headers=member, status=403)
    api.post('/v2/device_profiles', [{'name': 'dp', 'groups': [
        {'resources:FPGA': '1'}]}], headers=admin, status=201)
    arqs = api.post('/v2/accelerator_requests',
                    {'device_profile_name': 'dp'}, headers=member,
                    status=201).json['arqs']
    assert arqs[0]['project_id'] == 'p1'


def test_service_token_makes_the_caller_a_service(keystone):
    tokens, api = keystone
    user = token(tokens, 'p1', 'member', 'reader')
    service = token(tokens, 'service', 'service')
    query = '/v2/accelerator_requests?instance=' \
            '506220bc-18f2-4294-9b29-80267a021dc0'
    api.delete(query, headers={'X-Auth-Token': user}, status=403)
    api.delete(query, headers={'X-Auth-Token': user,
                               'X-Service-Token': service}, status=204)


def test_noauth_without_headers_is_an_administrator(api):
    api.post('/v2/device_profiles', [{'name': 'dp', 'groups': [
        {'resources:FPGA': '1'}]}], status=201)
    api.delete('/v2/accelerator_requests?instance='
               '506220bc-18f2-4294-9b29-80267a021dc0', status=204)


def test_noauth_headers_are_taken_as_given(api):
    reader = {'X-User-Id': 'u', 'X-Project-Id': 'p', 'X-Roles': 'reader'}
    assert api.get('/v2/device_profiles', headers=reader,
                   status=200).json == {'device_profiles': []}
    response = api.post('/v2/device_profiles', [{'name': 'dp', 'groups': [
        {'resources:FPGA': '1'}]}], headers=reader, status=403)
    assert 'cyborg:device_profile:create' in json.loads(
        response.json['error_message'])['faultstring']
