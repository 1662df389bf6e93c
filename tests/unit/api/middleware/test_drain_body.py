"""DrainRequestBody: what the app left of the body is read after it
answered, within the declared length and the drain limit."""

import io

from cyborg_clone.api.middleware import drain_body


class _Stream(io.BytesIO):
    """A request body stream that remembers how much was read from it."""


def _drained(app, body, **environ):
    """Run ``app`` behind DrainRequestBody; how many bytes of ``body``
    were left in the stream when the server got the response."""
    stream = _Stream(body)
    environ = dict({'wsgi.input': stream, 'REQUEST_METHOD': 'POST',
                    'CONTENT_LENGTH': str(len(body))}, **environ)
    drain_body.DrainRequestBody(app)(environ, lambda *a: None)
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
    body = b'x' * (drain_body.DRAIN_LIMIT + 1)
    assert _drained(_reads(0), body) == len(body)


def test_an_unread_chunked_body_is_drained_up_to_the_limit():
    body = b'x' * (drain_body.DRAIN_LIMIT + 10)
    left = _drained(_reads(0), body, CONTENT_LENGTH='',
                    HTTP_TRANSFER_ENCODING='chunked')
    assert left == 10
