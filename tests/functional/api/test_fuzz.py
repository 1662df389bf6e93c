"""No request a client can send gets a 5xx: generated requests (hypothesis)
over every route, method, body shape, header and identity, sent over
keep-alive connections to the app on its real HTTP server.

Each answer must be below 500, the connection must stay usable unless the
server said ``Connection: close`` on a 4xx, and a refused request must not
change the number of rows of any table.
"""

import dataclasses
import http.client
import json
import shutil
import socket

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest

from cyborg_clone.api import app as api_app
from cyborg_clone.api import errors
from cyborg_clone.common import http_server
from cyborg_clone.common import wsgi_server
from cyborg_clone.db import api as db_api
from cyborg_clone.db import models
from tests.conftest import FakeConductor
from tests.conftest import make_conf
from tests.functional.api import test_policy_matrix as matrix
from tests.functional.api.test_policy_matrix import seeded  # noqa: F401

# At least 10,000 requests in all (issue 13), most of them structured.
STRUCTURED_EXAMPLES = 9000
RAW_EXAMPLES = 1000
COMMON = dict(deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))

METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'HEAD', 'OPTIONS',
           'TRACE', 'get', 'delete', 'Post', 'FOO', 'PROPFIND']
IDENTITIES = dict(matrix.PERSONAS, nobody={})
VERSIONS = [None, 'accelerator 2.0', 'accelerator 2.2', 'accelerator latest',
            'accelerator 2.1 extra', 'accelerator two', 'accelerator 9.9',
            'accelerator', 'compute 2.1', 'compute 2.1, accelerator 2.x',
            'ACCELERATOR 2.1', '']
CONTENT_TYPES = [None, 'application/json', 'text/plain', 'application/xml',
                 'text/xml', 'application/x-www-form-urlencoded',
                 'multipart/form-data; boundary=xyz',
                 'application/json; charset=latin-1', 'garbage']
ACCEPTS = [None, 'application/json', 'text/html', '*/*', 'application/xml',
           'image/png', 'application/json;q=0', 'text/html,*/*;q=0.1']
PATH_MUTATIONS = ['', '/', '/__class__', '/_lookup', '/%ff', '/x',
                  '?page=1&page=x', '?limit=1&limit=2', '?limit=abc',
                  '?%ff=1', '?name=%ff%fe', '?marker=zzz&sort_key=__class__',
                  '?fpga_image_id=' + 'a' * 32 + '&fpga_image_id=b',
                  '/' + 'a' * 5000, '?x=' + 'y' * 5000, '%00', '/%2e%2e']

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)


def _nested(depth, opener, closer):
    return opener * depth + b'1' + closer * depth


bodies = st.one_of(
    st.none(),
    st.sampled_from([b'', b'\xff\xfe', b'[[[[', b'{', b'null', b'"x"',
                     b'<a>1</a>', b'a=1&b=2', b'--xyz\r\n\r\n--xyz--',
                     b'1e999999', b'9' * 5000, b'{"a": NaN}']),
    st.binary(max_size=64),
    st.integers(20, 100_000).map(lambda n: _nested(n, b'[', b']')),
    st.integers(20, 50_000).map(lambda n: _nested(n, b'{"a":', b'}')),
    st.integers(256, 400_000).map(
        lambda n: json.dumps({'name': 'x' * n, 'groups': [
            {'resources:CUSTOM_' + 'A' * n: '1'}]}).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.just('valid'),  # the route's own valid document (see body_for)
    json_values.map(lambda value: ('valid+', value)),
)


@dataclasses.dataclass
class Target:
    port: int
    seed: object

    def connection(self):
        return http.client.HTTPConnection('127.0.0.1', self.port,
                                          timeout=30)


@pytest.fixture(scope='module')
def target(tmp_path_factory, seeded):  # noqa: F811
    seed_directory, seed = seeded
    directory = tmp_path_factory.mktemp('fuzz')
    for name in (matrix.DB_FILE, matrix.DB_FILE + '-wal'):
        if (seed_directory / name).exists():
            shutil.copy(seed_directory / name, directory / name)
    conf = make_conf(directory)
    db_api.reset()
    db_api.configure(conf)
    app = api_app.setup_app(conf, conductor_api=FakeConductor())
    sock = wsgi_server.listen('127.0.0.1', 0)
    server = wsgi_server.Server(app, sock, http_server.Settings(
        threads=2, client_socket_timeout=30,
        max_request_body_size=conf.api.max_request_body_size,
        max_connections=100, render_error=errors.render_error))
    server.start()
    try:
        yield Target(sock.getsockname()[1], seed)
    finally:
        server.stop()
        sock.close()
        db_api.reset()


def fingerprint():
    """The row count of every table, in one statement."""
    tables = sorted(models.Base.metadata.tables)
    sql = 'SELECT ' + ', '.join('(SELECT count(*) FROM %s)' % table
                                for table in tables)
    with db_api.reader() as session:
        return tuple(session.connection().exec_driver_sql(sql).one())


ROUTES = list(matrix.MATRIX)


def body_for(shape, route, seed):
    if isinstance(shape, bytes) or shape is None:
        return shape
    try:
        valid = matrix.request_body(route, seed)
    except AssertionError:  # a route without a body of its own
        valid = None
    if valid is None:
        valid = {}
    if shape == 'valid':
        return json.dumps(valid).encode()
    _, extra = shape
    if isinstance(valid, dict) and isinstance(extra, dict):
        valid = dict(valid, **extra)
    elif isinstance(valid, list) and valid:
        valid = [extra] + valid[1:]
    return json.dumps(valid).encode()


class Client:
    """One keep-alive connection, reopened only when the server closed it
    as it is allowed to."""

    def __init__(self, target):
        self.target = target
        self.conn = None

    def send(self, method, path, body, headers):
        if self.conn is None:
            self.conn = self.target.connection()
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        response.read()
        if response.will_close:
            # Closing is fine when announced; a connection that just ends
            # fails the next request on it (RemoteDisconnected).
            assert (response.getheader('Connection') or '').lower() == \
                'close', (response.status, method, path)
            self.conn.close()
            self.conn = None
        return response


@pytest.fixture(scope='module')
def client(target):
    client = Client(target)
    yield client
    if client.conn is not None:
        client.conn.close()


@settings(max_examples=STRUCTURED_EXAMPLES, **COMMON)
@given(route=st.sampled_from(ROUTES), method=st.sampled_from(METHODS),
       same_method=st.booleans(), mutation=st.sampled_from(PATH_MUTATIONS),
       mutate=st.booleans(), prefixless=st.booleans(), shape=bodies,
       identity=st.sampled_from(sorted(IDENTITIES)),
       version=st.sampled_from(VERSIONS),
       content_type=st.sampled_from(CONTENT_TYPES),
       accept=st.sampled_from(ACCEPTS))
def test_no_request_gets_a_5xx(target, client, route, method, same_method,
                               mutation, mutate, prefixless, shape,
                               identity, version, content_type, accept):
    seed = target.seed
    path = route.path.format(**dataclasses.asdict(seed))
    if prefixless and path.startswith('/v2/'):
        path = path[len('/v2'):]
    if mutate:
        path += mutation
    method = route.method if same_method else method
    body = body_for(shape, route, seed)
    headers = dict(IDENTITIES[identity])
    for name, value in (('OpenStack-API-Version', version),
                        ('Content-Type', content_type),
                        ('Accept', accept)):
        if value is not None:
            headers[name] = value
    before = fingerprint()
    response = client.send(method, path, body, headers)
    assert response.status < 500, (response.status, method, path,
                                   (body or b'')[:200], headers)
    if response.status >= 400:
        assert fingerprint() == before, (response.status, method, path)


# The HTTP level: request lines and headers http.client would not send.
raw_lines = st.tuples(
    st.sampled_from(METHODS + ['G\x01T', '', 'GET GET']),
    st.sampled_from(['/v2/devices', '/v2/device_profiles/%ff', '/v2/\xff',
                     '/v2/devices/__init__', '*', 'http://x/v2', '/v2 /x',
                     '/v2/devices?\xff=\xfe', '/v2/%']),
    st.sampled_from(['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 x']),
    st.lists(st.sampled_from([
        'X-Roles: admin', 'X-Roles: \xff', 'X-Project-Id: \xe9t\xe9',
        'OpenStack-API-Version: accelerator \xff', 'Content-Length: 3',
        'Content-Length: -1', 'Transfer-Encoding: chunked',
        'Content-Type: application/json', 'Host: ', 'X-User-Id:',
        'Accept: \xff']), max_size=4),
    st.binary(max_size=16))


@settings(max_examples=RAW_EXAMPLES, **COMMON)
@given(line=raw_lines)
def test_raw_requests_get_no_5xx(target, line):
    method, path, version, header_lines, tail = line
    head = '%s %s %s\r\n%s\r\n\r\n' % (method, path, version,
                                       '\r\n'.join(header_lines))
    before = fingerprint()
    with socket.create_connection(('127.0.0.1', target.port),
                                  timeout=30) as sock:
        sock.sendall(head.encode('latin-1') + tail)
        sock.shutdown(socket.SHUT_WR)
        answer = b''
        while chunk := sock.recv(65536):
            answer += chunk
    # A request the server cannot frame may be answered by silence only
    # when nothing at all was a request (no method, no path).
    assert answer.startswith(b'HTTP/1.'), (head, answer[:200])
    status = int(answer.split(b' ', 2)[1])
    assert status < 500, (head, answer[:300])
    if status >= 400:
        assert fingerprint() == before, head
