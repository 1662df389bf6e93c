"""GPUs, vGPUs and operator-named PCI devices in a real Placement.

A host laid out by ``tests/fixtures/gpu_host.py`` is discovered by an
agent running the ``nvidia_gpu`` and ``pci`` drivers, its report goes to
the conductor as the agent's cast would deliver it, and what Placement
then holds is read back over plain HTTP, with nova's questions.
"""

import uuid

import pytest

from cyborg_clone.agent import manager as agent_manager
from cyborg_clone.common import context
from cyborg_clone.conductor import manager as conductor_manager
from cyborg_clone.objects import deployable as deployable_obj
from tests.fixtures import gpu_host
from tests.fixtures import placement as placement_fixture
from tests.fixtures.gpu_host import A100
from tests.fixtures.gpu_host import NVME
from tests.fixtures.gpu_host import QAT
from tests.fixtures.gpu_host import TYPE_2B
from tests.fixtures.gpu_host import VGPU_T4
from tests.fixtures.gpu_host import WHOLE_T4
from tests.fixtures.placement import placement_server  # noqa: F401

# Placement runs as a server of its own; one for the module.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(__name__)]

CTX = context.get_admin_context()


class _Cast:
    """The agent's conductor client, delivering its report at once."""

    def __init__(self, conductor):
        self.conductor = conductor

    def report_data(self, context, hostname, report, failed_drivers=None):
        self.conductor.report_data(context, hostname, report,
                                   failed_drivers=failed_drivers)


@pytest.fixture
def hostname():
    # The server outlives a test: each test reports a host of its own.
    return 'gpu-host-%s' % uuid.uuid4().hex[:8]


@pytest.fixture
def host(tmp_path, hostname):
    return gpu_host.build(tmp_path / 'root', tmp_path / 'bin',
                          tmp_path / 'tool-state', hostname)


@pytest.fixture
def compute_node(placement, hostname):
    return placement.register_compute_node(hostname)


@pytest.fixture
def agent(conf, host, hostname, placement, compute_node):
    conf.set_override('host', hostname)
    conf.set_override('enabled_drivers', ['nvidia_gpu', 'pci'],
                      group='agent')
    host.apply(conf)
    placement_fixture.configure(conf, placement.url)
    conductor = conductor_manager.ConductorManager(conf, agent_api=object())
    agent = agent_manager.AgentManager(conf, _Cast(conductor))
    found = agent.report_once(CTX)
    assert found.failed == {}
    return agent


def rp(host, function):
    return deployable_obj.rp_uuid_for(host.deployable_name(function))


def candidates(placement, compute_node, query):
    """Providers of ``compute_node``'s tree nova would be offered."""
    return placement.candidates('%s&in_tree=%s' % (query, compute_node))


def test_each_device_is_a_provider_with_its_inventory_and_traits(
        agent, placement, host, compute_node):
    expected = {
        WHOLE_T4: ('PGPU', 1, {'CUSTOM_NVIDIA_1EB8'}),
        VGPU_T4: ('VGPU', 8, {'CUSTOM_NVIDIA_1EB8_T4_2B'}),
        A100: ('PGPU', 1, {'CUSTOM_NVIDIA_20F1'}),
        NVME: ('CUSTOM_NVME', 1, {'CUSTOM_PCI_PRODUCT_ID_A80A'}),
        QAT: ('CUSTOM_PCI', 1, {'CUSTOM_PCI_PRODUCT_ID_4940',
                                'CUSTOM_QAT_SYM', 'CUSTOM_QAT_ASYM'}),
    }
    tree = placement.get('/resource_providers?in_tree=' + compute_node)
    assert {p['name'] for p in tree['resource_providers']} == {
        host.host_name} | {host.deployable_name(f) for f in expected}
    for function, (resource_class, total, traits) in expected.items():
        provider = placement.provider(rp(host, function))
        assert provider['parent_provider_uuid'] == compute_node
        inventories = placement.inventories(provider['uuid'])
        assert {rc: inv['total'] for rc, inv in inventories.items()} == {
            resource_class: total}
        assert placement.traits(provider['uuid']) == traits | {
            'OWNER_CYBORG'}


def test_nova_is_offered_vgpus_whole_gpus_and_named_devices(
        agent, placement, host, compute_node):
    assert candidates(placement, compute_node, 'resources=VGPU:1') == {
        rp(host, VGPU_T4)}
    assert candidates(placement, compute_node, 'resources=PGPU:1') == {
        rp(host, WHOLE_T4), rp(host, A100)}
    assert candidates(placement, compute_node,
                      'resources=CUSTOM_NVME:1') == {rp(host, NVME)}
    assert candidates(placement, compute_node,
                      'resources=CUSTOM_PCI:1&required=CUSTOM_QAT_SYM') == {
        rp(host, QAT)}
    # A flavor asking for an A100 by its trait.
    assert candidates(placement, compute_node,
                      'resources=PGPU:1&required=CUSTOM_NVIDIA_20F1') == {
        rp(host, A100)}
    # Eight vGPUs of the type fit on the GPU, nine do not.
    assert candidates(placement, compute_node, 'resources=VGPU:8') == {
        rp(host, VGPU_T4)}
    assert candidates(placement, compute_node, 'resources=VGPU:9') == set()


def test_one_allocation_spans_the_compute_node_and_the_vgpu(
        agent, placement, host, compute_node):
    # What a flavor with a device profile of one T4-2B vGPU makes nova
    # ask.
    answer = placement.get(
        '/allocation_candidates?resources=VCPU:1,MEMORY_MB:512'
        '&resources_ACCEL=VGPU:1&required_ACCEL=CUSTOM_NVIDIA_1EB8_T4_2B'
        '&group_policy=none&in_tree=' + compute_node)
    [request] = answer['allocation_requests']
    assert request['allocations'] == {
        compute_node: {'resources': {'VCPU': 1, 'MEMORY_MB': 512}},
        rp(host, VGPU_T4): {'resources': {'VGPU': 1}}}


def test_creating_a_vgpu_leaves_the_inventory_as_it_was(
        agent, placement, host, compute_node):
    [gpu_driver] = [d for d in agent.tracker.drivers
                    if d.name == 'nvidia_gpu']
    gpu_driver.create_mdev(VGPU_T4.address, TYPE_2B)
    agent.report_once(CTX)
    inventories = placement.inventories(rp(host, VGPU_T4))
    assert inventories['VGPU']['total'] == 8
