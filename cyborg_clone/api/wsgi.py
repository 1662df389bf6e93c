"""The API for uWSGI, gunicorn or mod_wsgi: ``cyborg_clone.api.wsgi``.

The configuration file is ``$CYBORG_CLONE_CONFIG_FILE``, or
``/etc/cyborg_clone/cyborg_clone.conf`` when that exists. Nothing happens
at import: the first request configures logging and the database and
builds the app, so a server that forks after importing this module gives
every worker its own connections, and tests can import it freely. The RPC
client connects on its first cast, in the worker that makes it.

The app is plain blocking code, safe in threads, so the server's
processes and threads are its concurrency. etc/cyborg_clone/uwsgi.ini and
the README's "Deploying" section show how to run it.

The app answers some requests without reading their body (a 401, 406 or
404 comes before any controller). cyborg-clone-api's own server reads
every body before the app runs; gunicorn and uWSGI leave an unread body
in the connection, where it breaks the next request of a keep-alive
client. ``DrainRequestBody`` reads the rest once the app has answered,
before the server sends the response, so those servers can keep the
connection too. It also hands the app a chunked request body under uWSGI,
which does not decode one into ``wsgi.input``. ``RefuseLargeBody`` holds
those servers to ``[api]max_request_body_size`` as far as a WSGI app can.
"""

import os
import threading

from oslo_log import log as logging

# For its warnings filter (see there).
from cyborg_clone import cmd  # noqa: F401
from cyborg_clone.api import app as api_app
from cyborg_clone.api import request_body
from cyborg_clone.cmd import startup
from cyborg_clone.common import http_server
from cyborg_clone.db import api as db_api

LOG = logging.getLogger(__name__)

CONFIG_FILE_ENV = 'CYBORG_CLONE_CONFIG_FILE'
DEFAULT_CONFIG_FILE = '/etc/cyborg_clone/cyborg_clone.conf'


def config_files():
    """The config files to read, per the rules above."""
    if os.environ.get(CONFIG_FILE_ENV):
        return [os.environ[CONFIG_FILE_ENV]]
    if os.path.exists(DEFAULT_CONFIG_FILE):
        return [DEFAULT_CONFIG_FILE]
    return []


def init_application():
    """A configured API app; what the first request triggers."""
    # The WSGI server's own arguments are not ours: parse none. A bad
    # config raises (the server logs it) rather than exiting the worker.
    conf = startup.load_config([], 'cyborg-clone-api',
                               default_config_files=config_files())
    startup.setup_logging(conf, 'cyborg-clone-api (WSGI)')
    db_api.configure(conf)
    return RefuseLargeBody(api_app.setup_app(conf),
                           conf.api.max_request_body_size)


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
        if _content_length(environ) <= self.limit:
            return self.app(environ, start_response)
        content_type, body = request_body.render_error(
            413, http_server.body_too_large(self.limit),
            environ.get('PATH_INFO', ''))
        # The unread body stays in the connection: end it.
        start_response('413 Request Entity Too Large', [
            ('Content-Type', content_type),
            ('Content-Length', str(len(body))), ('Connection', 'close')])
        return [body]


class LazyApplication:
    """Builds the app with init_application() on the first request."""

    def __init__(self):
        self._app = None
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = init_application()
        return self._app(environ, start_response)


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


def _content_length(environ):
    try:
        return int(environ.get('CONTENT_LENGTH') or 0)
    except ValueError:
        return 0


def _unread(environ, body):
    """Bytes of the request body the app left unread; None for a chunked
    body it did not read to the end (how much is left is unknown)."""
    if request_body.is_chunked(environ):
        return None if not body.at_end else 0
    return _content_length(environ) - body.consumed


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


class _UWSGIChunkedInput:
    """``wsgi.input`` for a chunked body under uWSGI, which hands the
    decoded chunks out through its own API (``uwsgi.chunked_read()``, an
    empty chunk at the end) rather than through ``wsgi.input``."""

    def __init__(self, chunked_read):
        self._chunked_read = chunked_read
        self._buffer = b''
        self._ended = False

    def _fill(self, size):
        while not self._ended and (size < 0 or len(self._buffer) < size):
            chunk = self._chunked_read()
            self._ended = not chunk
            self._buffer += chunk

    def read(self, size=-1):
        size = -1 if size is None else size
        self._fill(size)
        if size < 0:
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def readline(self, size=-1):
        size = -1 if size is None else size
        while b'\n' not in self._buffer and not self._ended:
            self._fill(len(self._buffer) + 1)
        end = self._buffer.find(b'\n') + 1 or len(self._buffer)
        if 0 <= size < end:
            end = size
        data, self._buffer = self._buffer[:end], self._buffer[end:]
        return data


# uWSGI's option values: True from the command line, bytes from an ini.
_OFF = (None, False, b'false', b'0', b'no', b'off')


def _readable_chunked_input(environ):
    """Under uWSGI's HTTP router, make a chunked body readable from
    ``wsgi.input``; True if it did.

    With ``http-chunked-input`` (etc/cyborg_clone/uwsgi.ini) the router
    relays such a body still chunked, for ``uwsgi.chunked_read()`` to
    decode. gunicorn decodes it itself and says so with
    ``wsgi.input_terminated``, which WebOb needs to read a body that has
    no Content-Length. A web server speaking the uwsgi protocol in front
    (Apache, nginx) decodes or refuses it: it is left alone then, and
    request_body answers 411 if it cannot be read.
    """
    if environ.get('wsgi.input_terminated'):
        return False
    if not request_body.is_chunked(environ):
        return False
    try:
        import uwsgi
    except ImportError:
        return False
    if uwsgi.opt.get('http-chunked-input') in _OFF:
        return False
    environ['wsgi.input'] = _UWSGIChunkedInput(uwsgi.chunked_read)
    environ['wsgi.input_terminated'] = True
    return True


def _closing(start_response):
    """``start_response`` that announces the end of the connection.

    uWSGI's router relays a chunked body as a raw stream and cannot find
    the next request after it, so it closes the connection; saying so
    keeps a client from sending its next request there.
    """
    def start(status, headers, exc_info=None):
        return start_response(status, headers + [('Connection', 'close')],
                              exc_info)
    return start


class DrainRequestBody:
    """Reads what the app left of the request body once it has answered,
    so that the connection can carry the client's next request.

    The app must have read all it wants by then: Pecan builds the whole
    response before returning it, and streams no request body.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if _readable_chunked_input(environ):
            start_response = _closing(start_response)
        body = _CountingInput(environ['wsgi.input'])
        environ['wsgi.input'] = body
        iterable = self.app(environ, start_response)
        # Before the server sends a byte of the response: uWSGI's router
        # drops a keep-alive connection whose response ends before the
        # worker has taken the whole request body.
        _drain(environ, body)
        return iterable


application = DrainRequestBody(LazyApplication())
