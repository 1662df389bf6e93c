"""A lock per key (an instance, a deployable), for threads of one process."""

import collections
import contextlib
import threading


class KeyedLocks:
    """``with locks.hold(key):`` runs one thread at a time per key; a
    key's lock is kept only while a thread holds or waits for it."""

    def __init__(self):
        self._guard = threading.Lock()
        self._locks = {}
        self._users = collections.Counter()

    @contextlib.contextmanager
    def hold(self, key):
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
            self._users[key] += 1
        try:
            with lock:
                yield
        finally:
            with self._guard:
                self._users[key] -= 1
                if not self._users[key]:
                    del self._users[key], self._locks[key]
