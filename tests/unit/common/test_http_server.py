"""The API's HTTP server on a real socket: framing, limits, idle clients,
graceful stop. Requests are written by hand, byte for byte."""

import contextlib
import http.client
import json
import socket
import threading
import time

import pytest

from cyborg_clone.api import errors
from cyborg_clone.common import http_server
from cyborg_clone.common import wsgi_server

LIMIT = 1024
RELEASE = threading.Event()


def app(environ, start_response):
    path = environ['PATH_INFO']
    if path == '/crash':
        raise RuntimeError('secret detail')
    if path == '/slow':
        RELEASE.wait(10)
    if path == '/nothing':
        start_response('204 No Content', [])
        return []
    body = environ['wsgi.input'].read()
    out = json.dumps({'length': len(body),
                      'text': body.decode('latin-1')}).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(out)))])
    return [out]


@contextlib.contextmanager
def serving(**overrides):
    values = dict(threads=2, client_socket_timeout=30,
                  max_request_body_size=LIMIT, max_connections=100,
                  render_error=errors.render_error)
    values.update(overrides)
    sock = wsgi_server.listen('127.0.0.1', 0)
    server = wsgi_server.Server(app, sock, http_server.Settings(**values))
    server.start()
    try:
        yield sock.getsockname()[1]
    finally:
        RELEASE.set()
        server.stop()
        RELEASE.clear()


@pytest.fixture
def port():
    with serving() as port:
        yield port


def connect(port):
    sock = socket.create_connection(('127.0.0.1', port), timeout=5)
    return sock


def read_all(sock):
    """Everything the server sends until it closes; fails on a timeout."""
    data = b''
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def exchange(port, raw, half_close=False):
    """Send ``raw``; (status, headers dict, body) of the one response, and
    the server must then close the connection."""
    with connect(port) as sock:
        sock.sendall(raw)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return parse(read_all(sock))


def parse(data):
    head, _, body = data.partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    headers = {name.lower(): value for name, value in (
        line.split(': ', 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def fault(body):
    return json.loads(json.loads(body)['error_message'])['faultstring']


def post(headers, body=b'', version='1.1'):
    lines = ['POST /echo HTTP/%s' % version, 'Host: test'] + headers
    return ('\r\n'.join(lines) + '\r\n\r\n').encode() + body


@pytest.mark.parametrize('header', [
    ['Content-Length: +5'],
    ['Content-Length: 5_0'],
    ['Content-Length: -5'],
    ['Content-Length: 0x5'],
    ['Content-Length: 5', 'Content-Length: 6'],
    ['Content-Length: 5', 'Transfer-Encoding: chunked'],
])
def test_a_malformed_or_ambiguous_length_is_a_400_and_a_close(port, header):
    status, headers, body = exchange(port, post(header, b'hello'))
    assert (status, headers['connection']) == (400, 'close')
    assert headers['content-type'] == 'application/json'
    assert fault(body).startswith('Bad Request')


def test_chunked_framing_before_http_1_1_is_a_400(port):
    status, _, _ = exchange(port, post(['Transfer-Encoding: chunked'],
                                       b'5\r\nhello\r\n0\r\n\r\n', '1.0'))
    assert status == 400


@pytest.mark.parametrize('chunks', [
    b'zz\r\nhello\r\n0\r\n\r\n',
    b'0x5\r\nhello\r\n0\r\n\r\n',
    b'5 \r\nhello\r\n0\r\n\r\n',
    b'-5\r\nhello\r\n0\r\n\r\n',
    b'5\r\nhelloXX0\r\n\r\n',
])
def test_malformed_chunks_are_a_400_and_a_close(port, chunks):
    status, headers, body = exchange(
        port, post(['Transfer-Encoding: chunked'], chunks))
    assert (status, headers['connection']) == (400, 'close')
    assert 'chunk' in fault(body).lower()


def test_a_chunked_body_reaches_the_app_decoded(port):
    status, _, body = exchange(port, post(
        ['Transfer-Encoding: chunked', 'Connection: close'],
        b'5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n'))
    assert (status, json.loads(body)['text']) == (200, 'hello world')


def test_a_body_of_the_limit_is_taken(port):
    status, _, body = exchange(port, post(
        ['Content-Length: %d' % LIMIT, 'Connection: close'], b'a' * LIMIT))
    assert (status, json.loads(body)['length']) == (200, LIMIT)


def test_a_larger_body_is_refused_before_it_is_sent(port):
    # No byte of the body is sent: the answer cannot have waited for it.
    with connect(port) as sock:
        sock.sendall(post(['Content-Length: %d' % (LIMIT + 1)]))
        status, headers, body = parse(read_all(sock))
    assert (status, headers['connection']) == (413, 'close')
    assert str(LIMIT) in fault(body)


def test_expect_100_continue_with_a_huge_body_gets_413_and_no_100(port):
    with connect(port) as sock:
        sock.sendall(post(['Content-Length: 10737418240',
                           'Expect: 100-continue']))
        data = read_all(sock)
    assert data.startswith(b'HTTP/1.1 413 ')
    assert b'100 Continue' not in data


def test_expect_100_continue_within_the_limit_is_invited(port):
    with connect(port) as sock:
        sock.sendall(post(['Content-Length: 5', 'Expect: 100-continue',
                           'Connection: close']))
        assert sock.recv(100) == b'HTTP/1.1 100 Continue\r\n\r\n'
        sock.sendall(b'hello')
        status, _, body = parse(read_all(sock))
    assert (status, json.loads(body)['text']) == (200, 'hello')


def test_a_chunk_announcing_too_much_is_refused_before_it_is_sent(port):
    with connect(port) as sock:
        sock.sendall(post(['Transfer-Encoding: chunked'],
                          b'%x\r\n' % (LIMIT + 1)))
        status, _, _ = parse(read_all(sock))
    assert status == 413


def test_chunks_adding_up_past_the_limit_are_refused(port):
    chunks = b''.join(b'100\r\n' + b'a' * 256 + b'\r\n' for _ in range(5))
    status, _, _ = exchange(port, post(['Transfer-Encoding: chunked'],
                                       chunks))
    assert status == 413


def test_a_body_shorter_than_announced_then_half_close_is_a_400(port):
    status, headers, body = exchange(
        port, post(['Content-Length: 10'], b'abc'), half_close=True)
    assert (status, headers['connection']) == (400, 'close')
    assert 'request body' in fault(body)


def test_an_error_quotes_only_a_short_excerpt_of_the_request(port):
    line = 'X-Long: %s\nrest' % ('a' * 5000)
    status, _, body = exchange(port, post([line]))
    assert status == 400
    assert len(body) < 400
    message = fault(body)
    assert message.startswith('Bad Request: ') and 'X-Long: aaa' in message
    assert len(message) <= len('Bad Request: ') + http_server.EXCERPT + 3


def test_a_client_sending_a_refused_body_still_reads_the_413(port):
    # http.client sends the whole body before it reads: the server must
    # not reset the connection under it.
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    connection.request('POST', '/v2/cloudservers/fpga_image',
                       body=b'x' * (4 * 1024 * 1024))
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read())['error']['code'] == 'FPGA.0413'
    connection.close()


def test_a_crashing_app_gets_a_500_without_its_detail(port):
    status, _, body = exchange(port, b'GET /crash HTTP/1.1\r\nHost: t\r\n\r\n')
    assert status == 500
    assert b'secret' not in body


def test_one_connection_carries_many_requests_204_included(port):
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    sockets = set()
    statuses = []
    for path in ('/echo', '/nothing', '/echo', '/nothing'):
        connection.request('GET', path)
        sockets.add(connection.sock)
        response = connection.getresponse()
        response.read()
        statuses.append((response.status, response.will_close))
    connection.close()
    assert statuses == [(200, False), (204, False)] * 2
    assert len(sockets) == 1


def test_a_waiting_request_does_not_hold_up_other_clients(port):
    with connect(port) as waiting:
        waiting.sendall(b'GET /slow HTTP/1.1\r\nHost: t\r\n\r\n')
        status, _, _ = exchange(
            port, b'GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close'
                  b'\r\n\r\n')
        assert status == 200
        assert not RELEASE.is_set()  # /slow is still waiting
        RELEASE.set()
        waiting.settimeout(10)
        assert waiting.recv(12) == b'HTTP/1.1 200'


def test_a_silent_connection_is_closed_after_the_timeout():
    with serving(client_socket_timeout=1) as port, connect(port) as sock:
        sock.settimeout(10)
        start = time.monotonic()
        assert sock.recv(10) == b''
        assert 0.9 < time.monotonic() - start < 4


def test_idle_connections_beyond_the_limit_cannot_lock_clients_out():
    with serving(max_connections=20) as port:
        idle = [connect(port) for _ in range(60)]
        try:
            status, _, _ = exchange(
                port, b'GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close'
                      b'\r\n\r\n')
        finally:
            for sock in idle:
                sock.close()
    assert status == 200


def test_stop_lets_a_request_in_progress_finish_and_closes_idle_ones():
    with contextlib.ExitStack() as stack:
        sock = wsgi_server.listen('127.0.0.1', 0)
        port = sock.getsockname()[1]
        server = wsgi_server.Server(app, sock, http_server.Settings(
            threads=2, client_socket_timeout=30, max_request_body_size=LIMIT,
            max_connections=10))
        server.start()
        stack.callback(RELEASE.clear)
        idle = stack.enter_context(connect(port))
        busy = stack.enter_context(connect(port))
        busy.sendall(b'GET /slow HTTP/1.1\r\nHost: t\r\n\r\n')
        time.sleep(0.3)  # the request is in the app
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        assert idle.recv(10) == b''
        time.sleep(0.3)
        assert stopper.is_alive()  # waiting for /slow
        RELEASE.set()
        stopper.join(10)
        status, _, _ = parse(read_all(busy))
    assert status == 200
    with pytest.raises(ConnectionRefusedError):
        connect(port)


@pytest.mark.parametrize('in_service, pending, will_close, polled', [
    (True, 100, False, False),  # its thread sends it and wakes the loop
    (True, 17 * 1024 * 1024, False, True),  # its thread waits for the loop
    (True, 100, True, True),
    (False, 100, False, True),  # left over: the loop sends it
    (False, 0, False, False),
])
def test_the_loop_polls_for_output_only_when_it_must_send_it(
        in_service, pending, will_close, polled):
    channel = http_server._Channel.__new__(http_server._Channel)
    channel.adj = http_server._Adjustments()
    channel.requests = [object()] if in_service else []
    channel.total_outbufs_len = pending
    channel.will_close = will_close
    assert bool(channel.writable()) is polled
