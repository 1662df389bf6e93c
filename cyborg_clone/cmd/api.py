"""cyborg-clone-api: the REST API on its own HTTP server (common/
http_server.py), with [api]workers processes."""

import sys

from cyborg_clone.api import app as api_app
from cyborg_clone.api import errors
from cyborg_clone.common import http_server
from cyborg_clone.common import startup
from cyborg_clone.common import wsgi_server
from cyborg_clone.db import api as db_api

PROG = 'cyborg-clone-api'


def listen(conf, prog):
    """The socket on [api]host_ip:[api]port, or exit with a one-line
    message (the port is taken, the address is not this host's)."""
    try:
        return wsgi_server.listen(conf.api.host_ip, conf.api.port)
    except OSError as error:
        sys.exit('%s: cannot listen on %s:%s: %s' % (
            prog, conf.api.host_ip, conf.api.port, error.strerror or error))


def server_settings(conf):
    """How the API is served: [api] options, errors in the API's format."""
    return http_server.Settings.from_conf(
        conf, render_error=errors.render_error)


def main(argv=None):
    conf = startup.prepare(argv, PROG)
    db_api.configure(conf)
    app = api_app.setup_app(conf)
    sock = listen(conf, PROG)
    return wsgi_server.serve(app, sock, conf.api.workers,
                             server_settings(conf))
