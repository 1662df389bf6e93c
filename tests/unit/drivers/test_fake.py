"""The fake driver: the seed's fake card, and programming that persists."""

import re

import pytest

from cyborg_clone.common import exception
from cyborg_clone.drivers import fake
from cyborg_clone.drivers import report

PCI_BDF = re.compile(r'^[0-9a-f]{4}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$')


def bdf(info):
    return '%(domain)s:%(bus)s:%(device)s.%(function)s' % info


@pytest.fixture
def driver(conf):
    return fake.FakeDriver(conf)


def test_discovers_one_fpga_card_as_the_seed_shows(driver):
    [device] = driver.discover()
    assert (device.type, device.vendor, device.model) == (
        'FPGA', '0xABCD', 'miss model info')
    assert device.driver_name == 'fake'
    assert device.std_board_info == {'device_id': '0xabcd',
                                     'class': 'Fake class'}
    assert device.vendor_board_info == 'fake_vendor_info'
    assert device.controlpath == report.ControlPath(
        cpid_type='PCI', cpid_info={'domain': '0000', 'bus': '0c',
                                    'device': '00', 'function': '0'})


def test_one_deployable_of_16_accelerators_named_after_the_host(driver):
    [device] = driver.discover()
    [deployable] = device.deployables
    assert deployable.name == 'testhost_FakeDevice'
    assert deployable.num_accelerators == 16
    assert deployable.resource_class == 'FPGA'
    assert deployable.traits == ('CUSTOM_FAKE_DEVICE',)
    assert deployable.bitstream_id is None


def test_16_test_pci_handles_with_distinct_valid_addresses(driver):
    handles = driver.discover()[0].deployables[0].attach_handles
    assert len(handles) == 16
    assert {h.attach_type for h in handles} == {'TEST_PCI'}
    addresses = [bdf(h.attach_info) for h in handles]
    assert all(PCI_BDF.match(a) for a in addresses), addresses
    assert len(set(addresses)) == 16
    assert bdf(fake.CONTROL_PATH) not in addresses


def test_report_survives_the_rpc_round_trip(driver):
    devices = driver.discover()
    assert report.from_primitive(report.to_primitive(devices)) == devices


def test_program_is_reported_as_the_bitstream_id(driver):
    loaded = driver.program('testhost_FakeDevice', '/images/abc123')
    assert loaded == 'abc123'
    deployable = driver.discover()[0].deployables[0]
    assert deployable.bitstream_id == 'abc123'


def test_programmed_image_survives_a_restart(conf, driver):
    driver.program('testhost_FakeDevice', '/images/first')
    driver.program('testhost_FakeDevice', '/images/second')
    restarted = fake.FakeDriver(conf)
    assert restarted.discover()[0].deployables[0].bitstream_id == 'second'


def test_hosts_sharing_a_state_path_keep_their_own_image(conf, driver):
    other = fake.FakeDriver(conf, host='otherhost')
    other.program('otherhost_FakeDevice', '/images/theirs')
    assert driver.discover()[0].deployables[0].bitstream_id is None
    assert other.discover()[0].deployables[0].name == 'otherhost_FakeDevice'


def test_programming_an_unknown_deployable_is_a_driver_error(driver):
    with pytest.raises(exception.DriverError) as caught:
        driver.program('otherhost_FakeDevice', '/images/abc')
    assert 'otherhost_FakeDevice' in str(caught.value)


def test_programming_without_an_image_name_is_a_driver_error(driver):
    with pytest.raises(exception.DriverError):
        driver.program('testhost_FakeDevice', '/images/')
