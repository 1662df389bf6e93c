"""Which thread serves which request: one at a time while they compute,
another when the running ones wait."""

import threading
import time

import pytest

from cyborg_clone.common import request_dispatcher

WAIT = 10  # seconds; only reached when something is broken


class Task:
    """A request: records the thread serving it, optionally waiting for
    ``release`` first (waiting, not computing)."""

    def __init__(self, log, name, release=None):
        self.log = log
        self.name = name
        self.release = release
        self.started = threading.Event()
        self.done = threading.Event()
        self.cancelled = False

    def service(self):
        self.started.set()
        if self.release is not None:
            assert self.release.wait(WAIT)
        self.log.append((self.name, threading.get_ident()))
        self.done.set()

    def cancel(self):
        self.cancelled = True


@pytest.fixture
def dispatchers():
    made = []

    def make(threads, stall):
        dispatcher = request_dispatcher.RequestDispatcher(stall=stall)
        dispatcher.set_thread_count(threads)
        made.append(dispatcher)
        return dispatcher

    yield make
    for dispatcher in made:
        dispatcher.shutdown(timeout=WAIT)


def test_requests_queued_behind_one_run_on_its_thread_in_order(dispatchers):
    dispatcher = dispatchers(threads=4, stall=60)
    log, go = [], threading.Event()
    first = Task(log, 0, release=go)
    dispatcher.add_task(first)
    assert first.started.wait(WAIT)
    rest = [Task(log, n) for n in range(1, 10)]
    for task in rest:
        dispatcher.add_task(task)
    go.set()
    assert rest[-1].done.wait(WAIT)
    assert [name for name, _ in log] == list(range(10))
    assert len({thread for _, thread in log}) == 1


def held_and_queued(dispatcher):
    """A request waiting for ``release``, and one queued behind it."""
    log, release = [], threading.Event()
    held, queued = Task(log, 'held', release=release), Task(log, 'queued')
    dispatcher.add_task(held)
    dispatcher.add_task(queued)
    return log, release, held, queued


def test_a_waiting_request_does_not_hold_up_the_next(dispatchers):
    log, release, held, queued = held_and_queued(
        dispatchers(threads=4, stall=0.02))
    assert queued.done.wait(WAIT)
    assert not held.done.is_set()
    release.set()
    assert held.done.wait(WAIT)
    assert [name for name, _ in log] == ['queued', 'held']
    assert log[0][1] != log[1][1]


def test_a_computing_request_is_not_joined_by_another_thread(
        dispatchers, monkeypatch):
    # The running thread's CPU clock advances with the wall clock: it
    # computes all the time, as far as the dispatcher can tell.
    monkeypatch.setattr(request_dispatcher, '_thread_cpu',
                        lambda clock: time.monotonic())
    log, release, _, queued = held_and_queued(
        dispatchers(threads=4, stall=0.02))
    time.sleep(0.3)  # fifteen stall intervals
    assert not queued.started.is_set()
    release.set()
    assert queued.done.wait(WAIT)
    assert [name for name, _ in log] == ['held', 'queued']
    assert log[0][1] == log[1][1]


def test_with_every_thread_waiting_the_next_request_waits(dispatchers):
    dispatcher = dispatchers(threads=2, stall=0.02)
    log, release = [], threading.Event()
    waiting = [Task(log, n, release=release) for n in range(2)]
    queued = Task(log, 'queued')
    for task in waiting:
        dispatcher.add_task(task)
    dispatcher.add_task(queued)
    assert all(task.started.wait(WAIT) for task in waiting)
    time.sleep(0.3)
    assert not queued.started.is_set()
    release.set()
    assert queued.done.wait(WAIT)


def test_shutdown_cancels_what_is_still_queued():
    dispatcher = request_dispatcher.RequestDispatcher(stall=60)
    dispatcher.set_thread_count(1)
    log, release = [], threading.Event()
    running = Task(log, 'running', release=release)
    queued = Task(log, 'queued')
    dispatcher.add_task(running)
    dispatcher.add_task(queued)
    assert running.started.wait(WAIT)
    try:
        dispatcher.shutdown(cancel_pending=True, timeout=0.2)
    finally:
        release.set()
    assert running.done.wait(WAIT)
    assert queued.cancelled
    assert not queued.started.is_set()


def test_a_failing_request_does_not_stop_its_thread(dispatchers):
    dispatcher = dispatchers(threads=1, stall=60)
    log = []

    class Failing(Task):
        def service(self):
            raise RuntimeError('boom')

    dispatcher.add_task(Failing(log, 'failing'))
    after = Task(log, 'after')
    dispatcher.add_task(after)
    assert after.done.wait(WAIT)
    assert [name for name, _ in log] == ['after']


@pytest.mark.parametrize('began_ago, cpu_used, computes', [
    (0.005, 0.0, True),  # just began: may well be computing
    (1.0, 0.9, True),
    (1.0, 0.01, False),  # a second in, next to no CPU: waiting
])
def test_a_finishing_thread_steps_back_while_another_computes(
        monkeypatch, began_ago, cpu_used, computes):
    cpu_now = {'other': 5.0, 'me': 4.0}
    monkeypatch.setattr(request_dispatcher, '_thread_cpu',
                        lambda clock: cpu_now[clock])
    dispatcher = request_dispatcher.RequestDispatcher(stall=0.02)
    now = time.monotonic()
    dispatcher._running = {
        1: ('me', now - 5, 0.0),
        2: ('other', now - began_ago, cpu_now['other'] - cpu_used)}
    assert dispatcher._another_computes(1) is computes
    assert dispatcher._another_computes(2) is True  # 'me' computes
