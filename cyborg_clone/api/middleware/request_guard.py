"""The request shape every route requires: method, path, query and body
checked once, before routing, so that no controller sees bytes it cannot
decode."""

import io
import json
import re
from urllib import parse

from cyborg_clone.api import errors
from cyborg_clone.api.middleware import chunked_body

# Methods named by RFC 9110 (plus PATCH); a name is case-sensitive, so
# "get" is another, unknown method.
METHODS = frozenset(('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE',
                     'OPTIONS', 'TRACE', 'CONNECT'))
# Deepest nesting of arrays and objects a body may have; the API's
# deepest document (a device profile) needs four.
MAX_DEPTH = 32
# Where the decoded body is left for handlers that read it themselves.
ENVIRON_KEY = 'cyborg_clone.json_body'

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r'[^\[\]{}]+')


class Refused(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def takes_body(method, path):
    """True when a request of ``method`` on ``path`` has a body to read:
    POST, PUT and PATCH, and the FPGA image API's DELETE of an
    association (which names the VM image in its body)."""
    if method in ('POST', 'PUT', 'PATCH'):
        return True
    return method == 'DELETE' and path.rstrip('/').endswith('/association')


def check_method(method):
    if method not in METHODS:
        raise Refused(400, 'Unknown HTTP method %r; method names are '
                           'case-sensitive.' % errors.shortened(method))


def decoded_path(raw):
    """PATH_INFO (bytes carried as latin-1, per PEP 3333) as UTF-8."""
    try:
        path = raw.encode('latin-1').decode('utf-8')
    except UnicodeError:
        raise Refused(400, 'The path is not valid UTF-8.') from None
    # Pecan routes a segment to the controller attribute of that name; a
    # private or special one (/v2/devices/__class__) is never a route.
    if any(segment.startswith('_') for segment in path.split('/')):
        raise Refused(404, 'The resource could not be found.')
    return path


def query_items(raw):
    """The query's (name, value) pairs; 400 for one that is not UTF-8
    or a name given twice (every parameter of this API has one value;
    lists are comma-separated)."""
    try:
        raw.encode('latin-1').decode('utf-8')
        items = parse.parse_qsl(raw, keep_blank_values=True,
                                errors='strict')
    except UnicodeError:
        raise Refused(400, 'The query string is not valid UTF-8.') from None
    seen = set()
    for name, _value in items:
        if name in seen:
            raise Refused(400, 'Query parameter %s is given more than '
                               'once.' % name)
        seen.add(name)
    return items


def nesting_depth(text):
    """How deeply arrays and objects nest in JSON ``text``, counted up to
    MAX_DEPTH + 1 (json.loads recurses, and would exhaust the stack)."""
    brackets = _NOT_BRACKET.sub('', _STRING.sub('', text))
    depth = deepest = 0
    for char in brackets:
        if char in '[{':
            depth += 1
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                break
        else:
            depth -= 1
    return deepest


def decoded_body(data):
    """The JSON value of a request body."""
    try:
        text = data.decode('utf-8')
    except UnicodeError:
        raise Refused(400, 'The request body is not valid UTF-8.') from None
    if nesting_depth(text) > MAX_DEPTH:
        raise Refused(400, 'The request body nests deeper than %d levels.'
                      % MAX_DEPTH)
    try:
        return json.loads(text)
    except ValueError:
        raise Refused(400, 'The request body is not valid JSON.') from None


def _read_body(environ):
    stream = environ['wsgi.input']
    length = environ.get('CONTENT_LENGTH') or ''
    if chunked_body.is_chunked(environ):
        return stream.read()
    if not length.isdigit() or int(length) == 0:
        return b''
    return stream.read(int(length))


def check(environ):
    """Check the request in ``environ``, raise Refused for one that no
    route could serve, and hand the body on as read (or none at all to a
    route that takes none: a body there is checked, then ignored)."""
    method = environ.get('REQUEST_METHOD', '')
    check_method(method)
    path = decoded_path(environ.get('PATH_INFO', ''))
    query_items(environ.get('QUERY_STRING', ''))
    data = _read_body(environ)
    body = decoded_body(data) if data else None
    if not takes_body(method, path):
        data, body = b'', None
    elif data and _media_type(environ) != 'application/json':
        # WSME would pick a parser (XML, forms) by this header.
        raise Refused(415, 'A request body must be sent as '
                           'Content-Type: application/json.')
    environ['wsgi.input'] = io.BytesIO(data)
    environ['CONTENT_LENGTH'] = str(len(data))
    environ.pop('HTTP_TRANSFER_ENCODING', None)
    environ['wsgi.input_terminated'] = True
    environ[ENVIRON_KEY] = body


def _media_type(environ):
    return environ.get('CONTENT_TYPE', '').split(';')[0].strip().lower()


class RequestGuardMiddleware:
    """400 (404 for a private path segment, 415 for a body that is not
    declared JSON) for a request whose method, path, query or body no
    route can take, in the API's error format."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        try:
            check(environ)
        except Refused as refused:
            path = environ.get('PATH_INFO', '')
            content_type, body = errors.render_error(
                refused.status, str(refused), path)
            start_response('%d %s' % (refused.status, _REASONS[
                refused.status]), [('Content-Type', content_type),
                                   ('Content-Length', str(len(body)))])
            return [body]
        return self.application(environ, start_response)


_REASONS = {400: 'Bad Request', 404: 'Not Found',
            415: 'Unsupported Media Type'}
