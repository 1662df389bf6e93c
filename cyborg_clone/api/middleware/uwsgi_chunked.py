"""A chunked request body under uWSGI's HTTP router, made readable from
``wsgi.input`` (uWSGI decodes it only through its own API)."""

from cyborg_clone.api.middleware import chunked_body

# uWSGI's option values: True from the command line, bytes from an ini.
_OFF = (None, False, b'false', b'0', b'no', b'off')


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


def _readable_chunked_input(environ):
    """Under uWSGI's HTTP router, make a chunked body readable from
    ``wsgi.input``; True if it did.

    With ``http-chunked-input`` (etc/cyborg_clone/uwsgi.ini) the router
    relays such a body still chunked, for ``uwsgi.chunked_read()`` to
    decode. gunicorn decodes it itself and says so with
    ``wsgi.input_terminated``, which WebOb needs to read a body that has
    no Content-Length. A web server speaking the uwsgi protocol in front
    (Apache, nginx) decodes or refuses it: it is left alone then, and
    chunked_body answers 411 if it cannot be read.
    """
    if environ.get('wsgi.input_terminated'):
        return False
    if not chunked_body.is_chunked(environ):
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


class UWSGIChunkedInput:
    """Hands the app a chunked request body under uWSGI's HTTP router,
    and tells the client that the connection ends with the response."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if _readable_chunked_input(environ):
            start_response = _closing(start_response)
        return self.app(environ, start_response)
