"""Reads what the app left of the request body once it has answered, so
that gunicorn's and uWSGI's keep-alive connections carry the client's next
request."""

from oslo_log import log as logging

from cyborg_clone.api.middleware import body_limit
from cyborg_clone.api.middleware import chunked_body

LOG = logging.getLogger(__name__)

# Unread request body, in bytes, that is read and dropped after a response.
# The API takes small JSON documents; a larger unread body is left to the
# server, which may then close the connection rather than read it all.
DRAIN_LIMIT = 1024 * 1024
_DRAIN_CHUNK = 64 * 1024


class _CountingInput:
    """``wsgi.input`` for the app, counting the bytes it reads."""

    def __init__(self, stream):
        self.stream = stream
        self.consumed = 0
        self.at_end = False

    def _count(self, data, size):
        self.consumed += len(data)
        # Nothing back for a read of 0 bytes says nothing about the end.
        self.at_end = self.at_end or (not data and size != 0)
        return data

    def read(self, *args):
        return self._count(self.stream.read(*args), args[0] if args else None)

    def readline(self, *args):
        return self._count(self.stream.readline(*args),
                           args[0] if args else None)

    def readlines(self, *args):
        lines = self.stream.readlines(*args)
        self.consumed += sum(len(line) for line in lines)
        return lines

    def __iter__(self):
        return iter(self.readline, b'')


def _unread(environ, body):
    """Bytes of the request body the app left unread; None for a chunked
    body it did not read to the end (how much is left is unknown)."""
    if chunked_body.is_chunked(environ):
        return None if not body.at_end else 0
    return body_limit.content_length(environ) - body.consumed


def _drain(environ, body):
    unread = _unread(environ, body)
    if unread is not None and not 0 < unread <= DRAIN_LIMIT:
        return
    budget = DRAIN_LIMIT if unread is None else unread
    try:
        while budget > 0:
            data = body.stream.read(min(_DRAIN_CHUNK, budget))
            if not data:
                return
            budget -= len(data)
    except Exception:
        # The client went away or sent a malformed body: the server sees
        # the same when it reads the next request and closes the
        # connection, which is all that is left to do. Each server raises
        # its own exception types here.
        LOG.debug('Dropping the unread request body failed', exc_info=True)


class DrainRequestBody:
    """Reads what the app left of the request body once it has answered.

    The app answers some requests without reading their body (a 401, 406
    or 404 comes before any controller). cyborg-clone-api's own server
    reads every body before the app runs; gunicorn and uWSGI leave an
    unread body in the connection, where it breaks the next request of a
    keep-alive client. The app must have read all it wants by the time it
    returns: Pecan builds the whole response before returning it, and
    streams no request body.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        body = _CountingInput(environ['wsgi.input'])
        environ['wsgi.input'] = body
        iterable = self.app(environ, start_response)
        # Before the server sends a byte of the response: uWSGI's router
        # drops a keep-alive connection whose response ends before the
        # worker has taken the whole request body.
        _drain(environ, body)
        return iterable
