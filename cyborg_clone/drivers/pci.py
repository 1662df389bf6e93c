"""PCI functions as sysfs describes them, below a configurable root.

Everything is read from ``<root>/sys/bus/pci/devices/<address>`` (a symlink
into ``/sys/devices``), so a fixture tree laid out like the kernel's works
the same as the real one.
"""

import dataclasses
import os
import re

from cyborg_clone.drivers import report

# DDDD:BB:SS.F, as sysfs names PCI functions.
_ADDRESS = re.compile(
    r'^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$')
_VIRTFN = re.compile(r'^virtfn(\d+)$')


@dataclasses.dataclass(frozen=True)
class PciFunction:
    address: str
    vendor: str
    device: str
    # The directory sysfs keeps it in (the symlink's target).
    path: str
    subsystem_vendor: str | None = None
    subsystem_device: str | None = None
    driver: str | None = None
    numa_node: int | None = None
    # The PF's address for an SR-IOV VF.
    physfn: str | None = None
    # VF addresses of an SR-IOV PF, by VF index.
    virtfns: tuple = ()

    @property
    def attach_info(self):
        """Where nova finds it: the attach handle's ``attach_info``."""
        return attach_info(self.address)

    @property
    def bus_slot(self):
        """``DDDD:BB:SS``: what the functions of one card share."""
        return self.address.rsplit('.', 1)[0]


def attach_info(address):
    """``{"domain", "bus", "device", "function"}`` of a PCI address."""
    domain, bus, device, function = _ADDRESS.match(address).groups()
    return {'domain': domain, 'bus': bus, 'device': device,
            'function': function}


def devices_dir(sysfs_root):
    return os.path.join(sysfs_root, 'sys', 'bus', 'pci', 'devices')


def scan(sysfs_root, vendors):
    """Every PCI function whose vendor id is in ``vendors`` (``0x10ee``
    style, lowercase), sorted by address; empty when sysfs has no PCI bus.
    """
    base = devices_dir(sysfs_root)
    try:
        names = sorted(os.listdir(base))
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        if not _ADDRESS.match(name):
            continue
        path = os.path.join(base, name)
        if read_attr(path, 'vendor') in vendors:
            found.append(read_function(sysfs_root, name))
    return found


def read_function(sysfs_root, address):
    """The PciFunction at ``address``.

    :raises FileNotFoundError: when sysfs has no such function.
    """
    link = os.path.join(devices_dir(sysfs_root), address)
    path = os.path.realpath(link)
    if not os.path.isdir(path):
        raise FileNotFoundError(link)
    numa = read_attr(path, 'numa_node')
    virtfns = sorted(
        (int(m.group(1)), _link_name(path, entry))
        for entry in os.listdir(path) if (m := _VIRTFN.match(entry)))
    physfn = os.path.join(path, 'physfn')
    return PciFunction(
        address=address,
        vendor=read_attr(path, 'vendor'),
        device=read_attr(path, 'device'),
        path=path,
        subsystem_vendor=read_attr(path, 'subsystem_vendor'),
        subsystem_device=read_attr(path, 'subsystem_device'),
        driver=(_link_name(path, 'driver')
                if os.path.islink(os.path.join(path, 'driver')) else None),
        numa_node=int(numa) if numa not in (None, '-1') else None,
        physfn=(_link_name(path, 'physfn')
                if os.path.islink(physfn) else None),
        virtfns=tuple(address for _, address in virtfns),
    )


def read_attr(directory, name):
    """A sysfs attribute's stripped, lowercased text, or None if absent."""
    try:
        with open(os.path.join(directory, name)) as attr:
            return attr.read().strip().lower()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _link_name(directory, name):
    """The last component of the symlink ``directory/name`` points to."""
    return os.path.basename(os.readlink(os.path.join(directory, name)))


def fpga_card(driver_name, control, accelerators, model, deployable_name,
              traits, bitstream_id=None, vendor_board_info='',
              device_id=None):
    """The report of a PCI FPGA card with one deployable, as every vendor
    driver describes it.

    :param control: the PciFunction the host manages the card through.
    :param accelerators: the PCI addresses handed to guests, one attach
        handle each.
    :param device_id: the board's device id, when not ``control``'s.
    """
    deployable = report.Deployable(
        name=deployable_name,
        num_accelerators=len(accelerators),
        resource_class='FPGA',
        traits=tuple(traits),
        bitstream_id=bitstream_id,
        attach_handles=tuple(
            report.AttachHandle(attach_type='PCI',
                                attach_info=attach_info(address))
            for address in accelerators))
    return report.Device(
        type='FPGA', vendor=control.vendor, model=model,
        driver_name=driver_name,
        controlpath=report.ControlPath(cpid_type='PCI',
                                       cpid_info=control.attach_info),
        std_board_info={'device_id': device_id or control.device,
                        'class': read_attr(control.path, 'class'),
                        'numa_node': control.numa_node},
        vendor_board_info=vendor_board_info,
        deployables=(deployable,))
