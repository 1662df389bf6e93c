"""The API served the three documented ways, each with two workers:
``cyborg-clone-api`` (its own server, [api]workers), gunicorn (gthread
workers) and uWSGI with etc/cyborg_clone/uwsgi.ini.

For each: many requests on one persistent HTTP/1.1 connection, several
such connections at once, and every worker serving, with no connection
reset or close on the way. The deployment steps of the README come first:
``cyborg-clone-dbsync upgrade`` then ``cyborg-clone-status upgrade check``.
"""

import contextlib
import http.client
import json
import os
import pathlib
import signal
import socket
import subprocess
import threading

import pytest

from tests.functional import processes

pytestmark = pytest.mark.slow

REPO = pathlib.Path(__file__).resolve().parents[2]
UWSGI_INI = REPO / 'etc' / 'cyborg_clone' / 'uwsgi.ini'
APP = 'cyborg_clone.api.wsgi:application'
WORKERS = 2

# The gunicorn command line the README documents (bind and workers
# apart). The sync worker closes the connection after every response;
# gthread keeps it, parking idle connections outside the threads.
GUNICORN_OPTIONS = ('--worker-class', 'gthread', '--threads', '4',
                    '--keep-alive', '75')

# Seconds a client waits on one answer; generous, only to end a hang.
CLIENT_TIMEOUT = 30


class Server(processes.Process):
    """A server started from a full command line and environment.

    Stopping it (or leaving the ``with`` block) ends its workers too, by
    pid: a server killed hard may leave them running.
    """

    def __init__(self, argv, log_dir, env):
        self.command = os.path.basename(argv[0])
        self.log_path = os.path.join(log_dir, self.command + '.log')
        with open(self.log_path, 'wb') as log:
            self.popen = subprocess.Popen(argv, stdout=log,
                                          stderr=subprocess.STDOUT, env=env)
        self.pid = self.popen.pid
        self.known_children = set()

    def workers(self):
        """Pids of the worker processes (not uWSGI's HTTP router)."""
        pids = set()
        for pid in self.children():
            with contextlib.suppress(OSError):
                with open('/proc/%d/cmdline' % pid, 'rb') as cmdline:
                    if b'uWSGI http' in cmdline.read():
                        continue
                pids.add(pid)
        self.known_children |= self.children()
        return pids

    def __exit__(self, *exc_info):
        if self.popen.poll() is None:
            self.known_children |= self.children()
            os.kill(self.pid, signal.SIGKILL)
            self.popen.wait()
        for pid in self.known_children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def run_command(config, name, *args):
    """Run one of our console scripts to its end; (exit code, output)."""
    result = subprocess.run(
        [os.path.join(processes.BIN_DIR, name), '--config-file', config,
         *args],
        capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope='module')
def deployment(tmp_path_factory):
    """(directory, config file, [api]port), with the database made the way
    the README deploys: dbsync upgrade, then the upgrade check passing."""
    directory = tmp_path_factory.mktemp('serving')
    api_port = processes.free_port()
    config = processes.write_config(directory, {
        'DEFAULT': {'transport_url': 'fake:/'},
        'api': {'port': api_port, 'workers': WORKERS,
                'auth_strategy': 'noauth'},
    })
    code, output = run_command(config, 'cyborg-clone-dbsync', 'upgrade')
    assert code == 0, output
    code, output = run_command(config, 'cyborg-clone-status', 'upgrade',
                               'check')
    assert code == 0, output
    return directory, config, api_port


def _start(kind, directory, config, port):
    env = dict(os.environ, CYBORG_CLONE_CONFIG_FILE=config)
    if kind == 'cyborg-clone-api':
        # [api]port of the config; the other two get theirs on the
        # command line.
        argv = [os.path.join(processes.BIN_DIR, 'cyborg-clone-api'),
                '--config-file', config]
    elif kind == 'gunicorn':
        argv = [os.path.join(processes.BIN_DIR, 'gunicorn'),
                '--workers', str(WORKERS), *GUNICORN_OPTIONS,
                '--bind', '127.0.0.1:%d' % port, APP]
    else:
        uwsgi = os.path.join(processes.BIN_DIR, 'uwsgi')
        if not os.access(uwsgi, os.X_OK):
            pytest.skip('uWSGI is not installed in this environment: '
                        '"pip install uwsgi" builds it (it needs a C '
                        'compiler and the Python headers)')
        # The ini's own "processes = 2"; only the address changes.
        argv = [uwsgi, '--set-ph', 'api_listen=127.0.0.1:%d' % port,
                '--ini', str(UWSGI_INI)]
    log_dir = directory / kind
    log_dir.mkdir()
    return Server(argv, str(log_dir), env)


@pytest.fixture(scope='module',
                params=['cyborg-clone-api', 'gunicorn', 'uwsgi'])
def server(request, deployment):
    """(the running server, its port), serving with WORKERS workers."""
    directory, config, api_port = deployment
    kind = request.param
    port = api_port if kind == 'cyborg-clone-api' else processes.free_port()
    with _start(kind, directory, config, port) as process:
        processes.wait_for_http(process, 'http://127.0.0.1:%d/' % port)
        processes.wait_until(lambda: len(process.workers()) == WORKERS,
                             message='%d %s workers' % (WORKERS, kind))
        yield process, port
        process.workers()  # Records every child, the router too.
        # SIGTERM stops the server and its workers, cleanly.
        assert process.stop(timeout=60) == 0, process.log()
        assert not [pid for pid in process.known_children
                    if os.path.exists('/proc/%d' % pid)], process.log()


def exchange(connection, sockets, method, path, body=None, **headers):
    """One request on ``connection``; (status, decoded body). Records the
    socket it went on and fails if the server announced a close."""
    if body:
        headers['Content-Type'] = 'application/json'
    connection.request(method, path, body=body and json.dumps(body),
                       headers=headers)
    sockets.add(connection.sock)
    response = connection.getresponse()
    data = response.read()
    assert not response.will_close, (method, path, dict(response.headers))
    return response.status, json.loads(data) if data else None


def test_one_connection_carries_many_requests(server):
    process, port = server
    connection = http.client.HTTPConnection('127.0.0.1', port,
                                            timeout=CLIENT_TIMEOUT)
    sockets = set()
    statuses = []
    names = ['keep-alive-%s-%d' % (process.command, i) for i in range(20)]
    try:
        for name in names:
            for method, path, body in (
                    ('GET', '/', None),
                    ('POST', '/v2/device_profiles',
                     [{'name': name, 'groups': [{'resources:FPGA': '1'}]}]),
                    ('GET', '/v2/device_profiles', None)):
                status, document = exchange(connection, sockets, method,
                                            path, body)
                statuses.append(status)
        listed = {profile['name'] for profile in document['device_profiles']}
        for name in names:
            status, _ = exchange(connection, sockets, 'DELETE',
                                 '/v2/device_profiles?value=%s' % name)
            statuses.append(status)
    finally:
        connection.close()

    assert statuses == [200, 201, 200] * len(names) + [204] * len(names)
    assert set(names) <= listed
    # http.client reconnects silently after a close: one socket proves
    # the server never closed the connection.
    assert len(sockets) == 1


def test_concurrent_connections_see_no_reset(server):
    process, port = server
    clients, requests = 8, 25
    errors = []
    start = threading.Barrier(clients)

    def client():
        connection = http.client.HTTPConnection('127.0.0.1', port,
                                                timeout=CLIENT_TIMEOUT)
        sockets = set()
        try:
            start.wait()
            for _ in range(requests):
                status, document = exchange(connection, sockets, 'GET', '/v2')
                if status != 200:
                    errors.append('status %s: %s' % (status, document))
            if len(sockets) != 1:
                errors.append('reconnected %d times' % (len(sockets) - 1))
        except Exception as error:  # reset, close, timeout: all reported
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == [], process.log()


def test_a_body_left_unread_does_not_spoil_the_connection(server):
    # An unknown microversion is refused (406) before any controller reads
    # the body; the rest of the body must not be taken for the next
    # request (gunicorn and uWSGI leave it to the app, see
    # api/middleware/drain_body.py).
    process, port = server
    connection = http.client.HTTPConnection('127.0.0.1', port,
                                            timeout=CLIENT_TIMEOUT)
    sockets = set()
    body = [{'name': 'unread', 'groups': [{'resources:FPGA': '1'}],
             'padding': 'x' * 200000}]
    try:
        refused, _ = exchange(
            connection, sockets, 'POST', '/v2/device_profiles', body,
            **{'OpenStack-API-Version': 'accelerator 9.9'})
        status, document = exchange(connection, sockets, 'GET', '/v2')
    finally:
        connection.close()

    assert (refused, status) == (406, 200), process.log()
    assert document['id'] == 'v2.0'
    assert len(sockets) == 1


@contextlib.contextmanager
def stopped(pids):
    """SIGSTOP ``pids`` for the block: a stopped worker accepts nothing."""
    stopped = []
    try:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        # SIGSTOP takes effect asynchronously: a worker still running could
        # accept the next connection and then stop holding it.
        for pid in stopped:
            processes.wait_until(lambda pid=pid: processes.is_stopped(pid),
                                 message='worker %d stopped' % pid)
        yield
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)


def test_every_worker_serves(server):
    process, port = server
    workers = process.workers()
    assert len(workers) == WORKERS
    served = {}
    for worker in sorted(workers):
        # The others stopped, this worker alone can take the connection.
        with stopped(workers - {worker}):
            connection = http.client.HTTPConnection(
                '127.0.0.1', port, timeout=CLIENT_TIMEOUT)
            try:
                served[worker], _ = exchange(connection, set(), 'GET', '/v2')
            finally:
                connection.close()

    assert served == {worker: 200 for worker in workers}, process.log()


def test_a_chunked_body_is_read(server):
    # Clients that stream a body ("Transfer-Encoding: chunked", e.g. curl
    # -T -) send no Content-Length; each server hands the decoded body to
    # the app its own way. uWSGI's router cannot keep such a connection:
    # the response must say so, and the client then opens a new one.
    process, port = server
    connection = http.client.HTTPConnection('127.0.0.1', port,
                                            timeout=CLIENT_TIMEOUT)
    sockets = set()
    name = 'chunked-%s' % process.command
    encoded = json.dumps([{'name': name,
                           'groups': [{'resources:FPGA': '1'}]}]).encode()
    try:
        connection.request(
            'POST', '/v2/device_profiles',
            body=(encoded[i:i + 16] for i in range(0, len(encoded), 16)),
            encode_chunked=True,
            headers={'Content-Type': 'application/json',
                     'Transfer-Encoding': 'chunked'})
        sockets.add(connection.sock)
        response = connection.getresponse()
        document = json.loads(response.read())
        status, _ = exchange(connection, sockets, 'GET', '/v2')
    finally:
        connection.close()

    assert (response.status, document['name']) == (201, name), document
    assert status == 200, process.log()
    closes = process.command == 'uwsgi'
    assert response.will_close is closes, dict(response.headers)
    assert len(sockets) == 1 + closes


def test_a_body_announced_over_the_limit_is_refused_unread(server):
    # [api]max_request_body_size is 1 MiB by default; the body is never
    # sent. gunicorn invites it ("100 Continue") before the app can look
    # at the request; the API's own server and uWSGI's router do not.
    process, port = server
    with socket.create_connection(('127.0.0.1', port),
                                  timeout=CLIENT_TIMEOUT) as sock:
        sock.sendall(b'POST /v2/device_profiles HTTP/1.1\r\nHost: test\r\n'
                     b'Content-Type: application/json\r\n'
                     b'Content-Length: 2097152\r\n'
                     b'Expect: 100-continue\r\n\r\n')
        response = http.client.HTTPResponse(sock)
        response.begin()
        while response.status == 100:
            response = http.client.HTTPResponse(sock)
            response.begin()
        body = response.read()

    assert response.status == 413, process.log()
    fault = json.loads(json.loads(body)['error_message'])
    assert '1048576 bytes' in fault['faultstring']
