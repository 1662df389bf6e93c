"""The service runner: periodic tasks, the stop event and the launcher."""

import os
import signal
import threading
import time

import pytest

from cyborg_clone.common import context
from cyborg_clone.common import rpc
from cyborg_clone.common import service
from tests.conftest import make_conf

WAIT = 5  # seconds; generous, tests finish as soon as the condition holds


def wait_until(condition):
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, 'condition never held'
        time.sleep(0.01)


class Calls:
    """A periodic function that fails every other call."""

    def __init__(self):
        self.count = 0

    def __call__(self):
        self.count += 1
        if self.count % 2:
            raise RuntimeError('call %d fails' % self.count)


def test_periodic_task_keeps_running_after_an_exception():
    calls = Calls()
    task = service.PeriodicTask(calls, 0.01, 'flaky')
    task.start()
    try:
        wait_until(lambda: calls.count >= 4)
    finally:
        task.stop()


def test_periodic_task_stop_ends_the_thread_and_the_calls():
    calls = Calls()
    task = service.PeriodicTask(calls, 0.01, 'flaky')
    task.start()
    wait_until(lambda: calls.count >= 1)

    task.stop()

    assert not task._thread.is_alive()
    count = calls.count
    time.sleep(0.05)
    assert calls.count == count


def test_periodic_task_runs_at_start_when_asked():
    calls = Calls()
    task = service.PeriodicTask(calls, 3600, 'hourly', run_at_start=True)
    task.start()
    try:
        wait_until(lambda: calls.count == 1)
    finally:
        task.stop()


def test_stop_event_wait_times_out_until_set():
    event = service.StopEvent()
    try:
        assert event.wait(0.01) is False
        event.set()
        assert event.wait(0.01) is True
        assert event.wait() is True
    finally:
        event.close()


def test_stop_event_is_set_by_its_signals():
    event = service.StopEvent()
    before = signal.getsignal(signal.SIGUSR1)
    event.handle_signals([signal.SIGUSR1])
    try:
        os.kill(os.getpid(), signal.SIGUSR1)
        assert event.wait(WAIT) is True
        assert event.signum == signal.SIGUSR1
    finally:
        event.close()
    assert signal.getsignal(signal.SIGUSR1) is before


class Recorder:
    """A service that records starts and stops in a shared journal."""

    def __init__(self, name, journal, fail_start=False):
        self.name = name
        self.journal = journal
        self.fail_start = fail_start

    def start(self):
        if self.fail_start:
            raise RuntimeError('%s cannot start' % self.name)
        self.journal.append(('start', self.name))

    def stop(self):
        self.journal.append(('stop', self.name))


def run_in_thread(launcher):
    result = {}
    thread = threading.Thread(
        target=lambda: result.setdefault('status', launcher.run()))
    thread.start()
    return thread, result


def test_launcher_stops_services_in_reverse_order():
    journal = []
    launcher = service.Launcher([Recorder('a', journal),
                                 Recorder('b', journal)],
                                handle_signals=False)
    thread, result = run_in_thread(launcher)
    wait_until(lambda: len(journal) == 2)

    launcher.stop()
    thread.join(WAIT)

    assert not thread.is_alive()
    assert result['status'] == 0
    assert journal == [('start', 'a'), ('start', 'b'),
                       ('stop', 'b'), ('stop', 'a')]


def test_launcher_stops_started_services_when_one_fails_to_start():
    journal = []
    launcher = service.Launcher([Recorder('a', journal),
                                 Recorder('b', journal, fail_start=True)],
                                handle_signals=False)

    with pytest.raises(RuntimeError, match='b cannot start'):
        launcher.run()

    assert journal == [('start', 'a'), ('stop', 'a')]


class Echo:
    def echo(self, context, value):
        return value


def test_rpc_service_answers_calls_and_stops_cleanly(tmp_path):
    conf = make_conf(tmp_path)
    conf.set_override('transport_url', 'fake:/')
    calls = Calls()
    svc = service.RPCService(conf, 'echo-topic', 'echo-host', [Echo()],
                             [service.PeriodicTask(calls, 0.01, 'tick')])
    svc.start()
    try:
        client = rpc.get_client(conf, 'echo-topic', server='echo-host',
                                timeout=WAIT)
        assert client.prepare().call(context.get_admin_context(), 'echo',
                                     value=42) == 42
        wait_until(lambda: calls.count >= 2)
    finally:
        svc.stop()
        rpc.cleanup()
    assert all(not task._thread.is_alive() for task in svc.periodic_tasks)
