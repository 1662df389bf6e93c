"""413 for a request body announced larger than ``[api]max_request_body_size``,
under a WSGI server that does not refuse it itself."""

from cyborg_clone.api import errors
from cyborg_clone.common import http_server


def content_length(environ):
    """The announced body size; 0 when there is none or it is no number."""
    try:
        return int(environ.get('CONTENT_LENGTH') or 0)
    except ValueError:
        return 0


class RefuseLargeBody:
    """413 for a body announced larger than ``limit``, without reading it.

    cyborg-clone-api's server refuses such a request itself, before any
    ``100 Continue`` (common/http_server.py). uWSGI and gunicorn hand the
    app the body unread, so it is refused here: the app would otherwise
    read it whole. A chunked body announces no size; limit it in the web
    server in front.
    """

    def __init__(self, app, limit):
        self.app = app
        self.limit = limit

    def __call__(self, environ, start_response):
        if content_length(environ) <= self.limit:
            return self.app(environ, start_response)
        content_type, body = errors.render_error(
            413, http_server.body_too_large(self.limit),
            environ.get('PATH_INFO', ''))
        # The unread body stays in the connection: end it.
        start_response('413 Request Entity Too Large', [
            ('Content-Type', content_type),
            ('Content-Length', str(len(body))), ('Connection', 'close')])
        return [body]
