"""cyborg-clone-conductor: runs the workflows the API and agents start."""

from cyborg_clone.common import context
from cyborg_clone.common import service
from cyborg_clone.common import startup
from cyborg_clone.conductor import manager
from cyborg_clone.db import api as db_api

PROG = 'cyborg-clone-conductor'


class ConductorService:
    """The conductor's RPC server and periodic tasks, between its row in
    the conductors table and its heartbeats.

    The row exists before the first cast is taken, and the heartbeats go
    on until the binds in progress have ended: a conductor that stops
    cleanly is never taken for dead while it still works, and once it has
    left, what it still owned is adopted at once.
    """

    def __init__(self, conf):
        self.conductor = manager.ConductorManager(conf)
        interval = conf.conductor.heartbeat_interval
        self.heartbeat = service.PeriodicTask(
            self.conductor.lease.beat, interval, 'conductor-heartbeat')
        recovery = service.PeriodicTask(
            lambda: self.conductor.recover_binds(
                context.get_admin_context()),
            interval, 'conductor-bind-recovery', run_at_start=True)
        housekeeping = service.PeriodicTask(
            lambda: self.conductor.periodic_tasks(
                context.get_admin_context()),
            conf.conductor.periodic_interval, 'conductor-periodic-tasks')
        self.rpc = service.RPCService(conf, conf.conductor.topic, conf.host,
                                      [self.conductor],
                                      [recovery, housekeeping])

    def start(self):
        self.conductor.lease.register()
        self.heartbeat.start()
        self.rpc.start()

    def stop(self):
        try:
            self.rpc.stop()
            self.conductor.recovery.stop()
        finally:
            self.heartbeat.stop()
            self.conductor.lease.leave()


def build_service(conf):
    """The conductor's service: RPC server, heartbeats, periodic tasks."""
    return ConductorService(conf)


def main(argv=None):
    conf = startup.prepare(argv, PROG)
    db_api.configure(conf)
    return service.Launcher([build_service(conf)]).run()
