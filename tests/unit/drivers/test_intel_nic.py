"""The intel_nic driver: X710-class PFs and VFs on a realistic host."""

import logging
import os

import pytest

from cyborg_clone.common import exception
from cyborg_clone.drivers import base
from cyborg_clone.drivers import intel_nic
from cyborg_clone.drivers import report
from tests.fixtures import driver_fixtures
from tests.fixtures import gpu_host
from tests.fixtures import nic_host
from tests.fixtures.driver_fixtures import deployables
from tests.fixtures.nic_host import NIC_TYPE
from tests.fixtures.nic_host import PF_ALONE
from tests.fixtures.nic_host import PF_WITH_VFS
from tests.fixtures.nic_host import VF0
from tests.fixtures.nic_host import VF1

HOST = 'compute-0'

pci = gpu_host.pci_info


host, conf, driver = driver_fixtures.host_conf_driver(
    nic_host.build_in, intel_nic.IntelNICDriver, HOST)


def mapped(conf, physical=(), function=(), nic_type=NIC_TYPE):
    """A driver built with these mappings for ``nic_type``."""
    types = list(conf.nic_devices.enabled_nic_types)
    if nic_type not in types:
        conf.set_override('enabled_nic_types', types + [nic_type],
                          group='nic_devices')
    intel_nic.nic_conf.register_dynamic_opts(conf)
    conf.set_override('physical_device_mappings', list(physical),
                      group=nic_type)
    conf.set_override('function_device_mappings', list(function),
                      group=nic_type)
    return intel_nic.IntelNICDriver(conf)


def name(function):
    return function.deployable_name(HOST)


def with_physnet(address, physnet):
    return dict(pci(address), physical_network=physnet)


# Discovery ------------------------------------------------------------------

def test_each_x710_pf_is_one_nic_device_and_other_nics_are_not(driver):
    devices = driver.discover()
    assert [(d.type, d.vendor, d.model, d.driver_name) for d in devices] == [
        ('NIC', '0x8086', 'Ethernet Controller X710 for 10GbE SFP+',
         'intel_nic')] * 2
    for device, pf, ifname in zip(devices, (PF_WITH_VFS, PF_ALONE),
                                  ('ens1f0', 'ens1f1'), strict=True):
        assert device.controlpath == report.ControlPath(
            cpid_type='PCI', cpid_info=pci(pf.address))
        assert device.std_board_info == {
            'device_id': '0x1572', 'class': '0x020000', 'numa_node': 0,
            'interfaces': [ifname]}


def test_a_pf_with_vfs_offers_its_vfs_with_its_mappings(driver):
    [with_vfs, _] = driver.discover()
    assert [d.name for d in with_vfs.deployables] == [name(VF0), name(VF1)]
    for dep, vf in zip(with_vfs.deployables, (VF0, VF1), strict=True):
        assert dep.num_accelerators == 1
        assert dep.resource_class == 'CUSTOM_NIC'
        assert dep.traits == ('CUSTOM_VF', 'CUSTOM_GTPV1', 'CUSTOM_PHYSNET1')
        assert dep.attach_handles == (report.AttachHandle(
            attach_type='PCI',
            attach_info=with_physnet(vf.address, 'physnet1')),)
    assert name(PF_WITH_VFS) not in deployables(driver)


def test_a_pf_without_vfs_is_its_own_deployable(driver):
    [_, alone] = driver.discover()
    [dep] = alone.deployables
    assert (dep.name, dep.num_accelerators, dep.resource_class,
            dep.traits) == (name(PF_ALONE), 1, 'CUSTOM_NIC',
                            ('CUSTOM_PF', 'CUSTOM_PHYSNET2'))
    assert dep.attach_handles == (report.AttachHandle(
        attach_type='PCI',
        attach_info=with_physnet(PF_ALONE.address, 'physnet2')),)


def test_unmapped_functions_have_no_network_traits_nor_physnet(conf):
    conf.set_override('enabled_nic_types', [], group='nic_devices')
    found = deployables(intel_nic.IntelNICDriver(conf))
    assert {n: d.traits for n, d in found.items()} == {
        name(VF0): ('CUSTOM_VF',), name(VF1): ('CUSTOM_VF',),
        name(PF_ALONE): ('CUSTOM_PF',)}
    assert found[name(PF_ALONE)].attach_handles[0].attach_info == pci(
        PF_ALONE.address)


def test_a_pf_without_an_interface_takes_no_mapping(host, driver):
    # Unbound from i40e: the kernel removes its net/ directory.
    os.rename(os.path.join(host.tree.device_dir(PF_ALONE.address), 'net'),
              os.path.join(host.root, 'gone'))
    dep = deployables(driver)[name(PF_ALONE)]
    assert dep.traits == ('CUSTOM_PF',)
    assert dep.attach_handles[0].attach_info == pci(PF_ALONE.address)


def test_a_vf_removed_while_reading_is_left_out(host, driver):
    os.remove(os.path.join(host.root, 'sys', 'bus', 'pci', 'devices',
                           VF1.address))
    assert set(deployables(driver)) == {name(VF0), name(PF_ALONE)}


@pytest.mark.parametrize('device_id', sorted(intel_nic.MODELS))
def test_every_x710_class_device_id_is_a_card(tmp_path, conf, device_id):
    tree = nic_host.NicHost({}, HOST, tmp_path / 'other', tmp_path).tree
    tree.add_pci('0000:af:00.0', '0x8086', device_id, pci_class='0x020000')
    conf.set_override('sysfs_root', str(tmp_path / 'other'), group='agent')
    [device] = intel_nic.IntelNICDriver(conf).discover()
    assert device.model == intel_nic.MODELS[device_id]
    assert [d.name for d in device.deployables] == [HOST + '_0000:af:00.0']


def test_a_host_without_pci_reports_nothing(tmp_path, conf):
    conf.set_override('sysfs_root', str(tmp_path / 'empty'), group='agent')
    assert intel_nic.IntelNICDriver(conf).discover() == []


def test_the_report_survives_the_trip_to_the_conductor(driver):
    devices = driver.discover()
    assert report.from_primitive(report.to_primitive(devices)) == devices


# Mappings -------------------------------------------------------------------

def test_one_mapping_names_several_interfaces_and_types_add_up(conf):
    found = deployables(mapped(conf, ['physnet1:ens1f0|ens1f1']))
    assert found[name(PF_ALONE)].traits == ('CUSTOM_PF', 'CUSTOM_PHYSNET1')
    found = deployables(mapped(conf, function=['gtpv1:ens1f1'],
                               nic_type='xxv710_static'))
    # x710_static's physnet1 and xxv710_static's gtpv1.
    assert found[name(PF_ALONE)].traits == (
        'CUSTOM_PF', 'CUSTOM_GTPV1', 'CUSTOM_PHYSNET1')


def test_names_become_valid_custom_traits(conf):
    found = deployables(mapped(conf, ['public-net:ens1f1'],
                               ['ipsec.v2:ens1f1']))
    dep = found[name(PF_ALONE)]
    assert dep.traits == ('CUSTOM_PF', 'CUSTOM_IPSEC_V2',
                          'CUSTOM_PUBLIC_NET')
    # Neutron's name, as the operator wrote it.
    assert dep.attach_handles[0].attach_info['physical_network'] == \
        'public-net'


@pytest.mark.parametrize('value', ['physnet1', ':ens1f0', 'physnet1:',
                                   'physnet1: | '])
def test_a_malformed_mapping_stops_the_driver_naming_it(conf, value):
    with pytest.raises(exception.Invalid) as caught:
        mapped(conf, [value])
    assert '[x710_static]physical_device_mappings: %r is not ' \
        '<name>:<interface>' % value in str(caught.value)


def test_an_interface_on_two_networks_stops_the_driver(conf):
    mapped(conf, ['physnet1:ens1f0', 'physnet1:ens1f1'])  # one network: ok
    with pytest.raises(exception.Invalid) as caught:
        mapped(conf, ['physnet1:ens1f0', 'physnet2:ens1f1|ens1f0'])
    assert str(caught.value).startswith(
        'interface ens1f0 is mapped to both physnet1 '
        '([x710_static]physical_device_mappings) and physnet2 '
        '([x710_static]physical_device_mappings).')


def test_an_interface_of_two_functions_across_types_stops_the_driver(conf):
    mapped(conf, function=['gtpv1:ens1f0'])
    with pytest.raises(exception.Invalid) as caught:
        mapped(conf, function=['ipsec:ens1f0'], nic_type='xxv710_static')
    assert 'gtpv1 ([x710_static]function_device_mappings) and ipsec ' \
        '([xxv710_static]function_device_mappings)' in str(caught.value)


def test_a_nic_type_named_like_a_service_section_is_refused(conf):
    conf.set_override('enabled_nic_types', ['agent'], group='nic_devices')
    with pytest.raises(exception.Invalid) as caught:
        intel_nic.IntelNICDriver(conf)
    assert 'enabled_nic_types: agent is a section of the service' in str(
        caught.value)


def test_a_mapped_interface_no_card_has_is_warned_about_once(conf, caplog):
    driver = mapped(conf, ['physnet1:ens1f0|ens9f9'])
    with caplog.at_level(logging.WARNING, logger=intel_nic.__name__):
        driver.discover()
        driver.discover()
    assert [r.getMessage() for r in caplog.records] == [
        'NIC mappings name interface(s) ens9f9, but no intel_nic card of '
        'this host has them.']


# Loading and programming ----------------------------------------------------

def test_the_agent_loads_it_by_name(conf):
    conf.set_override('enabled_drivers', ['intel_nic'], group='agent')
    [driver] = base.load_drivers(conf)
    assert isinstance(driver, intel_nic.IntelNICDriver)


def test_a_nic_loads_no_image(driver):
    with pytest.raises(exception.DriverError) as caught:
        driver.program(name(VF0), '/tmp/image')
    assert 'is a NIC function: it loads no image' in str(caught.value)
    with pytest.raises(exception.DriverError) as caught:
        driver.program(name(PF_WITH_VFS), '/tmp/image')
    assert 'no deployable named %s' % name(PF_WITH_VFS) in str(caught.value)
