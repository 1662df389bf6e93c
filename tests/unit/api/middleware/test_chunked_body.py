"""ChunkedBodyMiddleware: 411, in each API's error format, for a chunked
body the WSGI server does not end; everything else passes through."""

import io
import json

import pytest

from cyborg_clone.api.middleware import chunked_body
from tests.unit.api.middleware import wsgi_calls


def _answer(path='/v2/device_profiles', **environ):
    """(status, headers, body, whether the app ran) for a chunked POST."""
    return wsgi_calls.call(chunked_body.ChunkedBodyMiddleware, dict({
        'REQUEST_METHOD': 'POST', 'PATH_INFO': path,
        'wsgi.input': io.BytesIO(b'{}'),
        'HTTP_TRANSFER_ENCODING': 'chunked'}, **environ))


def test_an_unterminated_chunked_body_is_411_in_the_api_format():
    status, headers, body, ran = _answer()
    assert (status, ran) == ('411 Length Required', False)
    assert int(headers['Content-Length']) == len(body)
    fault = json.loads(json.loads(body)['error_message'])
    assert fault['faultstring'] == chunked_body.LENGTH_REQUIRED


def test_the_fpga_image_api_gets_its_own_format():
    _, _, body, _ = _answer(path='/v2/cloudservers/fpga_image')
    assert json.loads(body)['error']['code'] == 'FPGA.0411'


@pytest.mark.parametrize('environ', [
    {'wsgi.input_terminated': True},
    {'HTTP_TRANSFER_ENCODING': '', 'CONTENT_LENGTH': '2'},
])
def test_a_readable_body_reaches_the_app(environ):
    status, _, _, ran = _answer(**environ)
    assert (status, ran) == ('201 Created', True)
