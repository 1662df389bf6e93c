"""Programming a deployable through the API, RPC, a conductor and an agent.

Everything is real but in one process: the API app, the conductor's and the
agent's RPC servers on the in-process ``fake://`` transport, the fake
driver and the database.
"""

import time

import pytest
import sqlalchemy as sa
import webtest

from cyborg_clone.agent import manager as agent_manager
from cyborg_clone.api import app as api_app
from cyborg_clone.common import context
from cyborg_clone.common import rpc
from cyborg_clone.conductor import manager as conductor_manager
from cyborg_clone.conductor import rpcapi as conductor_rpcapi
from cyborg_clone.db import api as db_api
from tests.conftest import Api
from tests.conftest import error_of

IMAGE = '4010a32c5c62bad9015c62dc2290002b'


@pytest.fixture
def cloud(conf):
    """The API, with a conductor and the agent of ``conf.host`` serving."""
    conf.set_override('transport_url', 'fake:/')
    agent = agent_manager.AgentManager(
        conf, conductor_rpcapi.ConductorAPI(conf))
    servers = [
        rpc.get_server(conf, conf.conductor.topic, 'conductor-1',
                       [conductor_manager.ConductorManager(conf)]),
        rpc.get_server(conf, conf.agent.topic, conf.host, [agent]),
    ]
    for server in servers:
        server.start()
    try:
        agent.report_once(context.get_admin_context())
        yield Api(webtest.TestApp(api_app.setup_app(conf))), agent
    finally:
        for server in servers:
            server.stop()
        for server in servers:
            server.wait()
        rpc.cleanup()


def wait_for_deployable(api):
    # The agent's report is a cast; the conductor applies it shortly after.
    for _ in range(200):
        listed = api.get('/v2/deployables', status=200).json['deployables']
        if listed:
            return listed[0]
        time.sleep(0.02)
    raise AssertionError('the agent report never arrived')


def program(api, uuid, image=IMAGE, **kw):
    return api.patch('/v2/deployables/%s/program' % uuid, [
        {'path': '/program', 'op': 'replace',
         'value': [{'image_uuid': image}]}], **kw)


def test_program_over_rpc(cloud):
    api, agent = cloud
    deployable = wait_for_deployable(api)
    response = program(api, deployable['uuid'], status=200)
    assert response.json['bitstream_id'] == IMAGE
    # The card reports the image from now on.
    [device] = agent.tracker.discover()
    assert device.deployables[0].bitstream_id == IMAGE


def test_refusal_crosses_rpc_as_a_client_error(cloud):
    api, agent = cloud
    deployable = wait_for_deployable(api)
    with db_api.writer() as session:
        session.execute(sa.text('UPDATE attach_handles SET in_use = 1'))
    message = error_of(program(api, deployable['uuid'], status=409))
    assert 'in use' in message
