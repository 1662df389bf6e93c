"""/v2/attributes against the real app, database and fake-driver reports."""

import pytest

from tests.conftest import error_of
from tests.conftest import row_count
from tests.fixtures.hardware import report_fake_host

MEMBER = {'X-Roles': 'member', 'X-Project-Id': 'p1', 'X-User-Id': 'u1'}
MANAGER = {'X-Roles': 'manager', 'X-Project-Id': 'p1', 'X-User-Id': 'u1'}
UNKNOWN = '5518a925-1c2c-49a2-a8bf-0927d9456f3e'
FIELDS = {'uuid', 'id', 'deployable_id', 'key', 'value', 'created_at',
          'updated_at', 'links'}


@pytest.fixture
def dep_id(conf, api):
    """The integer id of the fake host's deployable (with rc, traits1)."""
    report_fake_host(conf)
    derived = api.get('/v2/attributes?key=rc').json['attributes']
    return derived[0]['deployable_id']


def create(api, dep_id, key='owner', value='team-a', **kw):
    return api.post('/v2/attributes', {'deployable_id': dep_id, 'key': key,
                                       'value': value}, **kw)


def test_list_returns_the_seed_shape(api, dep_id):
    listed = api.get('/v2/attributes', status=200).json['attributes']
    assert [(a['key'], a['value']) for a in listed] == [
        ('traits1', 'CUSTOM_FAKE_DEVICE'), ('rc', 'FPGA')]
    rc = listed[1]
    assert set(rc) == FIELDS
    assert rc['deployable_id'] == dep_id
    assert isinstance(rc['id'], int)
    assert rc['updated_at'] is None
    assert rc['links'] == [{
        'href': 'http://localhost/v2/attributes/' + rc['uuid'],
        'rel': 'self'}]


def test_filters(conf, api, dep_id):
    report_fake_host(conf, 'otherhost')

    def pairs(query):
        listed = api.get('/v2/attributes' + query, status=200).json
        return [(a['deployable_id'], a['key'])
                for a in listed['attributes']]

    assert len(pairs('')) == 4
    assert pairs('?deployable_id=%d' % dep_id) == [(dep_id, 'traits1'),
                                                   (dep_id, 'rc')]
    assert pairs('?key=rc&deployable_id=%d' % dep_id) == [(dep_id, 'rc')]
    assert len(pairs('?key=rc')) == 2
    assert pairs('?deployable_id=999') == []


@pytest.mark.parametrize('value', ['abc', '0', '-1', '1.5',
                                   '99999999999999999999999'])
def test_bad_deployable_id_filter_is_400(api, value):
    response = api.get('/v2/attributes?deployable_id=' + value, status=400)
    assert 'deployable_id' in error_of(response)


def test_list_pages_with_limit_and_marker(api, dep_id):
    first = api.get('/v2/attributes?limit=1', status=200).json
    assert [a['key'] for a in first['attributes']] == ['traits1']
    marker = first['attributes'][0]['uuid']
    assert 'marker=' + marker in first['next']
    rest = api.get('/v2/attributes?limit=5&marker=' + marker).json
    assert [a['key'] for a in rest['attributes']] == ['rc']
    assert 'next' not in rest


def test_list_costs_one_statement_whatever_the_row_count(
        conf, api, count_statements):
    for i in range(10):
        report_fake_host(conf, 'host%d' % i)
    counter = count_statements()
    assert len(api.get('/v2/attributes').json['attributes']) == 20
    assert counter.count == 1


def test_get_one_is_bare(api, dep_id):
    created = create(api, dep_id, status=201).json
    got = api.get('/v2/attributes/' + created['uuid'], status=200).json
    assert got == created


def test_get_and_delete_by_integer_id_like_openstacksdk(api, dep_id):
    created = create(api, dep_id, status=201).json
    got = api.get('/v2/attributes/%d' % created['id'], status=200).json
    assert got == created
    api.delete('/v2/attributes/%d' % created['id'], status=204)
    api.get('/v2/attributes/%d' % created['id'], status=404)


def test_get_unknown_is_404_and_malformed_is_400(api):
    response = api.get('/v2/attributes/' + UNKNOWN, status=404)
    assert 'Attribute %s could not be found' % UNKNOWN in error_of(response)
    response = api.get('/v2/attributes/nope', status=400)
    assert 'nope is not a valid UUID' in error_of(response)


def test_create_returns_the_bare_attribute(api, dep_id):
    created = create(api, dep_id, status=201).json
    assert set(created) == FIELDS
    assert (created['deployable_id'], created['key'], created['value']) == (
        dep_id, 'owner', 'team-a')
    assert created['created_at'].endswith('+00:00')
    assert row_count('attributes') == 3


def test_create_accepts_the_openstacksdk_envelope(api, dep_id):
    body = {'attribute': {'deployable_id': dep_id, 'key': 'k',
                          'value': 'v'}}
    created = api.post('/v2/attributes', body, status=201).json
    assert created['key'] == 'k'


def test_create_accepts_the_id_as_a_string_like_the_reference(
        api, dep_id):
    created = create(api, str(dep_id), status=201).json
    assert created['deployable_id'] == dep_id


def test_duplicate_key_on_one_deployable_is_409(api, dep_id):
    response = create(api, dep_id, key='rc', value='PGPU', status=409)
    assert 'rc' in error_of(response)
    assert row_count('attributes') == 2


def test_same_key_on_another_deployable_is_fine(conf, api, dep_id):
    report_fake_host(conf, 'otherhost')
    create(api, dep_id, status=201)
    create(api, dep_id + 1, status=201)


def test_unknown_deployable_is_404(api, dep_id):
    response = create(api, 999, status=404)
    assert 'Deployable 999 could not be found' in error_of(response)
    assert row_count('attributes') == 2


@pytest.mark.parametrize('body, needle', [
    ({'key': 'k', 'value': 'v'}, "'deployable_id' is a required property"),
    ({'deployable_id': 1, 'value': 'v'}, "'key' is a required property"),
    ({'deployable_id': 1, 'key': 'k'}, "'value' is a required property"),
    ({'deployable_id': True, 'key': 'k', 'value': 'v'}, 'deployable_id'),
    ({'deployable_id': None, 'key': 'k', 'value': 'v'}, 'deployable_id'),
    ({'deployable_id': 1.5, 'key': 'k', 'value': 'v'}, 'deployable_id'),
    ({'deployable_id': 0, 'key': 'k', 'value': 'v'}, 'deployable_id'),
    ({'deployable_id': 2 ** 63, 'key': 'k', 'value': 'v'},
     'deployable_id'),
    ({'deployable_id': 'one', 'key': 'k', 'value': 'v'}, 'deployable_id'),
    ({'deployable_id': [1], 'key': 'k', 'value': 'v'}, 'deployable_id'),
    ({'deployable_id': 1, 'key': 5, 'value': 'v'}, 'key'),
    ({'deployable_id': 1, 'key': '', 'value': 'v'}, 'key'),
    ({'deployable_id': 1, 'key': 'k' * 256, 'value': 'v'}, 'key'),
    ({'deployable_id': 1, 'key': 'k', 'value': 5}, 'value'),
    ({'deployable_id': 1, 'key': 'k', 'value': None}, 'value'),
    ({'deployable_id': 1, 'key': 'k', 'value': 'v' * 256}, 'value'),
    ({'deployable_id': 1, 'key': 'k', 'value': 'v', 'x': 1}, 'x'),
    ({'attribute': {'key': 'k', 'value': 'v'}}, 'deployable_id'),
    ({'attribute': 'x'}, 'attribute'),
    ({'attribute': {'deployable_id': 1, 'key': 'k', 'value': 'v'},
      'other': 1}, 'other'),
    ([{'deployable_id': 1, 'key': 'k', 'value': 'v'}], 'JSON object'),
    ('x', 'JSON object'),
])
def test_bad_create_is_400_and_writes_nothing(api, dep_id, body, needle):
    response = api.post('/v2/attributes', body, status=400)
    assert needle in error_of(response)
    assert row_count('attributes') == 2


def test_malformed_json_is_400(api, dep_id):
    response = api.post('/v2/attributes', raw='{"key": ', status=400)
    assert 'JSON' in error_of(response)


def test_delete(api, dep_id):
    created = create(api, dep_id, status=201).json
    response = api.delete('/v2/attributes/' + created['uuid'], status=204)
    assert response.body == b''
    assert row_count('attributes') == 2
    response = api.delete('/v2/attributes/' + created['uuid'], status=404)
    assert created['uuid'] in error_of(response)


def test_delete_malformed_is_400(api):
    response = api.delete('/v2/attributes/nope', status=400)
    assert 'nope is not a valid UUID' in error_of(response)


def test_delete_without_uuid_is_400(api, dep_id):
    response = api.delete('/v2/attributes', status=400)
    assert 'attribute_uuid' in error_of(response)
    assert row_count('attributes') == 2


@pytest.mark.parametrize('method, suffix', [
    ('GET', ''), ('GET', '/{uuid}'), ('POST', ''), ('DELETE', '/{uuid}')])
def test_members_are_forbidden(api, dep_id, method, suffix):
    rc = api.get('/v2/attributes?key=rc').json['attributes'][0]
    body = ({'deployable_id': dep_id, 'key': 'k', 'value': 'v'}
            if method == 'POST' else None)
    response = api.request(method, '/v2/attributes'
                           + suffix.format(uuid=rc['uuid']),
                           body=body, headers=MEMBER, status=403)
    assert 'cyborg:attribute:' in error_of(response)
    assert row_count('attributes') == 2


def test_managers_read_but_do_not_write(api, dep_id):
    rc = api.get('/v2/attributes?key=rc').json['attributes'][0]
    api.get('/v2/attributes', headers=MANAGER, status=200)
    api.get('/v2/attributes/' + rc['uuid'], headers=MANAGER, status=200)
    create(api, dep_id, headers=MANAGER, status=403)
    api.delete('/v2/attributes/' + rc['uuid'], headers=MANAGER, status=403)
