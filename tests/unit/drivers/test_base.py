"""The driver contract and loading drivers by name."""

import pytest

from cyborg_clone.common import exception
from cyborg_clone.drivers import base
from cyborg_clone.drivers import fake


def test_load_drivers_builds_the_enabled_ones(conf):
    [driver] = base.load_drivers(conf)
    assert isinstance(driver, fake.FakeDriver)
    assert driver.conf is conf


def test_unknown_driver_names_the_valid_ones(conf):
    conf.set_override('enabled_drivers', ['fake', 'nope'], group='agent')
    with pytest.raises(exception.Invalid) as caught:
        base.load_drivers(conf)
    assert 'nope' in str(caught.value)
    assert 'valid drivers are: fake' in str(caught.value)


def test_every_registered_driver_honours_the_contract(conf):
    for name in base.DRIVERS:
        conf.set_override('enabled_drivers', [name], group='agent')
        [driver] = base.load_drivers(conf)
        assert isinstance(driver, base.Driver)
        assert driver.name == name


def test_drivers_read_the_configured_sysfs_root(conf, tmp_path):
    conf.set_override('sysfs_root', str(tmp_path), group='agent')
    assert fake.FakeDriver(conf).sysfs_root == str(tmp_path)


def test_a_driver_must_implement_discover_and_program(conf):
    class Incomplete(base.Driver):
        name = 'incomplete'

        def discover(self):
            return []

    with pytest.raises(TypeError):
        Incomplete(conf)
