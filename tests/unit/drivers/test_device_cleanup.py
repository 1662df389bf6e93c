"""Cleaning a PCI function between tenants: NVMe secure erase and PCI
reset, against a fixture tree and a fake nvme."""

import os

import pytest

from cyborg_clone import privsep
from cyborg_clone.common import exception
from cyborg_clone.drivers import device_cleanup
from cyborg_clone.drivers import pci
from cyborg_clone.privsep import sysfs as privileged_sysfs
from tests.fixtures import gpu_host
from tests.fixtures.gpu_host import NVME
from tests.fixtures.gpu_host import QAT


@pytest.fixture
def host(tmp_path):
    return gpu_host.build(tmp_path / 'root', tmp_path / 'bin',
                          tmp_path / 'tool-state', 'compute-0')


@pytest.fixture
def conf(conf, host):
    host.apply(conf)
    return conf


def path_of(host, function):
    return pci.read_function(host.root, function.address).path


# NVMe secure erase ----------------------------------------------------------

def test_the_controller_is_found_under_the_functions_nvme_dir(host):
    assert device_cleanup.nvme_controller(path_of(host, NVME)) == 'nvme0'
    assert device_cleanup.nvme_controller(path_of(host, QAT)) is None


def test_the_lowest_numbered_controller_is_taken(host):
    nvme = os.path.join(path_of(host, NVME), 'nvme')
    for name in ('nvme10', 'nvme2', 'hwmon3'):
        os.makedirs(os.path.join(nvme, name))
    os.rename(os.path.join(nvme, 'nvme0'), os.path.join(nvme, 'nvme11'))
    assert device_cleanup.nvme_controller(path_of(host, NVME)) == 'nvme2'


def test_secure_erase_formats_the_controller_with_ses_1(conf, host):
    device_cleanup.nvme_secure_erase(path_of(host, NVME), conf, 'pci')
    assert host.calls() == [['nvme', 'format', '/dev/nvme0', '--ses=1',
                             '--force']]
    assert host.state_file('formatted-nvme0') == 'ses=1'


def test_a_function_without_controller_is_not_erased(conf, host):
    with pytest.raises(exception.DriverError) as caught:
        device_cleanup.nvme_secure_erase(path_of(host, QAT), conf, 'pci')
    assert str(caught.value) == (
        'Driver pci failed: nvme-secure-erase: no NVMe controller under '
        '%s/nvme (is the function bound to the nvme driver?); it was not '
        'erased.' % path_of(host, QAT))
    assert host.calls() == []


def test_a_controller_refusing_the_format_is_a_driver_error(conf, host):
    host.set_state('format-status-nvme0',
                   'INVALID_FORMAT: The LBA Format specified is not '
                   'supported(0x410a)')
    with pytest.raises(exception.DriverError) as caught:
        device_cleanup.nvme_secure_erase(path_of(host, NVME), conf, 'pci')
    assert str(caught.value) == (
        'Driver pci failed: %s format exited with status 1: NVMe status: '
        'INVALID_FORMAT: The LBA Format specified is not supported(0x410a)'
        % conf.pci.nvme_path)


def test_a_vanished_controller_is_a_driver_error(conf, host):
    # The kernel dropped the controller after we looked.
    os.unlink(os.path.join(host.root, 'sys', 'class', 'nvme', 'nvme0'))
    with pytest.raises(exception.DriverError) as caught:
        device_cleanup.nvme_secure_erase(path_of(host, NVME), conf, 'pci')
    assert str(caught.value).endswith(
        'Failed to open /dev/nvme0: No such file or directory')


def test_a_missing_nvme_is_a_driver_error(conf, host, tmp_path):
    conf.set_override('nvme_path', str(tmp_path / 'nowhere'), group='pci')
    with pytest.raises(exception.DriverError) as caught:
        device_cleanup.nvme_secure_erase(path_of(host, NVME), conf, 'pci')
    assert 'cannot run %s' % (tmp_path / 'nowhere') in str(caught.value)


def test_an_erase_past_the_timeout_is_a_driver_error(conf, host, tmp_path):
    slow = tmp_path / 'slow-nvme'
    slow.write_text('#!/bin/sh\nexec sleep 5\n')
    slow.chmod(0o755)
    conf.set_override('nvme_path', str(slow), group='pci')
    conf.set_override('cleanup_timeout', 1, group='pci')
    with pytest.raises(exception.DriverError) as caught:
        device_cleanup.nvme_secure_erase(path_of(host, NVME), conf, 'pci')
    assert 'did not finish within 1 seconds' in str(caught.value)


# PCI reset ------------------------------------------------------------------

def test_a_pci_reset_writes_1_to_reset(conf, host):
    device_cleanup.pci_reset(path_of(host, QAT), conf, 'pci')
    assert host.reset_written(QAT) == '1'


def test_a_function_without_reset_cannot_be_reset(conf, host):
    path = path_of(host, QAT)
    os.unlink(os.path.join(path, 'reset'))
    with pytest.raises(exception.DriverError) as caught:
        device_cleanup.pci_reset(path, conf, 'pci')
    assert str(caught.value) == (
        'Driver pci failed: pci-reset: %s has no reset file; the kernel '
        'knows no way to reset this function alone.' % path)
    # Not created by the attempt.
    assert not os.path.exists(os.path.join(path, 'reset'))


def test_a_reset_that_is_a_link_is_not_followed(conf, host, tmp_path):
    path = path_of(host, QAT)
    target = tmp_path / 'elsewhere'
    target.write_text('untouched')
    os.unlink(os.path.join(path, 'reset'))
    os.symlink(target, os.path.join(path, 'reset'))
    with pytest.raises(exception.DriverError) as caught:
        device_cleanup.pci_reset(path, conf, 'pci')
    assert 'pci-reset of %s failed' % path in str(caught.value)
    assert target.read_text() == 'untouched'


def test_the_privileged_write_refuses_what_is_no_pci_function(tmp_path):
    (tmp_path / 'reset').write_text('')
    for bad in (str(tmp_path), 'relative/0000:6b:00.0'):
        with pytest.raises(ValueError):
            privileged_sysfs.reset_function(bad)
    assert (tmp_path / 'reset').read_text() == ''


def test_a_reset_through_a_helper_that_cannot_start_is_a_driver_error(
        conf, host, monkeypatch):
    def start():
        raise privsep.HelperFailed(['sudo', 'privsep-helper'],
                                   'sudo: command not found')
    monkeypatch.setattr(privsep, 'start', start)
    with pytest.raises(exception.DriverError) as caught:
        device_cleanup.pci_reset(path_of(host, QAT), conf, 'pci')
    assert 'the privileged helper (sudo privsep-helper) could not start' \
        in str(caught.value)
    assert host.reset_written(QAT) == ''


# Dispatch -------------------------------------------------------------------

@pytest.mark.parametrize('action, function', [
    ('nvme-secure-erase', NVME), ('pci-reset', QAT)])
def test_run_dispatches_by_action_name(conf, host, action, function):
    device_cleanup.run(action, path_of(host, function), conf, 'pci')
    if action == 'pci-reset':
        assert host.reset_written(function) == '1'
    else:
        assert host.state_file('formatted-nvme0') == 'ses=1'


def test_run_refuses_an_unknown_action(conf, host):
    with pytest.raises(ValueError) as caught:
        device_cleanup.run('shred', path_of(host, QAT), conf, 'pci')
    assert 'unknown cleanup action' in str(caught.value)
    assert host.reset_written(QAT) == ''
