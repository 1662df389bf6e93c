"""cyborg-clone-conductor: runs the workflows the API and agents start."""

from cyborg_clone.cmd import startup
from cyborg_clone.common import context
from cyborg_clone.common import service
from cyborg_clone.conductor import manager
from cyborg_clone.db import api as db_api

PROG = 'cyborg-clone-conductor'


def build_service(conf):
    """The conductor's RPC server and its housekeeping task."""
    conductor = manager.ConductorManager(conf)
    housekeeping = service.PeriodicTask(
        lambda: conductor.periodic_tasks(context.get_admin_context()),
        conf.conductor.periodic_interval, 'conductor-periodic-tasks')
    return service.RPCService(conf, conf.conductor.topic, conf.host,
                              [conductor], [housekeeping])


def main(argv=None):
    conf = startup.prepare(argv, PROG)
    db_api.configure(conf)
    return service.Launcher([build_service(conf)]).run()
