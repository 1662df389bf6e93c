"""Runs a process's services: RPC servers, periodic tasks, clean shutdown.

A command builds its services and hands them to a ``Launcher``::

    service.Launcher([
        service.RPCService(conf, topic, conf.host, [manager],
                           [service.PeriodicTask(tick, 60, 'tick')]),
    ]).run()

``run()`` starts them, blocks until SIGTERM or SIGINT (or ``stop()``),
then stops them in reverse order and closes the RPC transport. A service is
anything with ``start()`` and ``stop()``; ``stop()`` returns once the
service's work has finished.

Everything here runs on plain threads; the main thread only waits for a
stop signal.
"""

import os
import select
import signal
import threading
import time

from oslo_log import log as logging

from cyborg_clone.common import rpc

LOG = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopEvent:
    """An event set by a stop signal or ``set()``; the main thread waits.

    A signal handler runs on top of whatever the main thread was doing,
    possibly inside ``threading.Event.wait()`` holding the event's lock, so
    it must not take a lock, which rules out ``threading.Event.set()``. The
    handler here only records the signal; Python's C-level handler wakes
    ``wait()`` by writing to the pipe given to ``signal.set_wakeup_fd()``.
    """

    def __init__(self):
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        os.set_blocking(self._write_fd, False)
        self._is_set = False
        self._closed = False
        self._previous_handlers = {}
        self._previous_wakeup_fd = -1
        self.signum = None

    def handle_signals(self, signals=STOP_SIGNALS):
        """Set the event on ``signals``; main thread only."""
        self._previous_wakeup_fd = signal.set_wakeup_fd(self._write_fd)
        for signum in signals:
            self._previous_handlers[signum] = signal.signal(
                signum, self._on_signal)

    def restore_signals(self):
        """Give the signals back, e.g. so a second Ctrl-C kills."""
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)
        if self._previous_handlers:
            signal.set_wakeup_fd(self._previous_wakeup_fd)
        self._previous_handlers = {}

    def _on_signal(self, signum, frame):
        self.signum = signum
        self._is_set = True

    def set(self):
        self._is_set = True
        if self._closed:
            return
        try:
            os.write(self._write_fd, b'\0')
        except BlockingIOError:
            pass  # The pipe is full of wake-ups already.

    def is_set(self):
        return self._is_set

    def wait(self, timeout=None):
        """True once set; False if ``timeout`` seconds pass first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._is_set:
            remaining = None
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
            # Other signals with Python handlers wake us too: loop.
            if select.select([self._read_fd], [], [], remaining)[0]:
                self._drain()
        return True

    def _drain(self):
        try:
            os.read(self._read_fd, 512)
        except BlockingIOError:
            pass

    def close(self):
        self.restore_signals()
        self._closed = True
        os.close(self._read_fd)
        os.close(self._write_fd)


class PeriodicTask:
    """Calls ``func()`` in its own thread, ``interval`` seconds apart.

    The interval runs from the end of one call to the start of the next,
    so a slow call never overlaps the next one. A call that raises is
    logged and the next one happens as usual; only ``stop()`` ends the
    loop. With ``run_at_start`` the first call happens at once.
    """

    def __init__(self, func, interval, name, run_at_start=False):
        self.func = func
        self.interval = interval
        self.name = name
        self.run_at_start = run_at_start
        self._stopping = threading.Event()
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._loop, name=self.name,
                                        daemon=True)
        self._thread.start()

    def _loop(self):
        delay = 0 if self.run_at_start else self.interval
        while not self._stopping.wait(delay):
            try:
                self.func()
            except Exception:
                LOG.exception('Periodic task %s failed; next try in %s s',
                              self.name, self.interval)
            delay = self.interval

    def stop(self):
        """Stop the loop, waiting for a call in progress to finish."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()


class RPCService:
    """An RPC server for ``endpoints`` on ``topic``/``server``, plus the
    periodic tasks of the same component."""

    def __init__(self, conf, topic, server, endpoints, periodic_tasks=()):
        self.conf = conf
        self.topic = topic
        self.server = server
        self.endpoints = endpoints
        self.periodic_tasks = list(periodic_tasks)
        self._rpc_server = None

    def start(self):
        self._rpc_server = rpc.get_server(self.conf, self.topic, self.server,
                                          self.endpoints)
        self._rpc_server.start()
        LOG.info('Listening for RPC on topic %s as server %s',
                 self.topic, self.server)
        for task in self.periodic_tasks:
            task.start()

    def stop(self):
        """Stop the periodic tasks, then let RPC calls in progress end."""
        for task in self.periodic_tasks:
            task.stop()
        if self._rpc_server is not None:
            self._rpc_server.stop()
            self._rpc_server.wait()


class Launcher:
    """Runs ``services`` until a stop signal or ``stop()``."""

    def __init__(self, services, handle_signals=True):
        self.services = list(services)
        self.handle_signals = handle_signals
        self._stop_event = StopEvent()

    def run(self):
        """Start, wait, stop. Returns 0, or 1 if a service failed to stop.

        An exception from a service's ``start()`` propagates after the
        services already started have been stopped.
        """
        if self.handle_signals:
            self._stop_event.handle_signals()
            # A parent that forks may block the signals until the handlers
            # exist, so a stop sent meanwhile waits here instead of killing
            # the process before it can stop cleanly.
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        started = []
        try:
            for svc in self.services:
                svc.start()
                started.append(svc)
            self._stop_event.wait()
            self._stop_event.restore_signals()
            if self._stop_event.signum is not None:
                LOG.info('Received %s, stopping',
                         signal.Signals(self._stop_event.signum).name)
        finally:
            status = self._stop_all(reversed(started))
            rpc.cleanup()
            self._stop_event.close()
        return status

    def stop(self):
        """Ask ``run()`` to return; safe from any thread."""
        self._stop_event.set()

    @staticmethod
    def _stop_all(services):
        status = 0
        for svc in services:
            try:
                svc.stop()
            except Exception:
                LOG.exception('Stopping %s failed', svc)
                status = 1
        return status
