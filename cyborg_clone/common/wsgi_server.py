"""Serves a WSGI app with eventlet, in this process or in forked workers.

With one worker the server is a service of this process's ``Launcher``.
With more, the parent binds the socket, forks the workers (each runs
``eventlet.wsgi.server`` on the shared socket, and the kernel spreads the
connections), restarts a worker that dies, and on SIGTERM or SIGINT
passes SIGTERM on and waits for the workers to finish their requests.

The caller builds the app before forking; engines and RPC clients connect
lazily, so the workers inherit no open connection.

Import this module only in a process eventlet has patched: importing
``eventlet.wsgi`` swaps green copies into ``http.server`` (seen with
eventlet 0.41), which breaks plain-threaded HTTP servers of the process.
"""

import logging as std_logging
import os
import signal
import socket
import threading
import time

import eventlet
from eventlet import hubs
from eventlet import wsgi
import greenlet
from oslo_log import log as logging

from cyborg_clone.common import service

LOG = logging.getLogger(__name__)

# A client silent this long (idle keep-alive included) is disconnected, so
# vanished clients do not hold green threads forever (nova's default).
CLIENT_SOCKET_TIMEOUT = 900

# After SIGTERM, seconds workers get to finish requests before SIGKILL.
GRACEFUL_SHUTDOWN_TIMEOUT = 30


def listen(host, port, backlog=128):
    """A listening TCP socket on ``host``:``port``.

    SO_REUSEPORT stays off, so a second server on a busy port fails here
    instead of silently sharing it.
    """
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    sock = eventlet.listen((host, port), family=family, backlog=backlog,
                           reuse_port=False)
    LOG.info('Listening on http://%s:%s', host, sock.getsockname()[1])
    return sock


class Server:
    """``app`` served on ``sock`` in a green thread; a Launcher service."""

    def __init__(self, app, sock):
        self.app = app
        self.sock = sock
        self._thread = None

    def start(self):
        self._thread = eventlet.spawn(
            wsgi.server, self.sock, _input_terminated(self.app),
            # oslo.log's default_log_levels sets this logger (access log).
            log=logging.getLogger('eventlet.wsgi.server').logger,
            keepalive=True,
            socket_timeout=CLIENT_SOCKET_TIMEOUT,
            # True would send tracebacks to clients.
            debug=False)

    def stop(self):
        """Stop accepting, close idle connections, finish requests."""
        if self._thread is None:
            return
        # wsgi.server does the graceful part when its thread is killed.
        self._thread.kill()
        try:
            self._thread.wait()
        except greenlet.GreenletExit:
            pass


def _input_terminated(app):
    """``app`` told that ``wsgi.input`` ends where the request body ends.

    eventlet's input stops at Content-Length or at a chunked body's last
    chunk, but does not say so; WebOb reads a body without Content-Length
    only when ``wsgi.input_terminated`` says so (gunicorn sets it), and
    would otherwise take a chunked body for an empty one.
    """
    def terminated(environ, start_response):
        environ['wsgi.input_terminated'] = True
        return app(environ, start_response)
    return terminated


def serve(app, sock, workers):
    """Serve until SIGTERM or SIGINT; returns the exit status."""
    if workers == 1:
        return service.Launcher([Server(app, sock)]).run()
    return WorkerPool(app, sock, workers).run()


class WorkerPool:
    """Forks and supervises ``workers`` processes serving ``app``."""

    def __init__(self, app, sock, workers):
        self.app = app
        self.sock = sock
        self.workers = workers
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
            _own_logging_locks()
            # A fresh hub: the parent's epoll descriptor must not be shared.
            hubs.use_hub()
            os.close(self._parent_alive_w)
            launcher = service.Launcher([Server(self.app, self.sock)])
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


def _own_logging_locks():
    """Give this (forked) process logging locks of its own.

    Under eventlet, oslo.log makes every handler lock a pipe holding one
    token byte, and a fork shares that pipe: parent and workers would hold
    one lock between them, and a worker killed while logging takes the
    token with it, leaving the parent blocked at its next log line (the
    one saying a worker died, so it never restarts it).
    """
    loggers = [logging.getLogger().logger] + [
        logger for logger in std_logging.root.manager.loggerDict.values()
        if isinstance(logger, std_logging.Logger)]
    for logger in loggers:
        for handler in logger.handlers:
            handler.createLock()


def _flush_logs():
    # os._exit() skips the flushing a normal exit would do.
    for handler in logging.getLogger().logger.handlers:
        handler.flush()
