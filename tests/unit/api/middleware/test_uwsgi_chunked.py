"""UWSGIChunkedInput: a chunked body under uWSGI's HTTP router reaches the
app whole, and what the app leaves of it is drained."""

import io
import sys
import types

import pytest
import webob

from cyborg_clone.api.middleware import drain_body
from cyborg_clone.api.middleware import uwsgi_chunked


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


def _behind_both(app):
    """``app`` as api/middleware stacks it for uWSGI: the chunked input
    first, then the drain counting what the app reads of it."""
    return uwsgi_chunked.UWSGIChunkedInput(drain_body.DrainRequestBody(app))


def test_uwsgi_chunked_input_reads_sizes_lines_and_the_end():
    chunks = [b'ab', b'c\nde', b'f\n', b'g']
    body = uwsgi_chunked._UWSGIChunkedInput(iter(chunks + [b'']).__next__)
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
    _behind_both(app)(
        environ, lambda status, response_headers, exc_info=None:
        headers.extend(response_headers))

    assert seen['body'] == b'{"a": 1}'
    assert pending == []
    # uWSGI's router does not keep such a connection: the client is told.
    assert ('Connection', 'close') in headers


def test_an_unread_chunked_body_under_uwsgi_is_drained(monkeypatch):
    pending = _uwsgi_chunks(monkeypatch, [b'x' * 100] * 3)

    def app(environ, start_response):
        start_response('401 Unauthorized', [])
        return [b'refused']

    _behind_both(app)({'wsgi.input': io.BytesIO(b''),
                       'REQUEST_METHOD': 'POST', 'CONTENT_LENGTH': '',
                       'HTTP_TRANSFER_ENCODING': 'chunked'},
                      lambda *args: None)
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
    list(_behind_both(app)(environ, lambda *args: None))
    assert seen == {'input': stream, 'terminated': None}
    assert pending == [b'{}', b'']
