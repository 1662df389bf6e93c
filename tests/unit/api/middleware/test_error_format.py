"""ErrorFormatMiddleware as a plain WSGI middleware: successes pass
through untouched, errors are rewritten however the app below answered."""

import json
import sys

import webob
from webob import exc
import webtest

from cyborg_clone.api.middleware import error_format


def faultstring(response):
    return json.loads(response.json['error_message'])['faultstring']


def answer(app, method='get', path='/v2/x'):
    """The response of ``app`` behind the middleware; errors expected."""
    client = webtest.TestApp(error_format.ErrorFormatMiddleware(app))
    return getattr(client, method)(path, expect_errors=True)


def test_a_success_passes_through_untouched():
    body = [b'{"a": 1}']
    seen = []

    def app(environ, start_response):
        start_response('200 OK', [('Content-Type', 'application/json'),
                                  ('X-Extra', 'kept')])
        return body

    def start_response(status, headers, exc_info=None):
        seen.append((status, headers))
    result = error_format.ErrorFormatMiddleware(app)(
        webob.Request.blank('/v2').environ, start_response)
    assert result is body
    assert seen == [('200 OK', [('Content-Type', 'application/json'),
                                ('X-Extra', 'kept')])]


def test_an_error_written_through_write_is_rewritten():
    def app(environ, start_response):
        write = start_response('404 Not Found',
                               [('Content-Type', 'text/plain')])
        write(b'no such thing')
        return []
    response = answer(app)
    assert response.status_int == 404
    assert faultstring(response) == 'Not Found'


def test_an_app_that_starts_its_response_late_is_read_first():
    def app(environ, start_response):
        start_response('409 Conflict', [('Content-Type', 'application/json')])
        yield json.dumps({'faultstring': 'taken'}).encode()
    response = answer(app)
    assert response.status_int == 409
    assert faultstring(response) == 'taken'


def test_a_server_error_hides_its_text():
    def app(environ, start_response):
        start_response('500 Internal Server Error',
                       [('Content-Type', 'text/plain')])
        return [b'secret detail']
    response = answer(app)
    assert response.status_int == 500
    assert 'secret' not in response.text


def test_an_exception_from_below_is_a_logged_500(caplog):
    def app(environ, start_response):
        try:
            raise ValueError('broken secret detail')
        except ValueError:
            start_response('500 Internal Server Error', [], sys.exc_info())
        return []
    response = answer(app, path='/v2')
    assert response.status_int == 500
    assert 'secret' not in response.text
    assert 'broken secret detail' in caplog.text


def test_an_http_exception_from_below_is_its_own_answer():
    def app(environ, start_response):
        raise exc.HTTPMethodNotAllowed(headers={'Allow': 'GET'})
    response = answer(app, 'post', '/v2')
    assert response.status_int == 405
    assert response.headers['Allow'] == 'GET'
