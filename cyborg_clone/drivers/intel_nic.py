"""Intel X710-class NICs and their SR-IOV VFs: the ``intel_nic`` driver.

Nova asks for these for Neutron ports of vnic type ``accelerator-direct``
whose ``device_profile`` names ``CUSTOM_NIC``. A card is a physical
function (PF) of vendor 0x8086 with a device id of ``MODELS``; it is one
``NIC`` device whose deployables are its VFs or, while it has none, the PF
itself: ``<host>_<address>``, one accelerator and one PCI attach handle
each, resource class ``CUSTOM_NIC``, traits ``CUSTOM_VF`` (or
``CUSTOM_PF``), then ``CUSTOM_<FUNCTION>`` and ``CUSTOM_<PHYSICAL
NETWORK>`` where ``conf/nic_devices.py``'s mappings name the PF's network
interface (``<PF>/net/<ifname>``); VFs take their PF's. Placement
reporting adds ``OWNER_CYBORG``. A mapped function's attach handle carries
``physical_network`` beside its PCI address: nova copies both into the
port's binding profile (``get_arq_pci_device_profile``).
"""

import dataclasses
import os

from oslo_log import log as logging

from cyborg_clone import conf as cc_conf
from cyborg_clone.common import exception
from cyborg_clone.common import trait_names
from cyborg_clone.conf import nic_devices as nic_conf
from cyborg_clone.drivers import base
from cyborg_clone.drivers import pci
from cyborg_clone.drivers import report

LOG = logging.getLogger(__name__)

VENDOR = '0x8086'
# PF device ids, as the kernel's i40e driver names them.
MODELS = {
    '0x1572': 'Ethernet Controller X710 for 10GbE SFP+',
    '0x1580': 'Ethernet Controller XL710 for 40GbE backplane',
    '0x1581': 'Ethernet Controller X710 for 10GbE backplane',
    '0x1582': 'Ethernet Controller X710 (8086:1582)',
    '0x1583': 'Ethernet Controller XL710 for 40GbE QSFP+',
    '0x158a': 'Ethernet Controller XXV710 for 25GbE backplane',
    '0x158b': 'Ethernet Controller XXV710 for 25GbE SFP28',
}
DEVICE_TYPE = 'NIC'
RESOURCE_CLASS = 'CUSTOM_NIC'
PF_TRAIT = 'CUSTOM_PF'
VF_TRAIT = 'CUSTOM_VF'


@dataclasses.dataclass(frozen=True)
class Mappings:
    """The physical network and the function of each interface, from the
    ``[<type>]`` sections of ``[nic_devices]enabled_nic_types``."""

    # {interface: (name, where it was configured)}
    physnets: dict
    functions: dict

    @classmethod
    def of(cls, conf):
        """:raises Invalid: naming the option and value at fault."""
        physnets, functions = {}, {}
        reserved = {group for group, _ in cc_conf.list_opts()}
        for nic_type in dict.fromkeys(
                t.strip() for t in conf.nic_devices.enabled_nic_types
                if t.strip()):
            if nic_type in reserved or nic_type == 'DEFAULT':
                # Its mappings would land among the service's own options.
                raise exception.Invalid(
                    '[nic_devices]enabled_nic_types: %s is a section of '
                    'the service\'s own options; give the NIC type another '
                    'name (e.g. x710_static).' % nic_type)
            physical, function = nic_conf.mappings(conf, nic_type)
            _parse(nic_type, 'physical_device_mappings', physical, physnets)
            _parse(nic_type, 'function_device_mappings', function, functions)
        return cls(physnets, functions)

    def physnet(self, interfaces):
        return _first(self.physnets, interfaces)

    def function(self, interfaces):
        return _first(self.functions, interfaces)

    def interfaces(self):
        return set(self.physnets) | set(self.functions)


def _first(mapping, interfaces):
    """The name the first mapped interface of ``interfaces`` has, or
    None."""
    return next((mapping[i][0] for i in interfaces if i in mapping), None)


def _parse(nic_type, option, values, into):
    """Add ``<name>:<if>[|<if>...]`` values to ``into``."""
    where = '[%s]%s' % (nic_type, option)
    for value in values:
        if not value.strip():
            continue
        name, _, interfaces = value.partition(':')
        name = name.strip()
        interfaces = [i.strip() for i in interfaces.split('|') if i.strip()]
        if not name or not interfaces:
            raise exception.Invalid(
                '%s: %r is not <name>:<interface>[|<interface>...].'
                % (where, value))
        for interface in interfaces:
            known = into.setdefault(interface, (name, where))
            if known[0] != name:
                raise exception.Invalid(
                    'interface %s is mapped to both %s (%s) and %s (%s).'
                    % (interface, known[0], known[1], name, where))


def attach_info(address, physnet):
    """A function's attach handle info: its PCI address, and the physical
    network nova hands Neutron when there is one."""
    info = pci.attach_info(address)
    if physnet:
        info['physical_network'] = physnet
    return info


def interfaces(function):
    """The network interfaces of a PCI function (``net/``), sorted; none
    while no network driver holds it."""
    try:
        return tuple(sorted(os.listdir(os.path.join(function.path, 'net'))))
    except (FileNotFoundError, NotADirectoryError):
        return ()


class IntelNICDriver(base.Driver):
    """X710-class PFs and their VFs, for SmartNIC ports; nothing to load."""

    name = 'intel_nic'

    def __init__(self, conf):
        """:raises Invalid: for a malformed or contradictory mapping."""
        super().__init__(conf)
        self.mappings = Mappings.of(conf)
        # Mapped interfaces last warned about as found on no card.
        self._missing = frozenset()

    def discover(self):
        cards = self._cards()
        self._warn_missing({i for pf, _ in cards for i in interfaces(pf)})
        return [self._device(pf, functions) for pf, functions in cards]

    def program(self, deployable_name, image_path):
        self._named(deployable_name)
        raise self.error('%s is a NIC function: it loads no image.'
                         % deployable_name)

    def _named(self, deployable_name):
        for _, functions in self._cards():
            for function in functions:
                if self.name_for(function.address) == deployable_name:
                    return function
        raise self.unknown(deployable_name)

    def _cards(self):
        """``(PF, its deployable functions)`` of every card."""
        cards = []
        for pf in pci.scan(self.sysfs_root, {VENDOR}):
            if pf.device not in MODELS or pf.physfn:
                continue
            if not pf.virtfns:
                cards.append((pf, (pf,)))
                continue
            vfs = []
            for address in pf.virtfns:
                try:
                    vfs.append(pci.read_function(self.sysfs_root, address))
                except FileNotFoundError:
                    continue  # sriov_numvfs rewritten while we looked
            cards.append((pf, tuple(vfs)))
        return cards

    def _warn_missing(self, found):
        missing = frozenset(self.mappings.interfaces() - found)
        if missing and missing != self._missing:
            LOG.warning('NIC mappings name interface(s) %s, but no %s card '
                        'of this host has them.',
                        ', '.join(sorted(missing)), self.name)
        self._missing = missing

    def _device(self, pf, functions):
        names = interfaces(pf)
        physnet = self.mappings.physnet(names)
        function_name = self.mappings.function(names)
        traits = (VF_TRAIT if pf.virtfns else PF_TRAIT,) + tuple(
            trait_names.custom(name) for name in (function_name, physnet)
            if name)
        deployables = tuple(
            report.Deployable(
                name=self.name_for(function.address), num_accelerators=1,
                resource_class=RESOURCE_CLASS, traits=traits,
                attach_handles=(report.AttachHandle(
                    attach_type='PCI',
                    attach_info=attach_info(function.address, physnet)),))
            for function in functions)
        return report.Device(
            type=DEVICE_TYPE, vendor=pf.vendor, model=MODELS[pf.device],
            driver_name=self.name,
            controlpath=report.ControlPath(cpid_type='PCI',
                                           cpid_info=pf.attach_info),
            std_board_info={'device_id': pf.device,
                            'class': pci.read_attr(pf.path, 'class'),
                            'numa_node': pf.numa_node,
                            'interfaces': list(names)},
            deployables=deployables)
