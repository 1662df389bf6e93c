"""The uWSGI entry point: config file lookup and lazy start."""

import io
import json
import shutil
import sys
import types

import pytest
import webob
import webtest

from cyborg_clone.api import wsgi
from cyborg_clone.db import api as db_api
from tests import logging_state


@pytest.fixture(autouse=True)
def _reset_engines():
    yield
    db_api.reset()


def test_config_file_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(wsgi.CONFIG_FILE_ENV, '/somewhere/cc.conf')
    assert wsgi.config_files() == ['/somewhere/cc.conf']


def test_default_config_file_is_used_only_if_it_exists(monkeypatch,
                                                       tmp_path):
    monkeypatch.delenv(wsgi.CONFIG_FILE_ENV, raising=False)
    default = tmp_path / 'cyborg_clone.conf'
    monkeypatch.setattr(wsgi, 'DEFAULT_CONFIG_FILE', str(default))
    assert wsgi.config_files() == []
    default.write_text('')
    assert wsgi.config_files() == [str(default)]


def test_first_request_builds_the_app_from_the_config(monkeypatch, tmp_path,
                                                      migrated_template):
    shutil.copy(migrated_template, tmp_path / 'cyborg_clone.sqlite')
    config = tmp_path / 'cyborg_clone.conf'
    config.write_text('[DEFAULT]\nstate_path = %s\n'
                      '[api]\nauth_strategy = noauth\n' % tmp_path)
    monkeypatch.setenv(wsgi.CONFIG_FILE_ENV, str(config))
    app = webtest.TestApp(wsgi.LazyApplication())

    with logging_state.preserved():
        assert app.get('/').json['versions'][0]['id'] == 'v2'
    assert app.get('/v2/device_profiles').json == {'device_profiles': []}


class _Stream(io.BytesIO):
    """A request body stream that remembers how much was read from it."""


def _drained(app, body, **environ):
    """Run ``app`` behind DrainRequestBody; how many bytes of ``body``
    were left in the stream when the server got the response."""
    stream = _Stream(body)
    environ = dict({'wsgi.input': stream, 'REQUEST_METHOD': 'POST',
                    'CONTENT_LENGTH': str(len(body))}, **environ)
    wsgi.DrainRequestBody(app)(environ, lambda *a: None)
    return len(body) - stream.tell()


def _reads(size):
    def app(environ, start_response):
        start_response('401 Unauthorized', [])
        environ['wsgi.input'].read(size)
        return [b'refused']
    return app


def test_an_unread_body_is_drained_before_the_response_is_sent():
    # uWSGI's router drops the connection if the response ends before the
    # worker took the whole body, so the drain cannot wait for close().
    assert _drained(_reads(0), b'x' * 5000) == 0


def test_a_partly_read_body_is_drained_to_its_end():
    assert _drained(_reads(100), b'x' * 5000) == 0


def test_the_drain_never_reads_past_the_declared_length():
    # The bytes after Content-Length are the client's next request.
    stream_left = _drained(_reads(0), b'x' * 10 + b'NEXT',
                           CONTENT_LENGTH='10')
    assert stream_left == 4


def test_a_body_over_the_limit_is_left_for_the_server_to_drop():
    body = b'x' * (wsgi.DRAIN_LIMIT + 1)
    assert _drained(_reads(0), body) == len(body)


def test_an_unread_chunked_body_is_drained_up_to_the_limit():
    body = b'x' * (wsgi.DRAIN_LIMIT + 10)
    left = _drained(_reads(0), body, CONTENT_LENGTH='',
                    HTTP_TRANSFER_ENCODING='chunked')
    assert left == 10



def _uwsgi_chunks(monkeypatch, chunks, chunked_input=b'true'):
    """Stand in for the ``uwsgi`` module that only exists inside uWSGI,
    run with ``http-chunked-input = <chunked_input>``: its chunked_read()
    hands out ``chunks``, then b'' for the end."""
    pending = list(chunks) + [b'']
    options = {} if chunked_input is None else {
        'http-chunked-input': chunked_input}
    module = types.SimpleNamespace(chunked_read=lambda: pending.pop(0),
                                   opt=options)
    monkeypatch.setitem(sys.modules, 'uwsgi', module)
    return pending


def test_uwsgi_chunked_input_reads_sizes_lines_and_the_end():
    chunks = [b'ab', b'c\nde', b'f\n', b'g']
    body = wsgi._UWSGIChunkedInput(iter(chunks + [b'']).__next__)
    assert body.read(1) == b'a'
    assert body.readline() == b'bc\n'
    assert body.readline(2) == b'de'
    assert body.read(10) == b'f\ng'
    assert body.read() == b''
    assert body.readline() == b''


def test_a_chunked_body_under_uwsgi_reaches_the_app_whole(monkeypatch):
    pending = _uwsgi_chunks(monkeypatch, [b'{"a":', b' 1}'])
    seen = {}

    def app(environ, start_response):
        seen['body'] = webob.Request(environ).body
        start_response('200 OK', [])
        return [b'']

    headers = []
    environ = {'wsgi.input': io.BytesIO(b'raw chunked bytes'),
               'REQUEST_METHOD': 'POST', 'HTTP_TRANSFER_ENCODING': 'chunked'}
    wsgi.DrainRequestBody(app)(
        environ, lambda status, response_headers, exc_info=None:
        headers.extend(response_headers))

    assert seen['body'] == b'{"a": 1}'
    assert pending == []
    # uWSGI's router does not keep such a connection: the client is told.
    assert ('Connection', 'close') in headers


def test_an_unread_chunked_body_under_uwsgi_is_drained(monkeypatch):
    pending = _uwsgi_chunks(monkeypatch, [b'x' * 100] * 3)
    _drained(_reads(0), b'', CONTENT_LENGTH='',
             HTTP_TRANSFER_ENCODING='chunked')
    assert pending == []


@pytest.mark.parametrize('chunked_input', [None, b'false'])
def test_without_the_routers_chunked_input_uwsgi_is_left_alone(
        monkeypatch, chunked_input):
    # A web server in front (Apache, nginx) has decoded or refused the
    # body: chunked_read() would wait for chunks that never come.
    pending = _uwsgi_chunks(monkeypatch, [b'{}'], chunked_input)
    stream = io.BytesIO(b'{}')
    seen = {}

    def app(environ, start_response):
        seen['input'] = environ['wsgi.input'].stream
        seen['terminated'] = environ.get('wsgi.input_terminated')
        start_response('411 Length Required', [])
        return [b'']

    environ = {'wsgi.input': stream, 'REQUEST_METHOD': 'POST',
               'HTTP_TRANSFER_ENCODING': 'chunked'}
    list(wsgi.DrainRequestBody(app)(environ, lambda *args: None))
    assert seen == {'input': stream, 'terminated': None}
    assert pending == [b'{}', b'']


def _refused(content_length, path='/v2/device_profiles', limit=100):
    """Status, headers and body of RefuseLargeBody(limit) for a request
    announcing ``content_length``; whether the app ran."""
    ran = []

    def app(environ, start_response):
        ran.append(True)
        start_response('201 Created', [])
        return [b'']

    answer = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=dict(headers))

    stream = io.BytesIO(b'x' * 1000)
    body = b''.join(wsgi.RefuseLargeBody(app, limit)(
        {'REQUEST_METHOD': 'POST', 'PATH_INFO': path, 'wsgi.input': stream,
         'CONTENT_LENGTH': str(content_length)}, start_response))
    assert stream.tell() == 0  # nothing read, whatever the answer
    return answer, body, bool(ran)


def test_a_body_of_the_limit_reaches_the_app():
    answer, _, ran = _refused(100)
    assert (answer['status'], ran) == ('201 Created', True)


def test_a_larger_body_is_refused_unread_in_the_api_format():
    answer, body, ran = _refused(101)
    assert (answer['status'], ran) == ('413 Request Entity Too Large', False)
    assert answer['headers']['Connection'] == 'close'
    assert int(answer['headers']['Content-Length']) == len(body)
    fault = json.loads(json.loads(body)['error_message'])
    assert '100 bytes' in fault['faultstring']


def test_a_larger_fpga_image_body_is_refused_in_that_api_format():
    _, body, _ = _refused(101, path='/v2/cloudservers/fpga_image')
    assert json.loads(body)['error']['code'] == 'FPGA.0413'
