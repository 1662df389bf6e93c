"""Placement trait names: building them, and reading function ids back."""

import re
import uuid

import pytest

from cyborg_clone.common import trait_names
from cyborg_clone.drivers import fake
from cyborg_clone.drivers import xilinx

TRAIT = re.compile(r'^CUSTOM_[A-Z0-9_]+$')


@pytest.mark.parametrize('parts, expected', [
    (('FPGA_PRODUCT_ID', '5000'), 'CUSTOM_FPGA_PRODUCT_ID_5000'),
    (('fpga region intel', '9926ab6d6c925a68'),
     'CUSTOM_FPGA_REGION_INTEL_9926AB6D6C925A68'),
    (('FPGA_FUNCTION_ID', 'a6a12670-7014-4cff'),
     'CUSTOM_FPGA_FUNCTION_ID_A6A12670_7014_4CFF'),
])
def test_traits_are_valid_placement_names(parts, expected):
    assert trait_names.custom(*parts) == expected
    assert TRAIT.match(expected)


def test_a_function_id_trait_names_vendor_and_function():
    assert trait_names.function_id('INTEL', '9926ab6d6c925a68') == (
        'CUSTOM_FPGA_FUNCTION_ID_INTEL_9926AB6D6C925A68')
    assert trait_names.function_id('INTEL', 'x').startswith(
        trait_names.FUNCTION_ID_PREFIX)


@pytest.mark.parametrize('vendor', ['INTEL', 'XILINX', 'HUAWEI', 'FAKE'])
def test_what_a_driver_writes_is_read_back_in_any_spelling(vendor):
    function = uuid.uuid4()
    traits = ['CUSTOM_FPGA_XILINX',
              trait_names.function_id(vendor, function.hex)]
    for asked in (function.hex, str(function), str(function).upper()):
        assert trait_names.runs_function(traits, asked)
    assert not trait_names.runs_function(traits, uuid.uuid4().hex)


def test_only_a_function_id_trait_says_what_a_card_runs():
    # Same ending, another kind of trait: a product id is no function.
    assert not trait_names.runs_function(
        [trait_names.custom('FPGA_PRODUCT_ID', '5000')], '5000')
    assert trait_names.runs_function(
        [trait_names.function_id('HUAWEI', '5000')], '5000')


def test_the_drivers_function_traits_are_read_back(conf):
    function = str(uuid.uuid4())
    assert trait_names.runs_function([xilinx.function_trait(function)],
                                     function)
    driver = fake.FakeDriver(conf)
    image_id = uuid.uuid4().hex
    driver.program(driver.deployable_name, '/images/' + image_id)
    [device] = driver.discover()
    [deployable] = device.deployables
    assert trait_names.runs_function(deployable.traits, image_id)
