"""Any PCI device an operator names in ``[pci]device_spec``: the ``pci``
driver.

Each PCI function that a spec matches (the first matching spec counts)
is one device with one deployable ``<host>_<address>`` holding one PCI
attach handle, the function itself. Its resource class is the spec's or
``CUSTOM_PCI``; its traits ``OWNER_CYBORG``,
``CUSTOM_PCI_PRODUCT_ID_<product id>`` and the spec's. A spec may name a
cleanup (``drivers/device_cleanup.py``) run between two tenants.

Name no device another enabled driver reports (an NVIDIA GPU, an FPGA):
both would report a deployable of the same name.
"""

import os

from oslo_log import log as logging

from cyborg_clone.common import exception
from cyborg_clone.common import trait_names
from cyborg_clone.drivers import base
from cyborg_clone.drivers import device_cleanup
from cyborg_clone.drivers import device_spec
from cyborg_clone.drivers import pci
from cyborg_clone.drivers import report

LOG = logging.getLogger(__name__)

# Device types by PCI class prefix, the longest first; anything else is
# reported as "PCI".
DEVICE_TYPES = (('0x0108', 'SSD'), ('0x02', 'NIC'), ('0x03', 'GPU'))
OTHER_TYPE = 'PCI'


def device_type(pci_class):
    """The device type of a PCI class (``0x010802`` -> ``SSD``)."""
    for prefix, name in DEVICE_TYPES:
        if (pci_class or '').startswith(prefix):
            return name
    return OTHER_TYPE


class GenericPCIDriver(base.Driver):
    """Reports the functions ``[pci]device_spec`` names; cleans them."""

    name = 'pci'

    def __init__(self, conf):
        """:raises Invalid: for a malformed ``[pci]device_spec`` value,
        naming it."""
        super().__init__(conf)
        try:
            self.specs = device_spec.parse_all(conf.pci.device_spec)
        except device_spec.MalformedSpec as error:
            raise exception.Invalid(str(error)) from None

    def discover(self):
        return [self._device(function, spec)
                for function, spec in self._matched()]

    def program(self, deployable_name, image_path):
        self._named(deployable_name)
        raise self.error('%s is a PCI device: it loads no image.'
                         % deployable_name)

    def cleanup(self, deployable_name):
        """The spec's ``cleanup`` (see ``base.Driver``)."""
        function, spec = self._named(deployable_name)
        if spec.cleanup is None:
            return None
        LOG.info('Cleaning %s (%s) with %s.', deployable_name,
                 function.address, spec.cleanup)
        device_cleanup.run(spec.cleanup, function.path, self.conf,
                           self.name)
        return spec.cleanup

    def _named(self, deployable_name):
        for function, spec in self._matched():
            if self.name_for(function.address) == deployable_name:
                return function, spec
        raise self.unknown(deployable_name)

    def _matched(self):
        """``(PciFunction, Spec)`` of every function a spec names."""
        if not self.specs:
            return []
        base_dir = pci.devices_dir(self.sysfs_root)
        try:
            addresses = sorted(os.listdir(base_dir))
        except FileNotFoundError:
            return []
        matched = []
        for address in addresses:
            try:
                function = pci.read_function(self.sysfs_root, address)
            except FileNotFoundError:
                continue  # removed (hot unplug) while we looked
            spec = next((s for s in self.specs if s.matches(function)), None)
            if spec is not None:
                matched.append((function, spec))
        return matched

    def _device(self, function, spec):
        pci_class = pci.read_attr(function.path, 'class')
        traits = tuple(dict.fromkeys(
            (trait_names.OWNER,
             trait_names.custom('PCI_PRODUCT_ID', function.device[2:]))
            + spec.traits))
        deployable = report.Deployable(
            name=self.name_for(function.address), num_accelerators=1,
            resource_class=spec.resource_class, traits=traits,
            attach_handles=(report.AttachHandle(
                attach_type='PCI', attach_info=function.attach_info),))
        return report.Device(
            type=device_type(pci_class), vendor=function.vendor,
            model='PCI device %s:%s' % (function.vendor[2:],
                                        function.device[2:]),
            driver_name=self.name,
            controlpath=report.ControlPath(cpid_type='PCI',
                                           cpid_info=function.attach_info),
            std_board_info={'device_id': function.device, 'class': pci_class,
                            'numa_node': function.numa_node},
            deployables=(deployable,))
