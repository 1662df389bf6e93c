"""cyborg-clone-api as a real process with two pre-forked workers."""

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys

import pytest

from tests.functional import processes

pytestmark = pytest.mark.slow


@pytest.fixture
def api(tmp_path, migrated_template):
    shutil.copy(migrated_template, tmp_path / 'cyborg_clone.sqlite')
    port = processes.free_port()
    config = processes.write_config(tmp_path, {
        'DEFAULT': {'transport_url': 'fake:/'},
        'api': {'port': port, 'workers': 2, 'auth_strategy': 'noauth'},
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


def run_patched(*lines):
    """Run ``lines`` in a new interpreter that eventlet has patched, as
    the API command is (wsgi_server needs that); what it printed."""
    script = '\n'.join(('from cyborg_clone import cmd', 'cmd.monkey_patch()',
                        'from cyborg_clone.common import wsgi_server')
                       + lines)
    result = subprocess.run([sys.executable, '-c', script],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_workers_get_logging_locks_of_their_own():
    # oslo.log's pipe locks would otherwise be shared by the parent and
    # its forked workers (see wsgi_server._own_logging_locks).
    printed = run_patched(
        'import logging',
        'from oslo_log import pipe_mutex',
        'logging.Handler.createLock = pipe_mutex.pipe_createLock',
        'handler = logging.StreamHandler()',
        'logging.getLogger("cyborg_clone").addHandler(handler)',
        'before = handler.lock',
        'wsgi_server._own_logging_locks()',
        'assert handler.lock is not before',
        'assert handler.lock.rfd != before.rfd',
        'print("own locks")',
    )
    assert printed == 'own locks'


def test_a_worker_told_to_stop_as_it_starts_stops_cleanly():
    # The pool's shutdown can SIGTERM a worker it has just forked to
    # replace a dead one; the worker must exit 0, not die of the signal.
    printed = run_patched(
        'import os, signal',
        'sock = wsgi_server.listen("127.0.0.1", 0)',
        'def app(environ, start_response):',
        '    start_response("204 No Content", [])',
        '    return []',
        'statuses = []',
        'for _ in range(5):',
        '    pool = wsgi_server.WorkerPool(app, sock, 1)',
        '    pool._spawn()',
        '    (pid,) = pool.children',
        '    os.kill(pid, signal.SIGTERM)',
        '    status = os.waitpid(pid, 0)[1]',
        '    statuses.append(os.waitstatus_to_exitcode(status))',
        'print(statuses)',
    )
    assert printed == '[0, 0, 0, 0, 0]'
