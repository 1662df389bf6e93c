"""The project's RPC layer over a real RabbitMQ (tests/fixtures/rabbitmq.py):
what the multi-process tests rely on, checked on its own."""

import queue
import uuid

import pytest

from cyborg_clone.common import context
from cyborg_clone.common import exception
from cyborg_clone.common import rpc
from cyborg_clone.common import service
from tests.conftest import make_conf

pytestmark = pytest.mark.slow

WAIT = 10


class Endpoint:
    def __init__(self):
        self.casts = queue.Queue()

    def echo(self, context, value):
        return {'value': value, 'request_id': context.request_id}

    def fail(self, context, uuid):
        raise exception.DeviceNotFound(uuid=uuid)

    def record(self, context, value):
        self.casts.put((value, context.request_id))


@pytest.fixture
def rpc_service(tmp_path, rabbitmq_url):
    """An RPCService on a topic of its own (the broker is shared by the
    tests of this process); yields (conf, endpoint, client)."""
    conf = make_conf(tmp_path)
    conf.set_override('transport_url', rabbitmq_url)
    topic = 'test-rabbitmq-%s' % uuid.uuid4().hex
    endpoint = Endpoint()
    svc = service.RPCService(conf, topic, 'rpc-host', [endpoint])
    svc.start()
    try:
        yield endpoint, rpc.get_client(conf, topic, timeout=WAIT)
    finally:
        svc.stop()
        rpc.cleanup()


def test_call_and_cast_reach_the_server_with_the_context(rpc_service):
    endpoint, client = rpc_service
    ctxt = context.get_admin_context()

    assert client.call(ctxt, 'echo', value=[1, 'two']) == {
        'value': [1, 'two'], 'request_id': ctxt.request_id}

    client.cast(ctxt, 'record', value='cast')
    assert endpoint.casts.get(timeout=WAIT) == ('cast', ctxt.request_id)


def test_our_exceptions_cross_the_broker_as_themselves(rpc_service):
    _, client = rpc_service
    with pytest.raises(exception.DeviceNotFound) as raised:
        client.prepare(server='rpc-host').call(
            context.get_admin_context(), 'fail', uuid='d-1')
    assert raised.value.code == 404
