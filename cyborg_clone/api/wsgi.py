"""The API for uWSGI, gunicorn or mod_wsgi: ``cyborg_clone.api.wsgi``.

The configuration file is ``$CYBORG_CLONE_CONFIG_FILE``, or
``/etc/cyborg_clone/cyborg_clone.conf`` when that exists. Nothing happens
at import: the first request configures logging and the database and
builds the app, so a server that forks after importing this module gives
every worker its own connections, and tests can import it freely. The RPC
client connects on its first cast, in the worker that makes it.

The app is plain blocking code, safe in threads, so the server's
processes and threads are its concurrency. etc/cyborg_clone/uwsgi.ini and
the README's "Deploying" section show how to run it. Such a server leaves
the request body to the app: the middleware for that
(api/middleware/__init__.py, ``external_server``) limits it, reads what
the app left of it, and decodes a chunked one under uWSGI.
"""

import os
import threading

from cyborg_clone.api import app as api_app
from cyborg_clone.common import startup
from cyborg_clone.db import api as db_api

CONFIG_FILE_ENV = 'CYBORG_CLONE_CONFIG_FILE'
DEFAULT_CONFIG_FILE = '/etc/cyborg_clone/cyborg_clone.conf'


def config_files():
    """The config files to read, per the rules above."""
    if os.environ.get(CONFIG_FILE_ENV):
        return [os.environ[CONFIG_FILE_ENV]]
    if os.path.exists(DEFAULT_CONFIG_FILE):
        return [DEFAULT_CONFIG_FILE]
    return []


def init_application():
    """A configured API app; what the first request triggers."""
    # The WSGI server's own arguments are not ours: parse none. A bad
    # config raises (the server logs it) rather than exiting the worker.
    conf = startup.load_config([], 'cyborg-clone-api',
                               default_config_files=config_files())
    startup.setup_logging(conf, 'cyborg-clone-api (WSGI)')
    db_api.configure(conf)
    return api_app.setup_app(conf, external_server=True)


class LazyApplication:
    """Builds the app with init_application() on the first request."""

    def __init__(self):
        self._app = None
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = init_application()
        return self._app(environ, start_response)


application = LazyApplication()
