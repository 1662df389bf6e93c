"""Native threads for every process: oslo.service's threading backend, and
no eventlet."""

import sys

from oslo_service import backend


def use_threads():
    """Select oslo.service's threading backend and keep eventlet out.

    Must run before oslo.messaging is imported: importing it imports
    oslo.service's loopingcall, which loads the default backend, eventlet,
    if none is selected yet. The package's ``__init__`` calls this, the
    one module every entry point (console command, WSGI app, privileged
    helper) imports first.

    eventlet stays installed, because oslo.service's package requires it,
    and oslo.utils and futurist import it when they can to ask whether
    the program monkey patched the standard library. Refusing the import
    gives them the answer they get where it is not installed ("no"), the
    true one here; nothing in this service uses eventlet.
    """
    if 'eventlet' not in sys.modules:
        # None in sys.modules makes ``import eventlet`` raise ImportError.
        sys.modules['eventlet'] = None
    if backend.get_backend_type() is None:
        backend.init_backend(backend.BackendType.THREADING)
