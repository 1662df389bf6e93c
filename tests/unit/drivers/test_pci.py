"""Reading PCI functions from a kernel-like sysfs tree."""

import pytest

from cyborg_clone.drivers import pci
from tests.fixtures import sysfs


@pytest.fixture
def tree(tmp_path):
    tree = sysfs.SysfsTree(tmp_path)
    tree.add_pci('0000:5e:00.0', '0x8086', '0x09c4', driver='intel-fpga-pci',
                 numa_node=1, sriov_totalvfs=2)
    tree.add_vfs('0000:5e:00.0', ['0000:5e:00.1', '0000:5e:00.2'],
                 '0x8086', '0x09c5', driver='vfio-pci')
    tree.add_pci('0000:18:00.0', '0x15b3', '0x1017', driver='mlx5_core',
                 numa_node=-1)
    tree.add_pci('0000:3b:00.0', '0x10ee', '0x5004')
    return tree


def test_scan_finds_the_vendors_functions_in_address_order(tree):
    found = pci.scan(tree.root, {'0x8086', '0x10ee'})
    assert [f.address for f in found] == [
        '0000:3b:00.0', '0000:5e:00.0', '0000:5e:00.1', '0000:5e:00.2']


def test_a_pf_knows_its_vfs_and_a_vf_its_pf(tree):
    pf = pci.read_function(tree.root, '0000:5e:00.0')
    assert pf.virtfns == ('0000:5e:00.1', '0000:5e:00.2')
    assert pf.driver == 'intel-fpga-pci'
    assert pf.numa_node == 1
    vf = pci.read_function(tree.root, '0000:5e:00.2')
    assert vf.physfn == '0000:5e:00.0'
    assert vf.driver == 'vfio-pci'
    assert vf.attach_info == {'domain': '0000', 'bus': '5e',
                              'device': '00', 'function': '2'}


def test_an_unbound_function_and_an_unknown_numa_node(tree):
    unbound = pci.read_function(tree.root, '0000:3b:00.0')
    assert unbound.driver is None
    assert pci.read_function(tree.root, '0000:18:00.0').numa_node is None


def test_no_pci_bus_is_no_functions(tmp_path):
    assert pci.scan(str(tmp_path / 'empty'), {'0x10ee'}) == []


def test_a_missing_function_is_file_not_found(tree):
    with pytest.raises(FileNotFoundError):
        pci.read_function(tree.root, '0000:99:00.0')
