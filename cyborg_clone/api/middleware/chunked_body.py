"""411 for a chunked request body that the WSGI server does not end, so
the app cannot read it."""

from cyborg_clone.api import errors

LENGTH_REQUIRED = ('This server cannot read a chunked request body; send '
                   'the body with a Content-Length header.')


def is_chunked(environ):
    """True for a request whose body comes in chunks, without a length."""
    return 'chunked' in environ.get('HTTP_TRANSFER_ENCODING', '').lower()


class ChunkedBodyMiddleware:
    """411 for a chunked body without ``wsgi.input_terminated``.

    WebOb reads a body without Content-Length only when the server sets
    ``wsgi.input_terminated`` (cyborg-clone-api and gunicorn do, uWSGI
    through uwsgi_chunked); under another server such a body would read as
    empty and earn a misleading 400 about a missing body.
    """

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        if is_chunked(environ) and not environ.get('wsgi.input_terminated'):
            content_type, body = errors.render_error(
                411, LENGTH_REQUIRED, environ.get('PATH_INFO', ''))
            start_response('411 Length Required', [
                ('Content-Type', content_type),
                ('Content-Length', str(len(body)))])
            return [body]
        return self.application(environ, start_response)
