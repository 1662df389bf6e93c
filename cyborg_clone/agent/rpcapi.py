"""Client side of the agent's RPC API, used by the conductor."""

from cyborg_clone.common import rpc

# 1.0: program.
# 1.1: program fetches from the image store and returns the function id
#      and a fresh report.
RPC_API_VERSION = '1.1'


class AgentAPI(rpc.ClientAPI):
    def __init__(self, conf):
        super().__init__(conf, conf.agent.topic)

    def program(self, context, hostname, deployable_name, image_id,
                timeout=None):
        """Ask ``hostname``'s agent to load ``image_id`` onto a deployable
        and wait; returns ``{"function_id", "report"}`` (see the agent's
        ``program``). The agent must show it is alive every
        ``[conductor]agent_call_monitor_timeout`` seconds meanwhile, or the
        call raises MessagingTimeout early."""
        cctxt = self.client.prepare(
            server=hostname, timeout=timeout, version='1.1',
            call_monitor_timeout=self.conf.conductor.agent_call_monitor_timeout)
        return cctxt.call(context, 'program',
                          deployable_name=deployable_name, image_id=image_id)
