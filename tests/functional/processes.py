"""Run the service's commands as real processes in tests.

Every process listens on 127.0.0.1, writes its output to a log file that a
failing assertion shows, and is stopped by its pid::

    port = processes.free_port()
    config = processes.write_config(tmp_path, {'api': {'port': port}})
    with processes.Process('cyborg-clone-api', config, tmp_path) as api:
        processes.wait_for_http(api, 'http://127.0.0.1:%d/' % port)
        ...
        assert api.stop() == 0
"""

import contextlib
import os
import signal
import socket
import subprocess
import sysconfig
import time
import urllib.error
import urllib.request

# The console scripts of the environment running the tests.
BIN_DIR = sysconfig.get_path('scripts')

STARTUP_TIMEOUT = 30
STOP_TIMEOUT = 10


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def write_config(directory, sections):
    """Write ``{section: {option: value}}`` as an ini file; its path.

    ``[DEFAULT]state_path`` defaults to ``directory`` and ``[api]host_ip``
    to 127.0.0.1.
    """
    sections = {name: dict(options) for name, options in sections.items()}
    sections.setdefault('DEFAULT', {}).setdefault('state_path',
                                                  str(directory))
    sections.setdefault('api', {}).setdefault('host_ip', '127.0.0.1')
    lines = []
    for name, options in sections.items():
        lines.append('[%s]' % name)
        lines.extend('%s = %s' % item for item in options.items())
        lines.append('')
    path = os.path.join(directory, 'cyborg_clone.conf')
    with open(path, 'w') as config:
        config.write('\n'.join(lines))
    return path


class Process:
    """A command running in the background; a context manager that kills
    it (by pid) if the test did not stop it."""

    def __init__(self, command, config, log_dir, *args):
        self.command = command
        self.log_path = os.path.join(log_dir, command + '.log')
        with open(self.log_path, 'wb') as log:
            self.popen = subprocess.Popen(
                [os.path.join(BIN_DIR, command), '--config-file', config,
                 *args],
                stdout=log, stderr=subprocess.STDOUT)
        self.pid = self.popen.pid

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self.popen.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.popen.wait()

    def log(self):
        with open(self.log_path, errors='replace') as log:
            return log.read()

    def stop(self, signum=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Send ``signum``; the exit code once the process has ended."""
        os.kill(self.pid, signum)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                '%s did not stop within %s s:\n%s'
                % (self.command, timeout, self.log())) from None

    def children(self):
        """Pids of the direct children (Linux /proc)."""
        path = '/proc/%d/task/%d/children' % (self.pid, self.pid)
        with open(path) as children:
            return {int(pid) for pid in children.read().split()}


def wait_for_http(process, url, timeout=STARTUP_TIMEOUT):
    """Poll ``url`` until it answers (any status); fail if the process
    exits or ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            pass
        if process.popen.poll() is not None:
            raise AssertionError('%s exited with %s:\n%s' % (
                process.command, process.popen.returncode, process.log()))
        if time.monotonic() > deadline:
            raise AssertionError('%s did not answer %s within %s s:\n%s'
                                 % (process.command, url, timeout,
                                    process.log()))
        time.sleep(0.1)


def is_stopped(pid):
    """Whether ``pid`` is stopped by a signal (state T in /proc): SIGSTOP
    takes effect asynchronously."""
    with open('/proc/%d/stat' % pid) as stat:
        return stat.read().rsplit(')', 1)[1].split()[0] == 'T'


def wait_until(condition, timeout=STARTUP_TIMEOUT, message='condition'):
    """Call ``condition`` until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('%s did not hold within %s s'
                                 % (message, timeout))
        time.sleep(0.1)


@contextlib.contextmanager
def started_with_retries(make, start, attempts=3):
    """``make(attempt)``'s server, started by ``start(server)`` and
    stopped at the end. A start that fails (AssertionError) is tried again
    with a new server: another process may take a free port between our
    choosing it and the server binding it."""
    for attempt in range(attempts):
        server = make(attempt)
        try:
            start(server)
            break
        except AssertionError:
            server.stop()
            if attempt == attempts - 1:
                raise
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def all_in_one(directory, host, **sections):
    """A running ``cyborg-clone-all-in-one`` reporting as ``host`` every
    second; yields (process, base URL). ``sections`` add config options."""
    config = {'DEFAULT': {'host': host}, 'api': {'port': free_port()},
              'agent': {'report_interval': 1}}
    for name, options in sections.items():
        config.setdefault(name, {}).update(options)
    path = write_config(directory, config)
    with Process('cyborg-clone-all-in-one', path, directory) as process:
        url = 'http://127.0.0.1:%d' % config['api']['port']
        wait_for_http(process, url + '/')
        yield process, url
