"""/v2/device_profiles against the real app and database."""

import pytest

from tests.conftest import error_of
from tests.conftest import row_count

GROUPS = [{'resources:FPGA': '1', 'trait:CUSTOM_FPGA_1': 'required',
           'accel:bitstream_id': 'd5ca2f11-3108-4426-a11c-a959987565df'}]


def create(api, name='dp1', groups=GROUPS, **extra):
    body = dict(name=name, groups=groups, **extra)
    return api.post('/v2/device_profiles', [body], status=201).json


def test_create_returns_the_seed_shape(api):
    profile = create(api, description='my profile')
    assert set(profile) == {'uuid', 'name', 'description', 'groups',
                            'created_at', 'updated_at', 'links'}
    assert profile['groups'] == GROUPS
    assert profile['description'] == 'my profile'
    assert profile['updated_at'] is None
    assert profile['created_at'].endswith('+00:00')
    assert profile['links'] == [{
        'href': 'http://localhost/v2/device_profiles/' + profile['uuid'],
        'rel': 'self'}]


def test_create_accepts_a_bare_object_and_a_given_uuid(api):
    uuid = '1a939c88-0b01-408b-bab0-4c61d3a02d71'
    response = api.post('/v2/device_profiles',
                        {'name': 'bare', 'groups': GROUPS, 'uuid': uuid},
                        status=201)
    assert response.json['uuid'] == uuid


def test_list_and_filter_by_names(api):
    for name in ('a', 'b', 'c'):
        create(api, name=name)
    listed = api.get('/v2/device_profiles', status=200).json
    assert [p['name'] for p in listed['device_profiles']] == ['a', 'b', 'c']
    some = api.get('/v2/device_profiles?name=a,c', status=200).json
    assert [p['name'] for p in some['device_profiles']] == ['a', 'c']


def test_list_pages_with_limit_and_marker(api):
    uuids = [create(api, name='p%d' % i)['uuid'] for i in range(3)]
    first = api.get('/v2/device_profiles?limit=2', status=200).json
    assert [p['uuid'] for p in first['device_profiles']] == uuids[:2]
    assert 'marker=' + uuids[1] in first['next']
    rest = api.get('/v2/device_profiles?limit=2&marker=' + uuids[1],
                   status=200).json
    assert [p['uuid'] for p in rest['device_profiles']] == uuids[2:]
    assert 'next' not in rest


def test_list_costs_one_statement_whatever_the_row_count(
        api, count_statements):
    for i in range(20):
        create(api, name='n%d' % i)
    counter = count_statements()
    api.get('/v2/device_profiles', status=200)
    assert counter.count == 1


def test_get_by_uuid_is_wrapped(api):
    profile = create(api)
    got = api.get('/v2/device_profiles/' + profile['uuid'], status=200).json
    assert got == {'device_profile': profile}


def test_get_by_name_needs_2_2(api):
    profile = create(api)
    response = api.get('/v2/device_profiles/dp1', status=406)
    assert '2.2' in error_of(response)
    got = api.get('/v2/device_profiles/dp1', version='2.2', status=200)
    assert got.json['device_profile']['uuid'] == profile['uuid']
    assert got.headers['OpenStack-API-Version'] == 'accelerator 2.2'


def test_get_unknown_is_404(api):
    response = api.get('/v2/device_profiles/'
                       '5518a925-1c2c-49a2-a8bf-0927d9456f3e', status=404)
    assert '5518a925' in error_of(response)
    api.get('/v2/device_profiles/nope', version='2.2', status=404)


def test_delete_by_uuid_and_by_names(api):
    one = create(api, name='one')
    create(api, name='two')
    create(api, name='three')
    api.delete('/v2/device_profiles/' + one['uuid'], status=204)
    api.delete('/v2/device_profiles?value=two,three', status=204)
    assert row_count('device_profiles') == 0


def test_delete_by_names_is_all_or_nothing(api):
    create(api, name='kept')
    response = api.delete('/v2/device_profiles?value=kept,missing',
                          status=404)
    assert 'missing' in error_of(response)
    assert row_count('device_profiles') == 1


def test_delete_without_target_is_400(api):
    api.delete('/v2/device_profiles', status=400)


def test_duplicate_name_is_409(api):
    create(api)
    response = api.post('/v2/device_profiles',
                        [{'name': 'dp1', 'groups': GROUPS}], status=409)
    assert 'dp1' in error_of(response)
    assert row_count('device_profiles') == 1


def test_duplicate_uuid_is_409(api):
    profile = create(api)
    api.post('/v2/device_profiles', [{'name': 'other', 'groups': GROUPS,
                                      'uuid': profile['uuid']}], status=409)
    assert row_count('device_profiles') == 1


@pytest.mark.parametrize('body, needle', [
    ({'groups': GROUPS}, "'name' is a required property"),
    ({'name': '', 'groups': GROUPS}, 'name'),
    ({'name': 'x' * 256, 'groups': GROUPS}, 'name'),
    ({'name': 'bad name', 'groups': GROUPS}, 'name'),
    ({'name': 'bad/name', 'groups': GROUPS}, 'name'),
    ({'name': 5, 'groups': GROUPS}, 'name'),
    ({'name': 'dp'}, "'groups' is a required property"),
    ({'name': 'dp', 'groups': []}, 'groups'),
    ({'name': 'dp', 'groups': {}}, 'groups'),
    ({'name': 'dp', 'groups': ['x']}, 'each group must be an object'),
    ({'name': 'dp', 'groups': [{}]}, 'at least one resources'),
    ({'name': 'dp', 'groups': [{'trait:CUSTOM_A': 'required'}]},
     'at least one resources'),
    ({'name': 'dp', 'groups': [{'resources:FPGA': '1', 'foo': 'bar'}]},
     'group keys'),
    ({'name': 'dp', 'groups': [{'resources:NOT_A_CLASS': '1'}]},
     'group keys'),
    ({'name': 'dp', 'groups': [{'resources:FPGA': 'one'}]}, 'integer'),
    ({'name': 'dp', 'groups': [{'resources:FPGA': '1.5'}]}, 'integer'),
    ({'name': 'dp', 'groups': [{'resources:FPGA': '0'}]}, 'integer'),
    ({'name': 'dp', 'groups': [{'resources:FPGA': 1}]}, 'integer'),
    ({'name': 'dp', 'groups': [{'resources:FPGA': '1',
                                'trait:CUSTOM_A': 'preferred'}]},
     'required'),
    ({'name': 'dp', 'groups': [{'resources:FPGA': '1',
                                'accel:bitstream_id': 'not-an-image'}]},
     'accel:bitstream_id must be an image id'),
    ({'name': 'dp', 'groups': [{'resources:FPGA': '1',
                                'accel:bitstream_id': 5}]},
     'accel:bitstream_id'),
    ({'name': 'dp', 'groups': GROUPS, 'description': 'd' * 256},
     'description'),
    ({'name': 'dp', 'groups': GROUPS, 'uuid': 'not-a-uuid'}, 'uuid'),
    ({'name': 'dp', 'groups': GROUPS, 'extra': 1}, 'extra'),
    ([], 'non-empty'),
    ([{'name': 'a', 'groups': GROUPS}, {'name': 'b', 'groups': GROUPS}],
     'too long'),
    ('just a string', 'JSON object'),
])
def test_bad_create_is_400_and_writes_nothing(api, body, needle):
    response = api.post('/v2/device_profiles', body, status=400)
    assert needle in error_of(response)
    assert row_count('device_profiles') == 0


def test_malformed_json_is_400(api):
    response = api.post('/v2/device_profiles', raw='{"name": ', status=400)
    assert 'JSON' in error_of(response)


def test_served_without_the_v2_prefix_too(api):
    create(api)
    listed = api.get('/device_profiles', status=200).json
    assert len(listed['device_profiles']) == 1



def test_a_chunked_body_the_server_ends_is_read(api):
    response = api.post_chunked('/v2/device_profiles',
                                [{'name': 'chunked', 'groups': GROUPS}])
    assert response.status_int == 201, response.text
    assert response.json['name'] == 'chunked'


def test_a_chunked_body_the_server_cannot_end_is_411(api):
    # Read as empty, it would be a misleading 400 about a missing body.
    response = api.post_chunked('/v2/device_profiles',
                                [{'name': 'chunked', 'groups': GROUPS}],
                                terminated=False)
    assert response.status_int == 411, response.text
    assert 'Content-Length' in error_of(response)
    assert row_count('device_profiles') == 0


def test_a_non_ascii_description_comes_back_as_given(api):
    created = create(api, name='gpu', description='Grafikkarte für 图')
    raw = api.get('/v2/device_profiles/' + created['uuid'], status=200)
    assert 'für 图'.encode() in raw.body  # UTF-8, not \\u escapes
    assert raw.json['device_profile']['description'] == 'Grafikkarte für 图'
