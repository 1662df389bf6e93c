"""Binding vGPUs and cleaning devices between tenants, through the API.

The API runs in process; its casts go straight to a real conductor, whose
calls go straight to a real agent running the ``nvidia_gpu`` and ``pci``
drivers on a host laid out by ``tests/fixtures/gpu_host.py``, with the
fake ``mdevctl`` and ``nvme``. Placement is a real server; what it holds
is read back over HTTP. nova's own libvirt driver (34, ``.venv-cloud``)
reads the bound vGPU ARQ.
"""

import json
import os
import subprocess
import time
import uuid

import pytest
import sqlalchemy as sa

from cyborg_clone.agent import manager as agent_manager
from cyborg_clone.common import context
from cyborg_clone.conductor import arq_binding
from cyborg_clone.conductor import manager as conductor_manager
from cyborg_clone.db import api as db_api
from cyborg_clone.db import models
from cyborg_clone.objects import arq as arq_obj
from cyborg_clone.objects import deployable as deployable_obj
from tests.conftest import error_of
from tests.fixtures import cloud
from tests.fixtures import gpu_host
from tests.fixtures import placement as placement_fixture
from tests.fixtures.arq_requests import SERVICE
from tests.fixtures.arq_requests import bind_patch
from tests.fixtures.arq_requests import unbind_patch
from tests.fixtures.gpu_host import NVME
from tests.fixtures.gpu_host import TYPE_2B
from tests.fixtures.gpu_host import VGPU_T4
from tests.fixtures.nova import RecordingNova
from tests.fixtures.placement import placement_server  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(__name__)]

CTX = context.get_admin_context()
NEWEST = '2.4'
NOVA_READS = os.path.join(os.path.dirname(__file__), 'nova_reads_mdev.py')


class InProcessAgent:
    """The conductor's agent client, calling the agent directly."""

    def __init__(self, agent):
        self.agent = agent

    def __getattr__(self, name):
        method = getattr(self.agent, name)

        def call(context, hostname, *args, timeout=None, **kwargs):
            return method(context, *args, **kwargs)
        return call


class InProcessConductor:
    """The API's conductor client: each cast runs at once."""

    def __init__(self, conf, manager):
        self.conf = conf
        self.manager = manager

    def bind_arqs(self, ctxt, arq_uuids):
        arq_binding.bind_arqs(self.conf, CTX, arq_uuids,
                              nova_client=RecordingNova(),
                              agent_api=self.manager.agent_api,
                              placement=self.manager.placement)

    def release_arqs(self, ctxt, released):
        self.manager.release_arqs(CTX, released)

    def set_device_status(self, ctxt, device_uuid, status):
        self.manager.set_device_status(CTX, device_uuid, status)


class _Cast:
    def __init__(self):
        self.conductor = None

    def report_data(self, context, hostname, report, failed_drivers=None):
        self.conductor.report_data(context, hostname, report,
                                   failed_drivers=failed_drivers)


@pytest.fixture
def hostname():
    return 'gpu-bind-%s' % uuid.uuid4().hex[:8]


@pytest.fixture
def host(tmp_path, hostname):
    return gpu_host.build(tmp_path / 'root', tmp_path / 'bin',
                          tmp_path / 'tool-state', hostname)


@pytest.fixture
def conductor(conf, host, hostname, placement):
    conf.set_override('host', hostname)
    conf.set_override('enabled_drivers', ['nvidia_gpu', 'pci'],
                      group='agent')
    host.apply(conf)
    placement_fixture.configure(conf, placement.url)
    placement.register_compute_node(hostname)
    cast = _Cast()
    agent = agent_manager.AgentManager(conf, cast)
    manager = conductor_manager.ConductorManager(
        conf, agent_api=InProcessAgent(agent))
    cast.conductor = manager
    assert agent.report_once(CTX).failed == {}
    return InProcessConductor(conf, manager)


def rp(host, function):
    return deployable_obj.rp_uuid_for(host.deployable_name(function))


def bind(api, host, function, resource, instance=None):
    name = 'dp-%s' % uuid.uuid4().hex[:8]
    api.post('/v2/device_profiles', [{'name': name, 'groups': [
        {'resources:%s' % resource: '1'}]}], status=201)
    [arq] = api.post('/v2/accelerator_requests',
                     {'device_profile_name': name},
                     status=201).json['arqs']
    response = api.patch('/v2/accelerator_requests', bind_patch(
        [arq], host.host_name, rp(host, function),
        instance or str(uuid.uuid4())), headers=SERVICE)
    return arq['uuid'], response


def arq_of(api, arq_uuid):
    return api.get('/v2/accelerator_requests/' + arq_uuid,
                   status=200).json


def deployable(api, host, function):
    [found] = [d for d in api.get('/v2/deployables', version=NEWEST,
                                  status=200).json['deployables']
               if d['name'] == host.deployable_name(function)]
    return found


def reserved(placement, host, function):
    return {rc: (inv['total'], inv['reserved']) for rc, inv in
            placement.inventories(rp(host, function)).items()}


def handles_in_use():
    with db_api.reader() as session:
        return session.scalar(sa.select(sa.func.count()).where(
            models.AttachHandle.in_use.is_(True)))


def tool_calls(host, tool):
    return [json.loads(line) for line in
            (host.state_file('calls.log') or '').splitlines()
            if json.loads(line)[0] == tool]


def test_a_vgpu_bind_creates_the_mdev_and_unbind_removes_it(
        api, conductor, host):
    before = set(host.mdevs())
    arq_uuid, response = bind(api, host, VGPU_T4, 'VGPU')
    assert response.status_int == 202
    arq = arq_of(api, arq_uuid)
    assert arq['state'] == 'Bound'
    [created] = set(host.mdevs()) - before
    [start] = tool_calls(host, 'mdevctl')
    assert start == ['mdevctl', 'start', '--uuid', created, '--parent',
                     VGPU_T4.address, '--type', TYPE_2B]
    assert arq['attach_handle_type'] == 'MDEV'
    assert arq['attach_handle_uuid'] == created
    assert arq['attach_handle_info'] == {
        'domain': '0000', 'bus': 'af', 'device': '00', 'function': '0',
        'asked_type': TYPE_2B, 'uuid': created}

    api.delete('/v2/accelerator_requests/' + arq_uuid, status=204)
    assert tool_calls(host, 'mdevctl')[-1] == ['mdevctl', 'stop', '--uuid',
                                               created]
    assert set(host.mdevs()) == before


def test_nova_libvirt_reads_the_bound_vgpu(api, conductor, host):
    cloud.require()
    arq_uuid, _ = bind(api, host, VGPU_T4, 'VGPU')
    arq = arq_of(api, arq_uuid)
    answer = subprocess.run(
        [cloud.PYTHON, NOVA_READS], input=json.dumps(arq), text=True,
        capture_output=True, timeout=120, check=True)
    read = json.loads(answer.stdout)
    # nova found the mediated device we made (so it makes none itself)
    # and gives the guest that uuid.
    assert read['mdevs'] == [arq['attach_handle_uuid']]
    assert read['created'] == []
    assert read['looked_up'] == ['mdev_%s_0000_af_00_0' % arq[
        'attach_handle_uuid'].replace('-', '_')]


def test_an_mdevctl_failure_fails_the_bind_and_frees_the_handle(
        api, conductor, host):
    host.set_state('create_error', 'Device or resource busy (os error 16)')
    arq_uuid, _ = bind(api, host, VGPU_T4, 'VGPU')
    arq = arq_of(api, arq_uuid)
    assert arq['state'] == 'BindFailed'
    assert (arq['attach_handle_type'], arq['attach_handle_info']) == (
        '', {})
    # mdevctl's own message is the reason (cut to the column's 255
    # characters; this test's long tool path leaves no room for the
    # cause).
    assert 'mdevctl start exited with status 1: Error: Failed to create ' \
        'mdev' in arq_obj.ARQ.get(arq_uuid).bind_failure
    assert host.mdevs() == [gpu_host.EXISTING_MDEV]
    # The handle is free again.
    assert handles_in_use() == 0
    os.remove(os.path.join(host.state_dir, 'create_error'))
    bound, _ = bind(api, host, VGPU_T4, 'VGPU')
    assert arq_of(api, bound)['state'] == 'Bound'
    assert handles_in_use() == 1


def test_unbinding_an_nvme_drive_erases_it_before_it_is_offered(
        api, conductor, host, placement):
    arq_uuid, _ = bind(api, host, NVME, 'CUSTOM_NVME')
    assert arq_of(api, arq_uuid)['state'] == 'Bound'
    assert tool_calls(host, 'nvme') == []
    api.patch('/v2/accelerator_requests', unbind_patch([arq_uuid]),
              headers=SERVICE, status=202)
    assert tool_calls(host, 'nvme') == [
        ['nvme', 'format', '/dev/nvme0', '--ses=1', '--force']]
    assert host.state_file('formatted-nvme0') == 'ses=1'
    found = deployable(api, host, NVME)
    assert (found['state'], found['state_reason']) == ('available', None)
    assert reserved(placement, host, NVME) == {'CUSTOM_NVME': (1, 0)}


def test_a_failed_cleanup_keeps_the_drive_reserved_until_enabled(
        api, conductor, host, placement):
    host.set_state('format-status-nvme0',
                   'Format In Progress(0x2084)')
    arq_uuid, _ = bind(api, host, NVME, 'CUSTOM_NVME')
    api.delete('/v2/accelerator_requests/' + arq_uuid, status=204)
    found = deployable(api, host, NVME)
    assert found['state'] == 'cleanup_failed'
    assert 'Format In Progress' in found['state_reason']
    assert reserved(placement, host, NVME) == {'CUSTOM_NVME': (1, 1)}
    # Older microversions do not show it.
    old = api.get('/v2/deployables/' + found['uuid'], status=200).json
    assert 'state' not in old and 'state_reason' not in old
    # A bind onto it is refused, saying why.
    refused_uuid, response = bind(api, host, NVME, 'CUSTOM_NVME')
    assert response.status_int == 409
    assert 'cleanup failed' in error_of(response)
    assert arq_of(api, refused_uuid)['state'] == 'Initial'

    # Enabling the device cleans it again first.
    os.remove(os.path.join(host.state_dir, 'format-status-nvme0'))
    [device] = [d for d in api.get('/v2/devices', status=200)
                .json['devices'] if d['uuid'] and d['type'] == 'SSD'
                and d['hostname'] == host.host_name]
    api.post('/v2/devices/%s/enable' % device['uuid'], status=200)
    deadline = time.monotonic() + 30
    while deployable(api, host, NVME)['state'] != 'available':
        assert time.monotonic() < deadline, deployable(api, host, NVME)
        time.sleep(0.1)
    assert len(tool_calls(host, 'nvme')) == 2
    assert host.state_file('formatted-nvme0') == 'ses=1'
    deadline = time.monotonic() + 10
    while reserved(placement, host, NVME) != {'CUSTOM_NVME': (1, 0)}:
        assert time.monotonic() < deadline
        time.sleep(0.1)
