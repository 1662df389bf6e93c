"""RefuseLargeBody: 413 in the API's format for a body announced too
large, without reading it."""

import io
import json

from cyborg_clone.api.middleware import body_limit
from tests.unit.api.middleware import wsgi_calls


def _refused(content_length, path='/v2/device_profiles', limit=100):
    """Status, headers and body of RefuseLargeBody(limit) for a request
    announcing ``content_length``; whether the app ran."""
    stream = io.BytesIO(b'x' * 1000)
    status, headers, body, ran = wsgi_calls.call(
        lambda app: body_limit.RefuseLargeBody(app, limit),
        {'REQUEST_METHOD': 'POST', 'PATH_INFO': path, 'wsgi.input': stream,
         'CONTENT_LENGTH': str(content_length)})
    assert stream.tell() == 0  # nothing read, whatever the answer
    return {'status': status, 'headers': headers}, body, ran


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
