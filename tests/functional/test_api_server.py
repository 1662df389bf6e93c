"""cyborg-clone-api as a real process with two pre-forked workers."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys

import pytest

from tests.functional import processes

pytestmark = pytest.mark.slow

BODY_LIMIT = 65536


@pytest.fixture
def api(tmp_path, migrated_template):
    shutil.copy(migrated_template, tmp_path / 'cyborg_clone.sqlite')
    port = processes.free_port()
    config = processes.write_config(tmp_path, {
        'DEFAULT': {'transport_url': 'fake:/'},
        'api': {'port': port, 'workers': 2, 'auth_strategy': 'noauth',
                'max_request_body_size': BODY_LIMIT},
    })
    with processes.Process('cyborg-clone-api', config, tmp_path) as process:
        processes.wait_for_http(process, 'http://127.0.0.1:%d/' % port)
        processes.wait_until(lambda: len(process.children()) == 2,
                             message='two workers')
        yield process, port


def test_one_keep_alive_connection_carries_several_requests(api):
    process, port = api
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    headers = {'Content-Type': 'application/json'}
    body = json.dumps([{'name': 'dp', 'groups': [{'resources:FPGA': '1'}]}])
    requests = [('GET', '/', None), ('GET', '/v2', None),
                ('POST', '/v2/device_profiles', body),
                ('GET', '/v2/device_profiles', None)]
    statuses = []
    sockets = set()
    for method, path, payload in requests:
        connection.request(method, path, body=payload, headers=headers)
        sockets.add(connection.sock)
        response = connection.getresponse()
        statuses.append(response.status)
        document = json.loads(response.read())
        assert not response.will_close, response.headers

    assert statuses == [200, 200, 201, 200]
    assert len(sockets) == 1
    assert [p['name'] for p in document['device_profiles']] == ['dp']
    # The idle keep-alive connection must not hold the shutdown up.
    assert process.stop() == 0, process.log()
    connection.close()


def test_a_dead_worker_is_replaced_and_sigterm_stops_all(api):
    process, port = api
    dead = min(process.children())

    os.kill(dead, signal.SIGKILL)

    def replaced():
        pids = process.children()
        return len(pids) == 2 and dead not in pids and pids
    workers = processes.wait_until(replaced, message='a new worker')
    processes.wait_for_http(process, 'http://127.0.0.1:%d/' % port)
    assert process.stop() == 0, process.log()
    assert not any(os.path.exists('/proc/%d' % pid) for pid in workers)


def raw_exchange(port, request):
    """Send the bytes of ``request``; (status, faultstring) of the answer,
    after which the server must have closed the connection."""
    with socket.create_connection(('127.0.0.1', port), timeout=10) as sock:
        sock.sendall(request)
        data = b''
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b'\r\n\r\n')
    assert b'100 Continue' not in head
    fault = json.loads(json.loads(body)['error_message'])
    return int(head.split()[1]), fault['faultstring']


def test_the_server_refuses_bad_framing_and_large_bodies_in_api_format(
        api):
    _, port = api
    post = (b'POST /v2/device_profiles HTTP/1.1\r\nHost: test\r\n'
            b'Content-Type: application/json\r\n')
    status, message = raw_exchange(
        port, post + b'Content-Length: %d\r\nExpect: 100-continue\r\n\r\n'
        % (BODY_LIMIT + 1))
    assert (status, str(BODY_LIMIT) in message) == (413, True), message
    status, message = raw_exchange(
        port, post + b'Content-Length: +2\r\n\r\n[]')
    assert (status, 'Content-Length' in message) == (400, True), message


def run_script(*lines):
    """Run ``lines`` in a new interpreter (the test process has threads,
    which a fork must not inherit); what it printed."""
    script = '\n'.join(('from cyborg_clone.common import http_server',
                        'from cyborg_clone.common import wsgi_server')
                       + lines)
    result = subprocess.run([sys.executable, '-c', script],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_worker_told_to_stop_as_it_starts_stops_cleanly():
    # The pool's shutdown can SIGTERM a worker it has just forked to
    # replace a dead one; the worker must exit 0, not die of the signal.
    printed = run_script(
        'import os, signal',
        'sock = wsgi_server.listen("127.0.0.1", 0)',
        'settings = http_server.Settings(threads=2, client_socket_timeout=5,',
        '    max_request_body_size=1024, max_connections=16)',
        'def app(environ, start_response):',
        '    start_response("204 No Content", [])',
        '    return []',
        'statuses = []',
        'for _ in range(5):',
        '    pool = wsgi_server.WorkerPool(app, sock, 1, settings)',
        '    pool._spawn()',
        '    (pid,) = pool.children',
        '    os.kill(pid, signal.SIGTERM)',
        '    status = os.waitpid(pid, 0)[1]',
        '    statuses.append(os.waitstatus_to_exitcode(status))',
        'print(statuses)',
    )
    assert printed == '[0, 0, 0, 0, 0]'
