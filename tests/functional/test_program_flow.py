"""Programming a deployable through the API, RPC, a conductor and an agent.

Everything is real but in one process: the API app, the conductor's and the
agent's RPC servers on the in-process ``fake://`` transport, the fake
driver and the database.
"""

import time

import pytest
import sqlalchemy as sa

from cyborg_clone.common import context
from cyborg_clone.db import api as db_api
from tests.conftest import error_of
from tests.fixtures.images import put_image
from tests.functional import in_process

IMAGE = '4010a32c5c62bad9015c62dc2290002b'


@pytest.fixture
def cloud(conf):
    """The API, with a conductor and the agent of ``conf.host`` serving."""
    with in_process.cloud(conf, with_agent=True) as (api, agent):
        agent.report_once(context.get_admin_context())
        yield api, agent


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


def test_program_over_rpc(conf, cloud):
    api, agent = cloud
    put_image(conf, image_id=IMAGE)
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
