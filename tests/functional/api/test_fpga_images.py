"""The FPGA image API's HTTP surface against the real app and database;
the conductor is recorded (builds are covered by
tests/functional/test_fpga_image_build.py)."""

import json

from keystonemiddleware import opts as ksm_opts
import pytest
import webtest

from cyborg_clone.api import app as api_app
from cyborg_clone.objects import fpga_image
from tests.conftest import Api
from tests.conftest import row_count

MEMBER = {'X-User-Id': 'u1', 'X-Project-Id': 'p1', 'X-Roles': 'member'}
READER = {'X-User-Id': 'u3', 'X-Project-Id': 'p1', 'X-Roles': 'reader'}
OTHER = {'X-User-Id': 'u2', 'X-Project-Id': 'p2', 'X-Roles': 'member'}
ADMIN = {'X-User-Id': 'a', 'X-Project-Id': 'ops', 'X-Roles': 'admin'}
BUILD = '/v2/p1/cloudservers/fpga_image'
IMAGES = '/v1/p1/cloudservers/fpga_image'
VM = '0c1a2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b'
SEED_REQUEST = {'fpga_image': {
    'dcp_location': 'obs-fpga:vu9p/fpga-vu9p-dcp.tar',
    'log_directory': 'vu9p/log', 'name': 'fpga-image-test',
    'description': 'fpga description'}}


def error(response):
    """The family's error, checking its wire format."""
    assert response.content_type == 'application/json'
    assert set(response.json) == {'error'}
    assert set(response.json['error']) == {'code', 'message'}
    return response.json['error']


def create(api, **fields):
    body = {'fpga_image': dict(SEED_REQUEST['fpga_image'], **fields)}
    return api.post(BUILD, body, headers=MEMBER)


def registered(api, name='reg'):
    """An active registered image (the conductor's save is simulated)."""
    response = api.post(IMAGES, {'fpga_image': {
        'location': 'obs-fpga:images/%s.xclbin' % name, 'name': name,
        'metadata': {'chip': 'vu9p'}}}, headers=MEMBER, status=200)
    image_id = response.json['fpga_image']['id']
    assert fpga_image.FpgaImage.transition(image_id, 'activate')
    return image_id


def test_create_answers_the_seed_shape_and_casts_the_build(api, conductor):
    response = api.post(BUILD, SEED_REQUEST, headers=MEMBER, status=200)
    body = response.json
    assert set(body) == {'fpga_image'}
    assert body['fpga_image']['status'] == 'initialling'
    image_id = body['fpga_image']['id']
    assert len(image_id) == 32 and image_id == image_id.lower()
    int(image_id, 16)
    assert conductor.calls == [('build_fpga_image', {'image_id': image_id})]
    assert 'OpenStack-API-Version' not in response.headers


def test_second_build_in_a_project_is_refused_and_creates_nothing(
        api, conductor):
    first = create(api).json['fpga_image']['id']
    response = create(api, name='second')
    assert response.status_int == 409
    assert error(response)['code'] == 'FPGA.1001'
    assert first in error(response)['message']
    assert row_count('fpga_images') == 1
    other = api.post('/v2/p2/cloudservers/fpga_image', SEED_REQUEST,
                     headers=OTHER, status=200)
    assert other.json['fpga_image']['status'] == 'initialling'


@pytest.mark.parametrize('field, value', [
    ('name', ''), ('name', 'x' * 65), ('name', 'bad name'),
    ('name', 'bad.name'), ('name', 5),
    ('description', 'd' * 256), ('description', 'semi;colon'),
    ('description', 'new\nline'),
    ('dcp_location', 'no-colon.tar'), ('dcp_location', 'a:b:c.tar'),
    ('dcp_location', 'ab:vu9p/x.tar'), ('dcp_location', 'Obs:vu9p/x.tar'),
    ('dcp_location', '-obs:vu9p/x.tar'), ('dcp_location', 'obs-:x/y.tar'),
    ('dcp_location', 'o..bs:vu9p/x.tar'), ('dcp_location', 'o.-bs:x.tar'),
    ('dcp_location', '192.168.1.10:vu9p/x.tar'),
    ('dcp_location', 'obs-fpga:vu9p/x.zip'),
    ('dcp_location', 'obs-fpga:/abs/x.tar'),
    ('dcp_location', 'obs-fpga:../x.tar'),
    ('dcp_location', 'obs-fpga:a/../x.tar'),
    ('dcp_location', 'obs-fpga:a//x.tar'),
    ('dcp_location', 'obs-fpga:.hidden/x.tar'),
    ('dcp_location', 'obs-fpga:a b.tar'),
    ('dcp_location', 'obs-fpga:' + 'a' * 126 + '.tar'),
    ('dcp_location', 'obs-fpga:.tar'),
    ('log_directory', '/vu9p/log'), ('log_directory', 'vu9p/log/'),
    ('log_directory', 'vu9p/../log'), ('log_directory', 'a' * 65),
    ('log_directory', 'vu9p//log'), ('log_directory', 5),
])
def test_invalid_fields_are_400_naming_the_field(api, conductor, field,
                                                  value):
    response = create(api, **{field: value})
    assert response.status_int == 400, response.text
    assert error(response)['code'] == 'FPGA.0400'
    assert field in error(response)['message']
    assert row_count('fpga_images') == 0
    assert conductor.calls == []


@pytest.mark.parametrize('body, needle', [
    ({}, 'fpga_image'), ({'fpga_image': 'x'}, 'fpga_image must be'),
    ({'fpga_image': {'name': 'x'}}, 'dcp_location'),
    ({'fpga_image': {'dcp_location': 'obs-fpga:a/x.tar'}}, 'name'),
    ({'fpga_image': dict(SEED_REQUEST['fpga_image'], extra=1)}, 'extra'),
    ([], 'JSON object'),
])
def test_malformed_bodies_are_400(api, body, needle):
    response = api.post(BUILD, body, headers=MEMBER, status=400)
    assert needle in error(response)['message']


def test_not_json_is_400(api):
    response = api.post(BUILD, raw='{"fpga_image": ', headers=MEMBER,
                        status=400)
    assert 'JSON' in error(response)['message']


def test_a_chunked_body_the_server_cannot_end_is_411(api, conductor):
    response = api.post_chunked(BUILD, SEED_REQUEST, headers=MEMBER,
                                terminated=False)
    assert response.status_int == 411
    assert error(response)['code'] == 'FPGA.0411'
    assert 'Content-Length' in error(response)['message']
    assert conductor.calls == []


def test_description_allows_cjk_and_log_directory_defaults(api):
    image_id = create(api, description='加速 镜像。说明，v1.0',
                      log_directory='').json['fpga_image']['id']
    [item] = api.get(IMAGES + '/detail', headers=MEMBER,
                     status=200).json['fpgaimages']
    assert item['id'] == image_id
    assert item['log_directory'] == 'obs-fpga:vu9p'


def test_detail_items_have_every_documented_field(api):
    create(api)
    listed = api.get(IMAGES + '/detail', headers=MEMBER, status=200).json
    assert listed['count'] == 1
    [item] = listed['fpgaimages']
    assert set(item) == {'id', 'name', 'description', 'status', 'size',
                         'createdAt', 'protected', 'message', 'metadata',
                         'log_directory'}
    assert item['protected'] is False
    assert item['log_directory'] == 'obs-fpga:vu9p/log'
    assert len(item['createdAt']) == len('2026-11-21 15:56:16')


def test_detail_paging(api):
    ids = [registered(api, 'r%d' % i) for i in range(5)]
    page = api.get(IMAGES + '/detail?page=2&size=2', headers=MEMBER,
                   status=200).json
    assert page['count'] == 5
    assert [i['id'] for i in page['fpgaimages']] == list(reversed(ids))[2:4]
    # Registered images were not built, so they have no build log.
    assert {i['log_directory'] for i in page['fpgaimages']} == {None}
    one = api.get(IMAGES + '/detail?fpga_image_id=%s&page=9&size=1'
                  % ids[0], headers=MEMBER, status=200).json
    assert [i['id'] for i in one['fpgaimages']] == [ids[0]]


@pytest.mark.parametrize('query', [
    'page=1', 'size=1', 'page=0&size=1', 'page=65535&size=1',
    'page=1&size=0', 'page=1&size=101', 'page=a&size=1', 'page=-1&size=1',
    'page=1.5&size=1', 'fpga_image_id=XYZ', 'other=1'])
def test_bad_detail_queries_are_400(api, query):
    response = api.get(IMAGES + '/detail?' + query, headers=MEMBER,
                       status=400)
    assert error(response)['code'] == 'FPGA.0400'


def test_images_of_other_projects_are_invisible(api):
    image_id = create(api).json['fpga_image']['id']
    assert api.get('/v1/p2/cloudservers/fpga_image/detail', headers=OTHER,
                   status=200).json == {'count': 0, 'fpgaimages': []}
    response = api.get('/v1/p2/cloudservers/fpga_image/detail?'
                       'fpga_image_id=' + image_id, headers=OTHER,
                       status=404)
    assert error(response)['code'] == 'FPGA.0404'


def test_the_path_project_must_be_the_callers(api):
    response = api.get(IMAGES + '/detail', headers=OTHER, status=403)
    assert error(response)['code'] == 'FPGA.0403'
    api.post(BUILD, SEED_REQUEST, headers=OTHER, status=403)
    api.get(IMAGES + '/detail', headers=ADMIN, status=200)
    api.get(IMAGES + '/detail', headers=READER, status=200)
    api.post(BUILD, SEED_REQUEST, headers=READER, status=403)


def test_register_records_saving_and_casts(api, conductor):
    response = api.post(IMAGES, {'fpga_image': {
        'location': 'obs-fpga:images/fir.xclbin', 'name': 'fir',
        'metadata': {'shell_id': '0x1'}, 'description': 'registered'}},
        headers=MEMBER, status=200)
    image = response.json['fpga_image']
    assert image['status'] == 'saving'
    assert conductor.calls == [('save_fpga_image',
                                {'image_id': image['id']})]


@pytest.mark.parametrize('fields', [
    {'location': 'obs-fpga:images/fir.tar', 'name': 'x'},
    {'location': 'obs-fpga:images/fir.bin', 'name': 'x', 'metadata': []},
    {'location': 'obs-fpga:images/fir.bin', 'name': 'x',
     'metadata': {'k': 1}},
    {'location': 'obs-fpga:images/fir.bin'},
])
def test_bad_registrations_are_400(api, fields):
    api.post(IMAGES, {'fpga_image': fields}, headers=MEMBER, status=400)
    assert row_count('fpga_images') == 0


def test_delete(api, conductor):
    image_id = registered(api)
    api.delete(IMAGES + '/' + image_id, headers=MEMBER, status=204)
    assert conductor.calls[-1] == ('delete_fpga_image',
                                   {'image_id': image_id})
    [item] = api.get(IMAGES + '/detail', headers=MEMBER,
                     status=200).json['fpgaimages']
    assert item['status'] == 'deleting'
    response = api.delete(IMAGES + '/' + image_id, headers=MEMBER,
                          status=409)
    assert error(response)['code'] == 'FPGA.1003'


def test_delete_errors(api):
    building = create(api).json['fpga_image']['id']
    assert error(api.delete(IMAGES + '/' + building, headers=MEMBER,
                            status=409))['code'] == 'FPGA.1003'
    assert error(api.delete(IMAGES + '/' + '0' * 32, headers=MEMBER,
                            status=404))['code'] == 'FPGA.0404'
    assert error(api.delete(IMAGES + '/not-an-id', headers=MEMBER,
                            status=400))['code'] == 'FPGA.0400'
    assert error(api.delete(IMAGES + '/' + '0' * 32 + '%0A', headers=MEMBER,
                            status=400))['code'] == 'FPGA.0400'
    api.delete('/v1/p2/cloudservers/fpga_image/' + building, headers=OTHER,
               status=404)


def associate(api, image_id, vm=VM, method='POST', status=204):
    return api.request(method, '%s/%s/association' % (IMAGES, image_id),
                       body={'image': {'id': vm}}, headers=MEMBER,
                       status=status)


def test_association_lifecycle_and_protection(api):
    image_id = registered(api)
    associate(api, image_id)
    [item] = api.get(IMAGES + '/detail', headers=MEMBER,
                     status=200).json['fpgaimages']
    assert item['protected'] is True
    response = api.delete(IMAGES + '/' + image_id, headers=MEMBER,
                          status=409)
    assert error(response)['code'] == 'FPGA.1002'
    assert error(associate(api, image_id, status=409))['code'] == (
        'FPGA.1004')
    found = api.get(IMAGES + '/associations?image_id=' + VM,
                    headers=MEMBER, status=200).json
    assert [a['image_id'] for a in found['associations']] == [VM]
    assert [i['id'] for i in found['associations'][0]['fpgaimages']] == [
        image_id]
    associate(api, image_id, method='DELETE')
    assert error(associate(api, image_id, method='DELETE',
                           status=404))['code'] == 'FPGA.1006'
    api.delete(IMAGES + '/' + image_id, headers=MEMBER, status=204)


def test_at_most_ten_fpga_images_per_vm_image(api):
    images = [registered(api, 'r%d' % i) for i in range(11)]
    for image_id in images[:10]:
        associate(api, image_id)
    assert error(associate(api, images[10], status=409))['code'] == (
        'FPGA.1005')


def test_association_queries(api):
    first, second = registered(api, 'a'), registered(api, 'b')
    other_vm = '9f1a2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b'
    associate(api, first)
    associate(api, second)
    associate(api, first, vm=other_vm)
    assert api.get(IMAGES + '/associations', headers=MEMBER,
                   status=200).json == {'associations': []}
    by_fpga = api.get(IMAGES + '/associations?fpga_image_id=' + first,
                      headers=MEMBER, status=200).json['associations']
    assert sorted(a['image_id'] for a in by_fpga) == sorted([VM, other_vm])
    assert all([i['id'] for i in a['fpgaimages']] == [first]
               for a in by_fpga)
    paged = api.get(IMAGES + '/associations?fpga_image_id=%s&page=1&size=1'
                    % first, headers=MEMBER, status=200).json
    assert len(paged['associations']) == 1
    api.get(IMAGES + '/associations?fpga_image_id=' + '0' * 32,
            headers=MEMBER, status=404)
    api.get(IMAGES + '/associations?image_id=not-a-uuid', headers=MEMBER,
            status=400)


@pytest.mark.parametrize('body', [
    {}, {'image': {}}, {'image': {'id': 'x'}}, {'image': 'x'},
    {'image': {'id': VM, 'extra': 1}}])
def test_bad_association_bodies_are_400(api, body):
    image_id = registered(api)
    response = api.request('POST', '%s/%s/association' % (IMAGES, image_id),
                           body=body, headers=MEMBER, status=400)
    assert error(response)['code'] == 'FPGA.0400'


def test_building_images_cannot_be_associated(api):
    image_id = create(api).json['fpga_image']['id']
    assert error(associate(api, image_id, status=409))['code'] == (
        'FPGA.1003')


def test_router_and_method_errors_use_the_family_format(api):
    assert error(api.get(BUILD, headers=MEMBER, status=405))['code'] == (
        'FPGA.0405')
    assert error(api.get(IMAGES + '/x/y/z', headers=MEMBER,
                         status=404))['code'] == 'FPGA.0404'


def test_no_token_is_401_in_the_family_format(conf, conductor):
    for group, opts in ksm_opts.list_auth_token_opts():
        conf.register_opts(opts, group=group)
    conf.set_override('www_authenticate_uri', 'http://127.0.0.1:5000/v3',
                      group='keystone_authtoken')
    conf.set_override('auth_strategy', 'keystone', group='api')
    api = Api(webtest.TestApp(api_app.setup_app(conf,
                                                conductor_api=conductor),
                              lint=False))
    response = api.get(IMAGES + '/detail', status=401)
    assert error(response)['code'] == 'FPGA.0401'
    assert json.loads(response.text)['error']['message']
