"""Version discovery, microversion negotiation and the error format."""

import pytest
import webtest

from cyborg_clone.api import app as api_app
from cyborg_clone.api import microversion
from tests.conftest import Api
from tests.conftest import error_of


def test_root_document(api):
    doc = api.get('/', status=200).json
    version = {'id': 'v2', 'status': 'CURRENT', 'min_version': '2.0',
               'max_version': '2.4',
               'links': [{'href': 'http://localhost/v2', 'rel': 'self'}]}
    assert doc['versions'] == [version]
    assert doc['default_version'] == version
    assert doc['name'] and doc['description']


@pytest.mark.parametrize('path', ['/v2', '/v2/'])
def test_v2_document_and_headers(api, path):
    response = api.get(path, status=200)
    assert response.json['id'] == 'v2.0'
    assert response.json['max_version'] == '2.4'
    assert response.headers['OpenStack-API-Minimum-Version'] == '2.0'
    assert response.headers['OpenStack-API-Maximum-Version'] == '2.4'
    assert response.headers['Vary'] == 'OpenStack-API-Version'
    assert response.headers['OpenStack-API-Version'] == 'accelerator 2.0'


@pytest.mark.parametrize('asked, answered', [
    ('2.1', '2.1'), ('2.3', '2.3'), ('2.4', '2.4'), ('latest', '2.4'),
    ('LATEST', '2.4')])
def test_valid_versions(api, asked, answered):
    response = api.get('/v2', version=asked, status=200)
    assert response.headers['OpenStack-API-Version'] == (
        'accelerator ' + answered)


@pytest.mark.parametrize('asked', ['2.99', '1.0', '3.0'])
def test_unsupported_versions_are_406_with_headers(api, asked):
    response = api.get('/v2/device_profiles', version=asked, status=406)
    assert asked in error_of(response)
    assert response.headers['OpenStack-API-Maximum-Version'] == '2.4'
    assert 'OpenStack-API-Version' not in response.headers


@pytest.mark.parametrize('header', [
    'accelerator two', 'accelerator 2', 'accelerator 2.1 extra',
    'accelerator', 'compute 2.1, accelerator 2.x'])
def test_unparseable_version_headers_are_400(api, header):
    response = api.get('/v2/device_profiles', status=400,
                       headers={'OpenStack-API-Version': header})
    assert 'is not of the form' in error_of(response)
    assert 'OpenStack-API-Version' not in response.headers


def test_header_for_another_service_means_default(api):
    response = api.get('/v2', headers={'OpenStack-API-Version':
                                       'compute 2.90'}, status=200)
    assert response.headers['OpenStack-API-Version'] == 'accelerator 2.0'


def test_versions_list_is_ordered_and_complete():
    parsed = [microversion.Version(v) for v in microversion.VERSIONS]
    assert parsed == sorted(parsed)
    assert [str(v) for v in parsed] == ['2.0', '2.1', '2.2', '2.3',
                                      '2.4']


def test_unknown_path_is_404_in_wire_format(api):
    assert error_of(api.get('/v2/nothing', status=404))
    assert error_of(api.get('/nothing', status=404))


def test_wrong_method_is_405_in_wire_format(api):
    response = api.request('PUT', '/v2/device_profiles', body={},
                           status=405)
    assert error_of(response)


def test_links_follow_the_script_name(conf, conductor):
    app = webtest.TestApp(api_app.setup_app(conf, conductor_api=conductor),
                          extra_environ={'SCRIPT_NAME': '/accelerator'})
    doc = Api(app).get('/accelerator/', status=200).json
    assert doc['versions'][0]['links'][0]['href'] == (
        'http://localhost/accelerator/v2')


def test_links_follow_public_endpoint(conf, conductor):
    conf.set_override('public_endpoint', 'https://cloud.example/accel/',
                      group='api')
    app = Api(webtest.TestApp(api_app.setup_app(conf,
                                                conductor_api=conductor)))
    doc = app.get('/v2', status=200).json
    assert doc['links'][0]['href'] == 'https://cloud.example/accel/v2'
