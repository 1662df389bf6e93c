"""The pci driver: any PCI device [pci]device_spec names, on a realistic
host."""

import json
import logging

from oslo_config import cfg
import pytest

from cyborg_clone import conf as cc_conf
from cyborg_clone.common import exception
from cyborg_clone.drivers import base
from cyborg_clone.drivers import device_spec
from cyborg_clone.drivers import generic_pci
from cyborg_clone.drivers import report
from tests.fixtures import driver_fixtures
from tests.fixtures import gpu_host
from tests.fixtures.driver_fixtures import deployables
from tests.fixtures.gpu_host import NIC
from tests.fixtures.gpu_host import NVME
from tests.fixtures.gpu_host import QAT
from tests.fixtures.gpu_host import WHOLE_T4

HOST = 'compute-0'


pci = gpu_host.pci_info


host, conf, driver = driver_fixtures.host_conf_driver(
    gpu_host.build_in, generic_pci.GenericPCIDriver, HOST)


def with_specs(conf, *specs):
    conf.set_override('device_spec', [
        s if isinstance(s, str) else json.dumps(s) for s in specs],
        group='pci')
    return generic_pci.GenericPCIDriver(conf)


def name(function):
    return function.deployable_name(HOST)


# Discovery ------------------------------------------------------------------

def test_each_matching_function_is_one_device_with_one_pci_handle(driver):
    devices = driver.discover()
    assert [(d.type, d.vendor, d.model, d.driver_name) for d in devices] == [
        ('SSD', '0x144d', 'PCI device 144d:a80a', 'pci'),
        ('PCI', '0x8086', 'PCI device 8086:4940', 'pci')]
    for device, function in zip(devices, (NVME, QAT), strict=True):
        [deployable] = device.deployables
        assert deployable.name == '%s_%s' % (HOST, function.address)
        assert deployable.num_accelerators == 1
        assert deployable.attach_handles == (report.AttachHandle(
            attach_type='PCI', attach_info=pci(function.address)),)
        assert device.controlpath == report.ControlPath(
            cpid_type='PCI', cpid_info=pci(function.address))
        assert device.std_board_info == {
            'device_id': function.device, 'class': function.pci_class,
            'numa_node': 0}


def test_resource_class_and_traits_come_from_the_spec(driver):
    found = deployables(driver)
    assert found[name(NVME)].resource_class == 'CUSTOM_NVME'
    assert found[name(NVME)].traits == ('OWNER_CYBORG',
                                        'CUSTOM_PCI_PRODUCT_ID_A80A')
    # No resource_class in the spec: CUSTOM_PCI. Its traits are made
    # custom where they are not.
    assert found[name(QAT)].resource_class == 'CUSTOM_PCI'
    assert found[name(QAT)].traits == (
        'OWNER_CYBORG', 'CUSTOM_PCI_PRODUCT_ID_4940', 'CUSTOM_QAT_SYM',
        'CUSTOM_QAT_ASYM')


def test_functions_no_spec_names_are_not_reported(driver):
    assert set(deployables(driver)) == {name(NVME), name(QAT)}
    assert name(NIC) not in deployables(driver)


def test_without_specs_nothing_is_reported(conf):
    assert with_specs(conf).discover() == []


def test_the_first_matching_spec_counts(conf):
    driver = with_specs(conf, {'vendor_id': '144d', 'resource_class': 'A'},
                        {'product_id': 'a80a', 'resource_class': 'B'})
    assert deployables(driver)[name(NVME)].resource_class == 'CUSTOM_A'


def test_a_value_may_hold_a_list_of_specs(conf):
    driver = with_specs(conf, [{'vendor_id': '144d'},
                               {'vendor_id': '8086', 'product_id': '1572'}])
    assert set(deployables(driver)) == {name(NVME), name(NIC)}


def test_a_spec_matching_a_nic_reports_it_as_one(conf):
    [device] = with_specs(conf, {'address': NIC.address}).discover()
    assert device.type == 'NIC'
    assert device.deployables[0].resource_class == 'CUSTOM_PCI'


def test_duplicate_traits_are_reported_once(conf):
    driver = with_specs(conf, {'vendor_id': '144d',
                               'traits': 'fast,CUSTOM_FAST,pci_product_id_'
                                         'a80a'})
    assert deployables(driver)[name(NVME)].traits == (
        'OWNER_CYBORG', 'CUSTOM_PCI_PRODUCT_ID_A80A', 'CUSTOM_FAST')


@pytest.mark.parametrize('address, matched', [
    ('0000:6b:00.0', {QAT}),
    ('0000:6b:00.*', {QAT}),
    ('*:6b:*.*', {QAT}),
    ('6b:00.0', {QAT}),
    (':6b:00.', {QAT}),
    ('0000:6B:00.0', {QAT}),
    ('0000:6b:00.1', set()),
    ('0000:*:00.0', {QAT, NVME, NIC}),
    ('*', {QAT, NVME, NIC}),
    ('.0', {QAT, NVME, NIC}),
    ({'bus': '6[ab]'}, {QAT}),
    ({'domain': '0000', 'bus': '(5e|18)', 'slot': '00',
      'function': '[0-3]'}, {NVME, NIC}),
])
def test_addresses_are_matched_as_nova_matches_them(conf, address,
                                                    matched):
    found = set(deployables(with_specs(conf, {'vendor_id': '*',
                                              'address': address})))
    # The GPUs and the NVSwitch match too; this only checks the others.
    assert found & {name(f) for f in (QAT, NVME, NIC)} == {
        name(f) for f in matched}


@pytest.mark.parametrize('spec, matched', [
    ({'vendor_id': '0x144D'}, {NVME}),
    ({'vendor_id': '144d', 'product_id': '*'}, {NVME}),
    ({'product_id': '1572'}, {NIC}),
    ({'vendor_id': '8086', 'product_id': '4940'}, {QAT}),
    ({'vendor_id': '8086', 'product_id': 'abcd'}, set()),
])
def test_vendor_and_product_ids(conf, spec, matched):
    assert set(deployables(with_specs(conf, spec))) == {
        name(f) for f in matched}


@pytest.mark.parametrize('given, reported', [
    ('nvme', 'CUSTOM_NVME'),
    ('custom_fast-nvme', 'CUSTOM_FAST_NVME'),
    ('PCI_DEVICE', 'PCI_DEVICE'),
    ('pgpu', 'PGPU'),
])
def test_resource_classes_are_standard_or_made_custom(conf, given,
                                                      reported):
    driver = with_specs(conf, {'address': NVME.address,
                               'resource_class': given})
    assert deployables(driver)[name(NVME)].resource_class == reported


@pytest.mark.parametrize('value, why', [
    ('{"vendor_id": "144d"', 'not JSON'),
    ('"144d"', 'a JSON object (or a list of them) is needed'),
    ('[]', 'a JSON object (or a list of them) is needed'),
    ('{"vendor": "144d"}', 'unknown key(s) vendor; known keys are'),
    ('{"physical_network": "physnet1"}', 'unknown key(s) physical_network'),
    ('{"vendor_id": "14x4"}', "vendor_id '14x4' is not a PCI id"),
    ('{"vendor_id": 5252}', 'vendor_id must be a string'),
    ('{"product_id": "1234a"}', "product_id '1234a' is not a PCI id"),
    ('{"address": "0000:00:5e:00.0"}', 'has too many ":"'),
    ('{"address": "0000:1ff:00.0"}', "bus '1ff' is not a hex number up "
                                     "to ff"),
    ('{"address": "0000:5e:00.8"}', "function '8' is not a hex number"),
    ('{"address": "0000:5e:0*.0"}', "slot '0*' is not a hex number"),
    ('{"address": 5}', 'address must be a string or an object'),
    ('{"address": {"bus": "("}}', "address bus '(' is not a regular "
                                  "expression"),
    ('{"address": {"node": "0"}}', 'address has unknown part(s) node'),
    ('{"resource_class": ""}', 'resource_class must be a non-empty'),
    ('{"resource_class": "---"}', "resource_class '---' holds no letter"),
    ('{"traits": ["a"]}', 'traits must be a comma-separated string'),
    ('{"cleanup": "shred"}', "cleanup must be one of nvme-secure-erase, "
                             "pci-reset, not 'shred'"),
])
def test_a_malformed_spec_stops_the_driver_naming_the_value(conf, value,
                                                             why):
    good = json.dumps({'vendor_id': '144d'})
    with pytest.raises(exception.Invalid) as caught:
        with_specs(conf, good, value)
    message = str(caught.value)
    assert message.startswith('[pci]device_spec value %s is malformed: '
                              % value)
    assert why in message


def test_the_deprecated_option_name_is_read_too(tmp_path, host, caplog):
    caplog.set_level(logging.WARNING)
    path = host.write_config(
        tmp_path / 'agent.conf', omit={('pci', 'device_spec')},
        extra='[pci]\npassthrough_whitelist = %s\n'
              'passthrough_whitelist = %s\n'
              % (json.dumps({'vendor_id': '144d'}),
                 json.dumps({'address': QAT.address})))
    conf = cfg.ConfigOpts()
    cc_conf.register_opts(conf)
    conf(['--config-file', path], project='cyborg_clone',
         default_config_files=[])
    conf.set_override('host', HOST)
    assert conf.pci.device_spec == [json.dumps({'vendor_id': '144d'}),
                                    json.dumps({'address': QAT.address})]
    driver = generic_pci.GenericPCIDriver(conf)
    assert set(deployables(driver)) == {name(NVME), name(QAT)}
    assert any('passthrough_whitelist' in r.getMessage()
               and 'deprecated' in r.getMessage() for r in caplog.records)


def test_the_driver_is_registered_as_pci(conf):
    conf.set_override('enabled_drivers', ['pci'], group='agent')
    [driver] = base.load_drivers(conf)
    assert isinstance(driver, generic_pci.GenericPCIDriver)


def test_parse_all_keeps_each_value_as_its_source():
    [first, second] = device_spec.parse_all(list(gpu_host.DEVICE_SPECS))
    assert first.source == gpu_host.DEVICE_SPECS[0]
    assert first.cleanup == 'nvme-secure-erase'
    assert second.cleanup == 'pci-reset'


# Cleanup and programming ----------------------------------------------------

def test_cleanup_runs_the_specs_action(driver, host):
    assert driver.cleanup(name(NVME)) == 'nvme-secure-erase'
    assert host.calls() == [['nvme', 'format', '/dev/nvme0', '--ses=1',
                             '--force']]
    assert driver.cleanup(name(QAT)) == 'pci-reset'
    assert host.reset_written(QAT) == '1'


def test_no_cleanup_unless_the_spec_names_one(conf, host):
    driver = with_specs(conf, {'vendor_id': '144d'})
    assert driver.cleanup(name(NVME)) is None
    assert host.calls() == []


def test_a_failed_cleanup_is_a_driver_error_with_the_tools_message(
        driver, host):
    host.set_state('format-status-nvme0', 'INVALID_FIELD: A reserved coded '
                   'value or an unsupported value in a defined field'
                   '(0x4002)')
    with pytest.raises(exception.DriverError) as caught:
        driver.cleanup(name(NVME))
    assert str(caught.value).endswith(
        'format exited with status 1: NVMe status: INVALID_FIELD: A '
        'reserved coded value or an unsupported value in a defined '
        'field(0x4002)')
    assert host.state_file('formatted-nvme0') is None


def test_cleanup_of_a_device_no_spec_names_is_an_unknown_deployable(driver):
    with pytest.raises(exception.DriverError) as caught:
        driver.cleanup(name(WHOLE_T4))
    assert 'no deployable named %s' % name(WHOLE_T4) in str(caught.value)


def test_pci_devices_load_no_image(driver, tmp_path):
    with pytest.raises(exception.DriverError) as caught:
        driver.program(name(QAT), str(tmp_path / 'image'))
    assert 'is a PCI device: it loads no image' in str(caught.value)
