"""cyborg-clone-all-in-one: API, conductor and fake-driver agent in one
process, on SQLite and oslo.messaging's in-process transport.

It migrates the database to the newest schema first, so a fresh machine
needs no other step. Everything runs on threads: the API's server (one
process whatever [api]workers says), the RPC servers' threading executor
and the periodic tasks.
"""

from cyborg_clone.api import app as api_app
from cyborg_clone.cmd import agent
from cyborg_clone.cmd import api
from cyborg_clone.cmd import conductor
from cyborg_clone.common import service
from cyborg_clone.common import startup
from cyborg_clone.common import wsgi_server
from cyborg_clone.db import migration

PROG = 'cyborg-clone-all-in-one'

# What makes this a laptop install; a config file may still change each.
DEFAULTS = (
    ('api', 'auth_strategy', 'noauth'),
    (None, 'transport_url', 'fake:/'),
    ('agent', 'enabled_drivers', ['fake']),
    ('agent', 'report_interval', 10),
)


def main(argv=None):
    conf = startup.prepare(argv, PROG, defaults=DEFAULTS)
    # For oslo.privsep, which the vendor drivers' tools run through.
    startup.load_global_config(argv, PROG)
    migration.upgrade(conf)
    sock = api.listen(conf, PROG)
    return service.Launcher([
        conductor.build_service(conf),
        agent.build_service(conf),
        wsgi_server.Server(api_app.setup_app(conf), sock,
                           api.server_settings(conf)),
    ]).run()
