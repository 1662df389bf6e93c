"""RPC servers: what a caller gets back, and what the server logs."""

import logging

import pytest

from cyborg_clone.common import context
from cyborg_clone.common import exception
from cyborg_clone.common import rpc
from cyborg_clone.common import service
from tests.conftest import make_conf

SERVER_LOG = 'oslo_messaging.rpc.server'


class Endpoint:
    def refuse(self, context):
        raise exception.Conflict(reason='the device is busy')

    def fail(self, context):
        raise exception.CyborgCloneException('the disk is full')

    def crash(self, context):
        raise RuntimeError('a bug')

    def answer(self, context, value):
        return value


@pytest.fixture
def call(tmp_path):
    conf = make_conf(tmp_path)
    conf.set_override('transport_url', 'fake:/')
    svc = service.RPCService(conf, 'test-topic', 'test-host', [Endpoint()])
    svc.start()
    client = rpc.get_client(conf, 'test-topic', server='test-host',
                            timeout=10).prepare()
    try:
        yield lambda method, **kwargs: client.call(
            context.get_admin_context(), method, **kwargs)
    finally:
        svc.stop()
        rpc.cleanup()


def errors_logged(caplog):
    return [record for record in caplog.records
            if record.name == SERVER_LOG and record.levelno >= logging.ERROR]


def test_a_refusal_reaches_the_caller_and_is_not_logged_as_an_error(
        call, caplog):
    caplog.set_level(logging.INFO)
    with pytest.raises(exception.Conflict, match='the device is busy'):
        call('refuse')
    assert not errors_logged(caplog)
    [refused] = [record for record in caplog.records
                 if record.name == rpc.__name__]
    assert refused.getMessage() == (
        'Refused refuse (409): Conflict: the device is busy')
    assert refused.exc_info is None


@pytest.mark.parametrize('method, error', [
    ('fail', exception.CyborgCloneException),
    ('crash', Exception),
])
def test_a_failure_is_logged_with_its_traceback(call, caplog, method, error):
    with pytest.raises(error):
        call(method)
    [record] = errors_logged(caplog)
    assert record.exc_info is not None


def test_answers_and_the_endpoints_own_methods_are_unchanged(call):
    assert call('answer', value=[1, 'two']) == [1, 'two']
    with pytest.raises(exception.Conflict):
        Endpoint().refuse(None)
