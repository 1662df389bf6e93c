"""Request bodies the app cannot read (411), and the wording of what the
HTTP server refuses itself (bad framing, a body too large)."""

import webob
import webob.dec

from cyborg_clone.api import errors
from cyborg_clone.api import fpga_image_errors

LENGTH_REQUIRED = ('This server cannot read a chunked request body; send '
                   'the body with a Content-Length header.')


def is_chunked(environ):
    """True for a request whose body comes in chunks, without a length."""
    return 'chunked' in environ.get('HTTP_TRANSFER_ENCODING', '').lower()


def render_error(status, message, path):
    """(content type, body) of an error the HTTP server answers before the
    app sees the request (bad framing, a body too large), in the format
    of the API the path belongs to."""
    if fpga_image_errors.in_family(path):
        body = fpga_image_errors.body(status, message)
    else:
        body = errors.error_body(status, message)
    return 'application/json', body.encode()


class ChunkedBodyMiddleware:
    """411 for a chunked body that the WSGI server does not end.

    WebOb reads a body without Content-Length only when the server sets
    ``wsgi.input_terminated`` (cyborg-clone-api and gunicorn do, uWSGI
    through api/wsgi.py); under another server such a body would read as
    empty and earn a misleading 400 about a missing body.
    """

    def __init__(self, application):
        self.application = application

    @webob.dec.wsgify
    def __call__(self, request):
        environ = request.environ
        if is_chunked(environ) and not environ.get('wsgi.input_terminated'):
            # ErrorFormatMiddleware renders this in each API's format.
            return webob.Response(status=411, json_body={
                'error': {'message': LENGTH_REQUIRED}})
        return request.get_response(self.application)
