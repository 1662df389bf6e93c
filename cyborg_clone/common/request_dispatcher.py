"""Hands the HTTP server's requests to its threads, one thread at a time
while requests compute.

Python runs one thread at a time (the GIL). waitress wakes an idle thread
for every request, so with eight busy clients eight threads take turns
at the interpreter, and every call that lets go of it for a moment (each
SQLite row fetched, each socket send) hands it to another thread: a
request then costs two to three times its own CPU time in thread
switches, and a list of 300 rows makes over a hundred switches.

Here a thread that finishes a request takes the next one queued without
sleeping, and no other thread is woken while the running ones compute. A
request waiting on something other than the interpreter (an RPC reply,
Keystone, Glance, a database lock) uses no CPU: one idle thread stands
by while requests are queued, and when for ``stall`` seconds no request
has started or finished and the running threads have used less than
half that time in CPU, it takes the next request, and so on up to the
pool's size. A thread finishing a request while another computes steps
back rather than going on, so the threads let in during a wait do not
stay in once it ends. So a pool of eight still serves seven clients
while one request waits a minute for a conductor, a long computing
request (a list of a thousand ARQs) is not joined by a second thread,
and computing requests no longer fight over the interpreter.

Same interface as waitress's ``ThreadedTaskDispatcher`` (which this
extends for its thread start and shutdown): ``set_thread_count``,
``add_task``, ``shutdown``.
"""

import threading
import time

from waitress import task as waitress_task

# How long a standby thread watches the running ones before deciding.
STALL_SECONDS = 0.01

# The running threads used less CPU than this share of the interval:
# they are waiting, not computing (computing, they share one interpreter,
# so together they use about all of it).
_WAITING_SHARE = 0.5


# A thread's CPU time by its clock id (a name tests can replace).
_thread_cpu = time.clock_gettime


class RequestDispatcher(waitress_task.ThreadedTaskDispatcher):

    def __init__(self, stall=STALL_SECONDS):
        super().__init__()
        self.stall = stall
        # By thread number, each thread serving a request: its CPU clock,
        # and when (wall clock, its CPU time) it began that request.
        self._running = {}
        # Requests started or finished so far: progress.
        self._events = 0
        # One idle thread at most waits with a timeout, to step in when
        # the running ones stall; the others sleep until woken.
        self._standby = False

    def _running_cpu(self):
        return sum(_thread_cpu(clock)
                   for clock, _, _ in self._running.values())

    def _idle(self):
        """Wait; True when this thread saw the running ones stall."""
        if not self.queue or self._standby:
            self.queue_cv.wait()
            return False
        self._standby = True
        events, cpu = self._events, self._running_cpu()
        started = time.monotonic()
        try:
            self.queue_cv.wait(self.stall)
        finally:
            self._standby = False
        watched = time.monotonic() - started
        return (events == self._events and watched >= self.stall
                and self._running_cpu() - cpu < watched * _WAITING_SHARE)

    def _another_computes(self, thread_no):
        """Whether a running thread other than ``thread_no`` may be
        computing: it began its request less than ``stall`` ago, or has
        used at least half the time since in CPU. A thread let in while
        another waited steps back this way once that one computes again,
        so waits do not ratchet the number of computing threads up."""
        now = time.monotonic()
        for other, (clock, began, cpu) in self._running.items():
            if other == thread_no:
                continue
            elapsed = now - began
            if elapsed < self.stall or (
                    _thread_cpu(clock) - cpu >= elapsed * _WAITING_SHARE):
                return True
        return False

    def handler_thread(self, thread_no):
        clock = time.pthread_getcpuclockid(threading.get_ident())
        task = None
        while True:
            with self.lock:
                if task is not None:
                    self._events += 1
                    # Done with one: go straight on to the next, no sleep,
                    # unless another thread computes meanwhile.
                    if (not self.queue or self.stop_count > 0
                            or self._another_computes(thread_no)):
                        del self._running[thread_no]
                        task = None
                if task is None:
                    stalled = False
                    while self.stop_count == 0 and not (
                            self.queue and (not self._running or stalled)):
                        stalled = self._idle()
                    if self.stop_count > 0:
                        self.stop_count -= 1
                        self.threads.discard(thread_no)
                        self.thread_exit_cv.notify()
                        return
                self._running[thread_no] = (clock, time.monotonic(),
                                            _thread_cpu(clock))
                self._events += 1
                task = self.queue.popleft()
                if self.queue and not self._standby:
                    self.queue_cv.notify()  # a standby for the rest
            try:
                task.service()
            except BaseException:
                self.logger.exception('Exception when servicing %r', task)

    def add_task(self, task):
        with self.lock:
            self.queue.append(task)
            if not self._running or not self._standby:
                self.queue_cv.notify()
