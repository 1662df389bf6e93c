"""The whole service in the test process: the API app, a conductor and
(optionally) this host's agent as RPC servers on oslo.messaging's
in-process ``fake://`` transport."""

import contextlib

import webtest

from cyborg_clone.agent import manager as agent_manager
from cyborg_clone.api import app as api_app
from cyborg_clone.common import rpc
from cyborg_clone.conductor import manager as conductor_manager
from cyborg_clone.conductor import rpcapi as conductor_rpcapi
from tests.conftest import Api


@contextlib.contextmanager
def cloud(conf, with_agent=False):
    """Yields (Api, AgentManager or None) while the servers run."""
    conf.set_override('transport_url', 'fake:/')
    servers = [rpc.get_server(conf, conf.conductor.topic, 'conductor-1',
                              [conductor_manager.ConductorManager(conf)])]
    agent = None
    if with_agent:
        agent = agent_manager.AgentManager(
            conf, conductor_rpcapi.ConductorAPI(conf))
        servers.append(rpc.get_server(conf, conf.agent.topic, conf.host,
                                      [agent]))
    for server in servers:
        server.start()
    try:
        yield Api(webtest.TestApp(api_app.setup_app(conf))), agent
    finally:
        for server in servers:
            server.stop()
        for server in servers:
            server.wait()
        rpc.cleanup()
