"""The request shape checks of api/middleware/request_guard.py, one rule
each."""

import io
import json

import pytest

from cyborg_clone.api.middleware import request_guard as guard


def environ(method='GET', path='/v2/devices', query='', body=b'',
            **extra):
    env = {'REQUEST_METHOD': method, 'PATH_INFO': path,
           'QUERY_STRING': query, 'wsgi.input': io.BytesIO(body),
           'CONTENT_LENGTH': str(len(body)),
           'CONTENT_TYPE': 'application/json'}
    env.update(extra)
    return env


def refusal(env):
    with pytest.raises(guard.Refused) as caught:
        guard.check(env)
    return caught.value.status, str(caught.value)


@pytest.mark.parametrize('method', ['get', 'Delete', 'FOO', ''])
def test_unknown_or_lowercase_methods_are_400(method):
    status, message = refusal(environ(method=method))
    assert status == 400 and 'case-sensitive' in message


def test_a_path_that_is_not_utf8_is_400():
    # PEP 3333: the path's bytes arrive as latin-1 characters.
    assert refusal(environ(path='/v2/device_profiles/\xff'))[0] == 400


@pytest.mark.parametrize('path', ['/v2/devices/__class__', '/_lookup',
                                  '/v2/_x/y'])
def test_private_path_segments_are_404(path):
    assert refusal(environ(path=path))[0] == 404


@pytest.mark.parametrize('query', ['a=%ff', '%fe=1', 'a=\xff'])
def test_a_query_that_is_not_utf8_is_400(query):
    assert refusal(environ(query=query))[0] == 400


def test_a_repeated_query_parameter_is_400():
    status, message = refusal(environ(query='page=1&page=x'))
    assert status == 400 and 'page' in message


@pytest.mark.parametrize('body', [b'\xff\xfe', b'[[[[', b'{"a":', b'nope'])
def test_an_undecodable_body_is_400_even_where_none_is_taken(body):
    assert refusal(environ(method='GET', body=body))[0] == 400


def test_nesting_is_limited_before_json_parses_it():
    deep = b'[' * 100_000 + b']' * 100_000
    status, message = refusal(environ(method='POST', body=deep))
    assert status == 400 and 'deeper' in message
    ok = b'[' * guard.MAX_DEPTH + b']' * guard.MAX_DEPTH
    guard.check(environ(method='POST', body=ok))


def test_brackets_inside_strings_do_not_count():
    text = json.dumps({'a': '[' * 1000 + '\\"{' * 100})
    assert guard.nesting_depth(text) == 1


def test_a_body_is_handed_on_once_read():
    env = environ(method='POST', body=b'{"a": 1}')
    guard.check(env)
    assert env[guard.ENVIRON_KEY] == {'a': 1}
    assert env['wsgi.input'].read() == b'{"a": 1}'


def test_a_body_where_none_is_taken_is_dropped():
    env = environ(method='DELETE', path='/v2/device_profiles/x',
                  body=b'{"value": "x"}')
    guard.check(env)
    assert env['CONTENT_LENGTH'] == '0' and env['wsgi.input'].read() == b''


def test_the_fpga_disassociation_keeps_its_body():
    path = '/v1/p/cloudservers/fpga_image/%s/association' % ('a' * 32)
    env = environ(method='DELETE', path=path, body=b'{"image": {}}')
    guard.check(env)
    assert env['wsgi.input'].read() == b'{"image": {}}'


@pytest.mark.parametrize('content_type', ['', 'text/xml',
                                          'application/x-www-form-urlencoded'])
def test_a_kept_body_must_be_declared_json(content_type):
    env = environ(method='POST', body=b'{}', CONTENT_TYPE=content_type)
    assert refusal(env)[0] == 415
