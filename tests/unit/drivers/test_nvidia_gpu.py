"""The nvidia_gpu driver against a realistic host: sysfs and a fake
mdevctl."""

import logging
import os
import re
import uuid

from oslo_config import cfg
import pytest

from cyborg_clone import conf as cc_conf
from cyborg_clone.common import exception
from cyborg_clone.drivers import base
from cyborg_clone.drivers import mdev
from cyborg_clone.drivers import nvidia_gpu
from cyborg_clone.drivers import report
from tests.fixtures import driver_fixtures
from tests.fixtures import gpu_host
from tests.fixtures.driver_fixtures import deployables
from tests.fixtures.gpu_host import A100
from tests.fixtures.gpu_host import A100_VF
from tests.fixtures.gpu_host import EXISTING_MDEV
from tests.fixtures.gpu_host import TYPE_1B
from tests.fixtures.gpu_host import TYPE_2B
from tests.fixtures.gpu_host import VGPU_T4
from tests.fixtures.gpu_host import WHOLE_T4

HOST = 'compute-0'
LOGGER = 'cyborg_clone.drivers.nvidia_gpu'
TRAIT = re.compile(r'^CUSTOM_[A-Z0-9_]+$')


pci = gpu_host.pci_info


host, conf, driver = driver_fixtures.host_conf_driver(
    gpu_host.build_in, nvidia_gpu.NvidiaGPUDriver, HOST)


@pytest.fixture
def load(tmp_path, host):
    """A driver built from a config file, as an agent reads it: the
    host's options, ``[gpu_devices]enabled_vgpu_types`` from ``types``
    and the ``extra`` sections."""
    def build(types, extra=''):
        path = host.write_config(
            tmp_path / 'agent.conf', omit={('gpu_devices',
                                            'enabled_vgpu_types')},
            extra='[gpu_devices]\nenabled_vgpu_types = %s\n\n%s'
                  % (','.join(types), extra))
        conf = cfg.ConfigOpts()
        cc_conf.register_opts(conf)
        conf(['--config-file', path], project='cyborg_clone',
             default_config_files=[])
        conf.set_override('host', HOST)
        conf.set_override('state_path', str(tmp_path))
        return nvidia_gpu.NvidiaGPUDriver(conf)
    return build


def name(function):
    return function.deployable_name(HOST)


# Discovery: whole GPUs ------------------------------------------------------

def test_each_gpu_is_one_gpu_device_with_one_deployable(driver):
    devices = driver.discover()
    assert [(d.type, d.vendor, d.model, d.driver_name) for d in devices] == [
        ('GPU', '0x10de', 'Tesla T4', 'nvidia_gpu'),
        ('GPU', '0x10de', 'Tesla T4', 'nvidia_gpu'),
        ('GPU', '0x10de', 'A100 PCIe 40GB', 'nvidia_gpu')]
    for device, gpu in zip(devices, (WHOLE_T4, VGPU_T4, A100), strict=True):
        [deployable] = device.deployables
        assert deployable.name == '%s_%s' % (HOST, gpu.address)
        assert device.controlpath == report.ControlPath(
            cpid_type='PCI', cpid_info=pci(gpu.address))
        assert device.std_board_info['device_id'] == gpu.device
        assert device.std_board_info['class'] == '0x030200'
        assert device.std_board_info['numa_node'] == gpu.numa_node


def test_a_whole_gpu_is_one_pgpu_with_one_pci_handle(driver):
    found = deployables(driver)
    for gpu, product in ((WHOLE_T4, '1EB8'), (A100, '20F1')):
        deployable = found[name(gpu)]
        assert deployable.resource_class == 'PGPU'
        assert deployable.num_accelerators == 1
        assert deployable.attach_handles == (report.AttachHandle(
            attach_type='PCI', attach_info=pci(gpu.address)),)
        assert deployable.traits == ('OWNER_CYBORG',
                                     'CUSTOM_NVIDIA_' + product)
        assert deployable.bitstream_id is None


def test_nvidia_functions_that_are_no_gpu_and_other_vendors_are_left_out(
        driver):
    # The NVSwitch (class 0x0680), the NVMe drive, the QAT function and the
    # NIC are not GPUs.
    assert sorted(deployables(driver)) == sorted(
        name(gpu) for gpu in (WHOLE_T4, VGPU_T4, A100))


def test_virtual_functions_are_left_out_by_default(driver, conf):
    assert conf.gpu_devices.filter_sriov_vfs is True
    assert name(A100_VF) not in deployables(driver)


def test_virtual_functions_are_gpus_when_not_filtered(driver, conf):
    conf.set_override('filter_sriov_vfs', False, group='gpu_devices')
    vf = deployables(driver)[name(A100_VF)]
    assert vf.resource_class == 'PGPU'
    assert vf.attach_handles == (report.AttachHandle(
        attach_type='PCI', attach_info=pci(A100_VF.address)),)
    assert vf.traits == ('OWNER_CYBORG', 'CUSTOM_NVIDIA_20F1')


def test_without_vgpu_types_every_gpu_is_whole(driver, conf):
    conf.set_override('enabled_vgpu_types', [], group='gpu_devices')
    found = deployables(driver)
    assert {dep.resource_class for dep in found.values()} == {'PGPU'}
    assert found[name(VGPU_T4)].traits == ('OWNER_CYBORG',
                                           'CUSTOM_NVIDIA_1EB8')


def test_a_host_without_pci_bus_has_no_gpus(conf, tmp_path):
    conf.set_override('sysfs_root', str(tmp_path / 'empty'), group='agent')
    assert nvidia_gpu.NvidiaGPUDriver(conf).discover() == []


# Discovery: vGPUs -----------------------------------------------------------

def test_one_type_without_a_section_splits_every_gpu_that_offers_it(
        driver):
    found = deployables(driver)
    vgpu = found[name(VGPU_T4)]
    assert vgpu.resource_class == 'VGPU'
    # 7 it can still create, and the one that exists.
    assert vgpu.num_accelerators == 8
    assert vgpu.traits == ('OWNER_CYBORG', 'CUSTOM_NVIDIA_1EB8_T4_2B')
    assert {h.attach_type for h in vgpu.attach_handles} == {'MDEV'}
    assert [h.attach_info for h in vgpu.attach_handles] == [
        dict(pci(VGPU_T4.address), asked_type=TYPE_2B,
             vgpu_mark='%s_%d' % (TYPE_2B, i)) for i in range(8)]
    # The T4 and the A100 offer no type: whole.
    assert found[name(WHOLE_T4)].resource_class == 'PGPU'
    assert found[name(A100)].resource_class == 'PGPU'


def test_the_vgpu_device_names_its_type(driver):
    [device] = [d for d in driver.discover()
                if d.deployables[0].name == name(VGPU_T4)]
    assert device.std_board_info['vgpu_type'] == TYPE_2B


def test_vgpu_traits_are_valid_trait_names(driver):
    for dep in deployables(driver).values():
        assert all(TRAIT.match(t) for t in dep.traits[1:]), dep.traits


@pytest.mark.parametrize('type_name, expected', [
    ('GRID T4-2B', 'CUSTOM_NVIDIA_1EB8_T4_2B'),
    ('NVIDIA A100-4C', 'CUSTOM_NVIDIA_1EB8_A100_4C'),
    ('GRID RTX6000-4Q', 'CUSTOM_NVIDIA_1EB8_RTX6000_4Q'),
    ('T4-16Q', 'CUSTOM_NVIDIA_1EB8_T4_16Q'),
])
def test_the_type_trait_is_its_name_without_vendor_prefix(
        driver, host, type_name, expected):
    host.tree.write(host.type_dir(VGPU_T4, TYPE_2B), 'name', type_name)
    assert deployables(driver)[name(VGPU_T4)].traits[1] == expected


def test_a_type_without_a_name_is_named_by_its_id(driver, host):
    os.unlink(os.path.join(host.type_dir(VGPU_T4, TYPE_2B), 'name'))
    assert deployables(driver)[name(VGPU_T4)].traits[1] == (
        'CUSTOM_NVIDIA_1EB8_NVIDIA_223')


def test_existing_mdevs_of_other_types_do_not_count(load):
    # nvidia-222 can make none while a 2B exists, and has none of its own.
    found = deployables(load([TYPE_1B]))
    vgpu = found[name(VGPU_T4)]
    assert vgpu.resource_class == 'VGPU'
    assert vgpu.num_accelerators == 0
    assert vgpu.attach_handles == ()
    assert vgpu.traits == ('OWNER_CYBORG', 'CUSTOM_NVIDIA_1EB8_T4_1B')


def test_sections_say_which_gpu_uses_which_type(load, caplog):
    caplog.set_level(logging.ERROR, logger=LOGGER)
    driver = load([TYPE_2B, TYPE_1B],
                  '[vgpu_%s]\ndevice_addresses = %s\n'
                  % (TYPE_2B, VGPU_T4.address.upper()))
    # The dynamic groups are registered at start.
    assert driver.conf['vgpu_' + TYPE_1B].device_addresses == []
    found = deployables(driver)
    assert found[name(VGPU_T4)].resource_class == 'VGPU'
    assert found[name(VGPU_T4)].num_accelerators == 8
    # With two types, a type no section names is used by no GPU.
    assert [r.getMessage() for r in caplog.records] == [
        '[gpu_devices]enabled_vgpu_types lists several types, but '
        '[vgpu_nvidia-222]device_addresses names no GPU: no GPU uses '
        'nvidia-222.']


def test_a_gpu_named_for_two_types_is_an_error_and_left_out(load, caplog):
    caplog.set_level(logging.ERROR, logger=LOGGER)
    driver = load([TYPE_1B, TYPE_2B],
                  '[vgpu_%s]\ndevice_addresses = %s\n\n'
                  '[vgpu_%s]\ndevice_addresses = %s,%s\n'
                  % (TYPE_1B, VGPU_T4.address, TYPE_2B, VGPU_T4.address,
                     A100.address))
    found = deployables(driver)
    assert name(VGPU_T4) not in found
    # The others are still reported.
    assert found[name(WHOLE_T4)].resource_class == 'PGPU'
    assert name(A100) not in found
    messages = [r.getMessage() for r in caplog.records]
    assert ('NVIDIA GPU 0000:af:00.0 is not reported: it is named for vGPU '
            'types nvidia-222, nvidia-223 ([vgpu_nvidia-222]device_addresses,'
            ' [vgpu_nvidia-223]device_addresses), but a GPU runs one type.'
            ) in messages
    # The A100 does not offer the type it is named for.
    assert any(m.startswith('NVIDIA GPU 0000:d8:00.0 is not reported: '
                            '[vgpu_nvidia-223]device_addresses names it, '
                            'but it does not offer vGPU type nvidia-223')
               for m in messages)
    # Said once, not at every report.
    caplog.clear()
    driver.discover()
    assert caplog.records == []


def test_a_gpu_named_for_a_type_it_does_not_offer_is_an_error(load,
                                                              caplog):
    caplog.set_level(logging.ERROR, logger=LOGGER)
    driver = load([TYPE_2B], '[vgpu_%s]\ndevice_addresses = %s,%s\n'
                  % (TYPE_2B, VGPU_T4.address, WHOLE_T4.address))
    found = deployables(driver)
    assert name(WHOLE_T4) not in found
    assert found[name(VGPU_T4)].resource_class == 'VGPU'
    assert found[name(A100)].resource_class == 'PGPU'
    assert [r.getMessage() for r in caplog.records] == [
        'NVIDIA GPU 0000:3b:00.0 is not reported: '
        '[vgpu_nvidia-223]device_addresses names it, but it does not offer '
        'vGPU type nvidia-223 (its mdev_supported_types: none).']


def test_a_fixed_configuration_reports_the_gpu_again(driver, conf, host):
    host.tree.write(host.type_dir(VGPU_T4, TYPE_2B), 'available_instances',
                    'lots')
    assert name(VGPU_T4) not in deployables(driver)
    host.set_available(VGPU_T4, TYPE_2B, 7)
    assert deployables(driver)[name(VGPU_T4)].num_accelerators == 8


def test_an_address_of_no_gpu_is_logged(load, caplog):
    caplog.set_level(logging.ERROR, logger=LOGGER)
    deployables(load([TYPE_2B], '[vgpu_%s]\ndevice_addresses = '
                                '0000:99:00.0\n' % TYPE_2B))
    assert [r.getMessage() for r in caplog.records] == [
        '[vgpu_nvidia-223]device_addresses names 0000:99:00.0, but no '
        'NVIDIA GPU this driver reports is there.']


def test_a_malformed_device_address_stops_the_driver_at_start(load):
    with pytest.raises(exception.Invalid) as caught:
        load([TYPE_2B], '[vgpu_%s]\ndevice_addresses = af:00.0\n' % TYPE_2B)
    assert str(caught.value) == (
        "[vgpu_nvidia-223]device_addresses: 'af:00.0' is not a PCI address "
        "like 0000:84:00.0.")


def test_the_driver_is_registered_as_nvidia_gpu(conf):
    conf.set_override('enabled_drivers', ['nvidia_gpu'], group='agent')
    [driver] = base.load_drivers(conf)
    assert isinstance(driver, nvidia_gpu.NvidiaGPUDriver)


# vGPUs at bind and unbind ---------------------------------------------------

def test_create_mdev_starts_one_with_mdevctl(driver, host):
    before = deployables(driver)
    created = driver.create_mdev(VGPU_T4.address, TYPE_2B)
    assert str(uuid.UUID(created)) == created
    assert host.calls() == [
        ['mdevctl', 'start', '--uuid', created, '--parent', VGPU_T4.address,
         '--type', TYPE_2B]]
    assert host.mdevs() == sorted([created, EXISTING_MDEV])
    assert host.available(VGPU_T4, TYPE_2B) == 6
    # The deployable is unchanged: an instance moved from "can create" to
    # "exists".
    assert deployables(driver) == before


def test_remove_mdev_stops_it_with_mdevctl(driver, host):
    created = driver.create_mdev(VGPU_T4.address, TYPE_2B)
    driver.remove_mdev(created.upper())
    assert host.calls()[-1] == ['mdevctl', 'stop', '--uuid', created]
    assert host.mdevs() == [EXISTING_MDEV]
    assert host.available(VGPU_T4, TYPE_2B) == 7


def test_removing_an_mdev_that_is_gone_runs_nothing(driver, host):
    driver.remove_mdev(str(uuid.uuid4()))
    assert host.calls() == []


def test_remove_mdev_refuses_what_is_no_uuid(driver, host):
    with pytest.raises(exception.DriverError) as caught:
        driver.remove_mdev('--help')
    assert "'--help' is not a mediated device uuid" in str(caught.value)
    assert host.calls() == []


def test_a_failed_mdevctl_stop_is_a_driver_error(driver, host):
    host.set_state('remove_error', 'Device or resource busy (os error 16)')
    with pytest.raises(exception.DriverError) as caught:
        driver.remove_mdev(EXISTING_MDEV)
    assert str(caught.value) == (
        'Driver nvidia_gpu failed: %s stop exited with status 1: Error: '
        'Error removing device %s\n\nCaused by:\n    Device or resource '
        'busy (os error 16)'
        % (host[('gpu_devices', 'mdevctl_path')], EXISTING_MDEV))


def test_mdevctl_failures_carry_its_message(driver, host):
    host.set_available(VGPU_T4, TYPE_2B, 0)
    with pytest.raises(exception.DriverError) as caught:
        driver.create_mdev(VGPU_T4.address, TYPE_2B)
    assert str(caught.value).endswith(
        'start exited with status 1: Error: No available instances of '
        'nvidia-223 on 0000:af:00.0')
    assert host.mdevs() == [EXISTING_MDEV]


def test_a_kernel_refusal_is_a_driver_error_with_its_cause(driver, host):
    host.set_state('create_error', 'Input/output error (os error 5)')
    with pytest.raises(exception.DriverError) as caught:
        driver.create_mdev(VGPU_T4.address, TYPE_2B)
    assert 'Caused by:\n    Input/output error (os error 5)' in str(
        caught.value)


def test_a_missing_mdevctl_is_a_driver_error(driver, conf, tmp_path):
    conf.set_override('mdevctl_path', str(tmp_path / 'nowhere'),
                      group='gpu_devices')
    with pytest.raises(exception.DriverError) as caught:
        driver.create_mdev(VGPU_T4.address, TYPE_2B)
    assert 'cannot run %s' % (tmp_path / 'nowhere') in str(caught.value)


@pytest.mark.parametrize('address, mdev_type, why', [
    (WHOLE_T4.address, TYPE_2B, 'GPU 0000:3b:00.0 is not configured for '
                                'vGPU type nvidia-223 (it is a whole GPU).'),
    (VGPU_T4.address, TYPE_1B, 'GPU 0000:af:00.0 is not configured for '
                               'vGPU type nvidia-222 (it is split into '
                               'nvidia-223).'),
    ('0000:99:00.0', TYPE_2B, 'no NVIDIA GPU this driver reports is at '
                              '0000:99:00.0 on host compute-0.'),
])
def test_create_mdev_only_on_a_gpu_configured_for_the_type(
        driver, host, address, mdev_type, why):
    with pytest.raises(exception.DriverError) as caught:
        driver.create_mdev(address, mdev_type)
    assert str(caught.value) == 'Driver nvidia_gpu failed: ' + why
    assert host.calls() == []


def test_create_mdev_checks_the_device_exists_afterwards(driver, host,
                                                         tmp_path):
    # An mdevctl that says yes and does nothing.
    liar = tmp_path / 'liar'
    liar.write_text('#!/bin/sh\nexit 0\n')
    liar.chmod(0o755)
    driver.conf.set_override('mdevctl_path', str(liar), group='gpu_devices')
    with pytest.raises(exception.DriverError) as caught:
        driver.create_mdev(VGPU_T4.address, TYPE_2B)
    assert 'mdevctl reported success, but mediated device' in str(
        caught.value)


def test_the_bound_attach_handle_info_names_the_mdev(driver):
    created = driver.create_mdev(VGPU_T4.address, TYPE_2B)
    assert mdev.bound_attach_info(VGPU_T4.address, TYPE_2B, created) == dict(
        pci(VGPU_T4.address), asked_type=TYPE_2B, uuid=created)


# Cleanup and programming ----------------------------------------------------

def test_no_cleanup_unless_configured(driver, host):
    assert driver.cleanup(name(WHOLE_T4)) is None
    assert host.reset_written(WHOLE_T4) == ''


def test_pci_reset_cleans_a_whole_gpu(driver, conf, host):
    conf.set_override('cleanup', 'pci-reset', group='gpu_devices')
    assert driver.cleanup(name(WHOLE_T4)) == 'pci-reset'
    assert host.reset_written(WHOLE_T4) == '1'


def test_a_gpu_split_into_vgpus_is_never_reset(driver, conf, host):
    conf.set_override('cleanup', 'pci-reset', group='gpu_devices')
    assert driver.cleanup(name(VGPU_T4)) is None
    assert host.reset_written(VGPU_T4) == ''


def test_the_gpu_cleanup_option_accepts_only_pci_reset(conf):
    with pytest.raises(ValueError):
        conf.set_override('cleanup', 'nvme-secure-erase',
                          group='gpu_devices')


def test_cleanup_of_an_unknown_deployable_is_a_driver_error(driver):
    with pytest.raises(exception.DriverError) as caught:
        driver.cleanup('compute-0_0000:5e:00.0')
    assert 'no deployable named compute-0_0000:5e:00.0' in str(caught.value)


def test_gpus_load_no_image(driver, tmp_path):
    with pytest.raises(exception.DriverError) as caught:
        driver.program(name(WHOLE_T4), str(tmp_path / 'image'))
    assert 'is a GPU: it loads no image' in str(caught.value)
