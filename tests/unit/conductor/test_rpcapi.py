"""The conductor's RPC client: what each call asks for, on a recording
client in place of oslo.messaging's."""

from cyborg_clone.common import rpc
from cyborg_clone.conductor import rpcapi


class RecordingClient:
    """oslo.messaging's RPCClient as far as ConductorAPI uses it."""

    def __init__(self):
        self.prepared = []
        self.calls = []

    def prepare(self, **kwargs):
        self.prepared.append(kwargs)
        return self

    def call(self, context, method, **kwargs):
        self.calls.append((method, kwargs))
        return 'answer'


def test_program_deployable_waits_longer_than_the_agent_may_take(
        conf, monkeypatch):
    client = RecordingClient()
    monkeypatch.setattr(rpc, 'get_client', lambda conf, topic: client)
    conf.set_override('program_timeout', 100, group='conductor')
    api = rpcapi.ConductorAPI(conf)

    assert api.program_deployable(None, 'dep-uuid', 'image-id') == 'answer'

    [prepared] = client.prepared
    assert prepared['timeout'] == rpcapi.program_timeout(conf) > 100
    assert client.calls == [('program_deployable', {
        'deployable_uuid': 'dep-uuid', 'image_id': 'image-id'})]
