"""cyborg-clone-agent: discovers this host's accelerators and programs
them on request."""

from cyborg_clone.agent import manager
from cyborg_clone.common import context
from cyborg_clone.common import service
from cyborg_clone.common import startup
from cyborg_clone.conductor import rpcapi as conductor_rpcapi

PROG = 'cyborg-clone-agent'


def build_service(conf):
    """The agent's RPC server (server = this host) and its reports, the
    first one at once so a new host shows up without waiting."""
    agent = manager.AgentManager(conf, conductor_rpcapi.ConductorAPI(conf))
    reports = service.PeriodicTask(
        lambda: agent.report_once(context.get_admin_context()),
        conf.agent.report_interval, 'agent-report', run_at_start=True)
    return service.RPCService(conf, conf.agent.topic, conf.host, [agent],
                              [reports])


def main(argv=None):
    conf = startup.prepare(argv, PROG)
    # Vendor tools run through oslo.privsep, which reads [privsep] from the
    # global configuration only.
    startup.load_global_config(argv, PROG)
    return service.Launcher([build_service(conf)]).run()
