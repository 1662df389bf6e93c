"""clients/nova.py against a recording Nova on loopback."""

import dataclasses

import pytest

from cyborg_clone.clients import nova
from cyborg_clone.clients import service_client
from tests.nova_recorder import NovaRecorder
from tests.nova_recorder import configure_nova

INSTANCE = '506220bc-18f2-4294-9b29-80267a021dc0'


@dataclasses.dataclass
class FakeARQ:
    uuid: str
    state: str


ARQS = [FakeARQ('89ec9c4d-73b2-4aaf-9225-485945aa7162', 'Bound'),
        FakeARQ('234c1acf-beca-47b2-9532-6bea61630936', 'BindFailed')]


@pytest.fixture
def recorder():
    with NovaRecorder() as recorder:
        yield recorder


def client(conf, recorder):
    configure_nova(conf, recorder)
    return nova.NovaClient(conf)


def test_sends_one_event_per_arq_at_2_82(conf, recorder):
    assert client(conf, recorder).send_bound_events(INSTANCE, ARQS)
    [request] = recorder.requests
    assert request['path'] == '/os-server-external-events'
    assert request['headers']['OpenStack-API-Version'] == 'compute 2.82'
    assert request['body'] == {'events': [
        {'name': 'accelerator-request-bound', 'server_uuid': INSTANCE,
         'tag': ARQS[0].uuid, 'status': 'completed'},
        {'name': 'accelerator-request-bound', 'server_uuid': INSTANCE,
         'tag': ARQS[1].uuid, 'status': 'failed'}]}


def test_server_errors_are_retried(conf, recorder):
    recorder.answers = [(503, {}), (500, {}), (200, {'events': []})]
    assert client(conf, recorder).send_bound_events(INSTANCE, ARQS)
    assert len(recorder.requests) == 3


def test_gives_up_after_the_configured_retries(conf, recorder):
    conf.set_override('event_retries', 2, group='nova')
    recorder.answers = [(500, {})]
    assert not client(conf, recorder).send_bound_events(INSTANCE, ARQS)
    assert len(recorder.requests) == 3


def test_207_with_422_is_accepted(conf, recorder):
    recorder.answers = [(207, {'events': [{'code': 422}, {'code': 422}]})]
    assert client(conf, recorder).send_bound_events(INSTANCE, ARQS)
    assert len(recorder.requests) == 1


def test_207_with_other_failures_is_refused_without_retry(conf, recorder):
    recorder.answers = [(207, {'events': [{'code': 200}, {'code': 404}]})]
    assert not client(conf, recorder).send_bound_events(INSTANCE, ARQS)
    assert len(recorder.requests) == 1


def test_client_errors_are_not_retried(conf, recorder):
    recorder.answers = [(400, {'badRequest': {'message': 'no'}})]
    assert not client(conf, recorder).send_bound_events(INSTANCE, ARQS)
    assert len(recorder.requests) == 1


def test_unreachable_nova_is_retried_then_given_up(conf):
    conf.set_override('auth_type', 'none', group='nova')
    conf.set_override('endpoint_override', 'http://127.0.0.1:9',
                      group='nova')
    conf.set_override('event_retries', 1, group='nova')
    conf.set_override('event_retry_delay', 0, group='nova')
    assert not nova.NovaClient(conf).send_bound_events(INSTANCE, ARQS)


def test_unconfigured_nova_is_skipped(conf, recorder, caplog):
    caplog.set_level('INFO')
    assert not nova.NovaClient(conf).send_bound_events(INSTANCE, ARQS)
    assert recorder.requests == []
    assert 'skipped 2 accelerator-request-bound' in caplog.text


def test_one_client_and_one_session_per_process_and_conf(
        conf, recorder, monkeypatch):
    configure_nova(conf, recorder)
    shared = nova.NovaClient.shared(conf)
    for _ in range(3):
        assert nova.NovaClient.shared(conf).send_bound_events(INSTANCE, ARQS)
    assert nova.NovaClient.shared(conf) is shared
    assert shared.adapter.session is nova.NovaClient.shared(
        conf).adapter.session
    assert nova.NovaClient.shared(type(conf)()) is not shared
    # A forked worker makes its own: sockets are not shared across fork.
    monkeypatch.setattr(service_client.os, 'getpid', lambda: -1)
    assert nova.NovaClient.shared(conf) is not shared
