"""Serves a WSGI app over HTTP, in this process or in forked workers.

``http_server`` does the HTTP (waitress, held to the API's rules); this
module runs it. With one worker the server is a service of this process's
``Launcher``. With more, the parent binds the socket, forks the workers
(each serves the shared socket, and the kernel hands each connection to
one of them), restarts a worker that dies, and on SIGTERM or SIGINT
passes SIGTERM on and waits for the workers to finish their requests.

The caller builds the app before forking; engines and RPC clients connect
lazily, so the workers inherit no open connection.
"""

import os
import signal
import socket
import threading
import time

from oslo_log import log as logging

from cyborg_clone.common import http_server
from cyborg_clone.common import service

LOG = logging.getLogger(__name__)

# After SIGTERM, seconds a worker gives requests in progress to finish.
DRAIN_TIMEOUT = 20

# After SIGTERM, seconds the parent gives workers before SIGKILL.
GRACEFUL_SHUTDOWN_TIMEOUT = 30

# Connections the kernel queues for accept() while every worker is busy.
BACKLOG = 1024


def listen(host, port, backlog=BACKLOG):
    """A listening TCP socket on ``host``:``port``.

    SO_REUSEPORT stays off, so a second server on a busy port fails here
    instead of silently sharing it.
    """
    family, socktype, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, socktype, proto)
    try:
        # A restart may bind while the last run's connections linger.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    LOG.info('Listening on http://%s:%s', host, sock.getsockname()[1])
    return sock


class Server:
    """``app`` served on ``sock`` by threads of this process; a Launcher
    service whose ``stop()`` lets requests in progress finish."""

    def __init__(self, app, sock, settings):
        self.app = app
        self.sock = sock
        self.settings = settings
        self._server = None
        self._thread = None

    def start(self):
        self._server = http_server.make_server(self.app, self.sock,
                                               self.settings)
        self._thread = threading.Thread(target=self._server.serve,
                                        name='http-server', daemon=True)
        self._thread.start()

    def stop(self):
        """Stop accepting, close idle connections, finish requests."""
        if self._thread is None:
            return
        self._server.stop(DRAIN_TIMEOUT)
        self._thread.join()


def serve(app, sock, workers, settings):
    """Serve until SIGTERM or SIGINT; returns the exit status."""
    if workers == 1:
        return service.Launcher([Server(app, sock, settings)]).run()
    return WorkerPool(app, sock, workers, settings).run()


class WorkerPool:
    """Forks and supervises ``workers`` processes serving ``app``."""

    def __init__(self, app, sock, workers, settings):
        self.app = app
        self.sock = sock
        self.workers = workers
        self.settings = settings
        self.children = set()
        # The parent alone keeps the write end open: when it dies, however
        # it dies, the workers read EOF and stop instead of living on.
        self._parent_alive_r, self._parent_alive_w = os.pipe()

    def run(self):
        stop = service.StopEvent()
        stop.handle_signals()
        try:
            while not stop.is_set():
                for pid, status in self._reap():
                    LOG.error('API worker %d exited with status %d; '
                              'starting another', pid, status)
                while len(self.children) < self.workers:
                    self._spawn()
                # Also the pace of restarts if workers keep dying.
                stop.wait(1.0)
            LOG.info('Stopping %d API workers', len(self.children))
            return self._stop_children()
        finally:
            stop.close()
            os.close(self._parent_alive_r)
            os.close(self._parent_alive_w)

    def _spawn(self):
        # Stop signals stay blocked across fork() so that a child never
        # runs the parent's handlers.
        signal.pthread_sigmask(signal.SIG_BLOCK, service.STOP_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:
                os._exit(self._run_child())
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, service.STOP_SIGNALS)
        self.children.add(pid)
        LOG.info('Started API worker %d', pid)

    def _run_child(self):
        try:
            signal.set_wakeup_fd(-1)
            for signum in service.STOP_SIGNALS:
                signal.signal(signum, signal.SIG_DFL)
            # The signals stay blocked until the Launcher has its handlers
            # (it unblocks them): a SIGTERM sent to a worker just forked
            # during shutdown is then a clean stop, not a death by signal.
            os.close(self._parent_alive_w)
            launcher = service.Launcher([
                Server(self.app, self.sock, self.settings)])
            _watch_parent(self._parent_alive_r, launcher)
            return launcher.run()
        except BaseException:
            LOG.exception('API worker %d failed', os.getpid())
            return 1
        finally:
            _flush_logs()

    def _reap(self):
        """(pid, exit code) of each child that has exited."""
        reaped = []
        while self.children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            self.children.discard(pid)
            reaped.append((pid, os.waitstatus_to_exitcode(status)))
        return reaped

    def _stop_children(self):
        """SIGTERM, then SIGKILL after the grace period; 0 if all clean."""
        for pid in self.children:
            _kill(pid, signal.SIGTERM)
        statuses = []
        deadline = time.monotonic() + GRACEFUL_SHUTDOWN_TIMEOUT
        while self.children and time.monotonic() < deadline:
            statuses += [status for _, status in self._reap()]
            time.sleep(0.05)
        for pid in list(self.children):
            LOG.error('API worker %d did not stop in %d s; killing it',
                      pid, GRACEFUL_SHUTDOWN_TIMEOUT)
            _kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            statuses.append(-signal.SIGKILL)
        self.children.clear()
        return 0 if all(status == 0 for status in statuses) else 1


def _kill(pid, signum):
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _watch_parent(fd, launcher):
    def watch():
        while os.read(fd, 1):
            pass
        LOG.warning('API parent process is gone; stopping worker %d',
                    os.getpid())
        launcher.stop()
    threading.Thread(target=watch, daemon=True).start()


def _flush_logs():
    # os._exit() skips the flushing a normal exit would do.
    for handler in logging.getLogger().logger.handlers:
        handler.flush()
