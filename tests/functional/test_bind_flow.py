"""Nova's bind flow through the API, oslo.messaging RPC and a conductor.

Everything is real but in one process: the API app, the conductor's RPC
server on the in-process ``fake://`` transport, the database, and a Nova
that records the events it receives on a loopback HTTP port.
"""

import time
import uuid as uuid_lib

import pytest

from tests.fixtures.arq_requests import SERVICE
from tests.fixtures.arq_requests import bind_patch
from tests.fixtures.hardware import report_fake_host
from tests.functional import in_process
from tests.nova_recorder import NovaRecorder
from tests.nova_recorder import configure_nova

HOST = 'testhost'
RP_UUID = str(uuid_lib.uuid3(uuid_lib.NAMESPACE_DNS, HOST + '_FakeDevice'))
INSTANCE = '506220bc-18f2-4294-9b29-80267a021dc0'


@pytest.fixture
def nova(conf):
    with NovaRecorder() as recorder:
        configure_nova(conf, recorder)
        yield recorder


@pytest.fixture
def service_api(conf, nova):
    with in_process.cloud(conf) as (api, _agent):
        yield api


def wait_resolved(api, instance, timeout=30):
    deadline = time.monotonic() + timeout
    path = ('/v2/accelerator_requests?instance=%s&bind_state=resolved'
            % instance)
    while time.monotonic() < deadline:
        response = api.get(path)
        if response.status_int == 200:
            return response.json['arqs']
        assert response.status_int == 423, response.text
        time.sleep(0.05)
    raise AssertionError('ARQs of %s never resolved' % instance)


def test_nova_style_bind_over_rpc(conf, service_api, nova):
    report_fake_host(conf, HOST)
    api = service_api
    api.post('/v2/device_profiles', [{'name': 'dp', 'groups': [
        {'resources:FPGA': '1'}, {'resources:FPGA': '1'}]}], status=201)
    arqs = api.post('/v2/accelerator_requests',
                    {'device_profile_name': 'dp'}, status=201).json['arqs']
    api.patch('/v2/accelerator_requests',
              bind_patch(arqs, HOST, RP_UUID, INSTANCE), headers=SERVICE,
              status=202)

    resolved = wait_resolved(api, INSTANCE)

    assert sorted(a['state'] for a in resolved) == ['Bound', 'Bound']
    deadline = time.monotonic() + 5
    while len(nova.events) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(nova.events, key=lambda e: e['tag']) == sorted(
        ({'name': 'accelerator-request-bound', 'server_uuid': INSTANCE,
          'tag': arq['uuid'], 'status': 'completed'} for arq in arqs),
        key=lambda e: e['tag'])
    api.delete('/v2/accelerator_requests?instance=' + INSTANCE,
               headers=SERVICE, status=204)
    assert api.get('/v2/accelerator_requests',
                   status=200).json['arqs'] == []
