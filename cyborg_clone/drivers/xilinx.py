"""Xilinx Alveo-style FPGA cards, found in sysfs and run through XRT.

An Alveo card shows up as two PCI functions on one bus:slot: the
management function (.0, bound to ``xclmgmt``) through which the host
flashes and programs the card, and the user function (.1, bound to
``xocl``) through which applications use it. Like upstream Cyborg, the
user function is the accelerator handed to a guest; the management
function stays with the host (it can reflash the shell and reset the card,
which no tenant may do), so it is the card's control path, not an attach
handle. Each card is one device with one deployable,
``<host>_<first BDF>``, of as many accelerators as it has user functions.

Cases worth knowing:

* A card with no kernel driver bound to any function is left out of the
  report, with one warning per card: the host can neither program nor
  examine it, so offering it would place instances on a card nothing can
  load. (Rows already in use survive on the conductor side.)
* A user function bound to something other than ``xocl`` (``vfio-pci``
  while a guest holds it) cannot be examined from the host. Its card is
  still reported, with the function this driver last loaded on it (the
  agent is the only one programming a card a guest holds), and it refuses
  programming: reprogramming a card under a running guest is never right,
  and the load could not be verified anyway.
* When ``xbutil examine`` fails for a card whose user function is bound
  to ``xocl``, discovery raises: the agent then keeps reporting the last
  known devices rather than guessing what the card runs.
* Huawei's VU9P shells (vendor 0x19e5, though the chip is a Xilinx one)
  belong to the ``huawei_vu9p`` driver; only vendor 0x10ee is scanned.
"""

import dataclasses
import json
import os
import tempfile
import uuid

from oslo_log import log as logging

from cyborg_clone.common import trait_names
from cyborg_clone.drivers import base
from cyborg_clone.drivers import pci
from cyborg_clone.drivers import tools
from cyborg_clone.drivers import xclbin

LOG = logging.getLogger(__name__)

VENDOR = '0x10ee'
MGMT_DRIVER = 'xclmgmt'
USER_DRIVER = 'xocl'
# Reading a card's state takes a second or two; a hung tool must not hold
# up the whole periodic report for the program timeout's length.
EXAMINE_TIMEOUT = 60

# Alveo PCI device ids (management and user function) and their boards.
MODELS = {
    '0x5000': 'Alveo U200', '0x5001': 'Alveo U200',
    '0x5004': 'Alveo U250', '0x5005': 'Alveo U250',
    '0x500c': 'Alveo U280', '0x500d': 'Alveo U280',
    '0x5020': 'Alveo U50', '0x5021': 'Alveo U50',
    '0x505c': 'Alveo U55C', '0x505d': 'Alveo U55C',
}


@dataclasses.dataclass(frozen=True)
class Card:
    """The PCI functions of one physical card, sorted by address."""

    functions: tuple
    mgmt: pci.PciFunction | None
    users: tuple

    @classmethod
    def of(cls, functions):
        functions = tuple(sorted(functions, key=lambda f: f.address))
        mgmt = next((f for f in functions if f.driver == MGMT_DRIVER), None)
        if mgmt is None and len(functions) > 1:
            # xclmgmt is not loaded; Alveo shells put management on .0.
            mgmt = functions[0]
        return cls(functions=functions, mgmt=mgmt,
                   users=tuple(f for f in functions if f is not mgmt))

    @property
    def first(self):
        return self.functions[0]

    @property
    def bound(self):
        return any(f.driver for f in self.functions)

    @property
    def xocl_user(self):
        """The user function XRT's xbutil can reach, or None."""
        return next((f for f in self.users if f.driver == USER_DRIVER),
                    None)

    @property
    def product(self):
        """The card's PCI device id: the management function's."""
        return (self.mgmt or self.first).device


def find_cards(sysfs_root):
    """Every Xilinx card below ``sysfs_root``."""
    by_card = {}
    for function in pci.scan(sysfs_root, {VENDOR}):
        # A VF belongs to its PF's card, wherever the kernel numbered it.
        key = (function.physfn.rsplit('.', 1)[0] if function.physfn
               else function.bus_slot)
        by_card.setdefault(key, []).append(function)
    return [Card.of(functions) for _, functions in sorted(by_card.items())]


def loaded_uuid(examined, address):
    """The xclbin uuid an ``xbutil examine -r dynamic-regions`` JSON report
    says ``address`` runs, or None when it runs none.

    :raises ValueError: when the report does not describe ``address``.
    """
    for device in examined.get('devices') or ():
        if str(device.get('device_id', '')).lower() != address:
            continue
        for region in device.get('dynamic_regions') or ():
            try:
                found = uuid.UUID(str(region.get('xclbin_uuid')))
            except ValueError:
                continue  # "N/A" and the like: nothing loaded there
            # Older XRT reports an empty region with the nil uuid.
            if found.int:
                return str(found)
        return None
    raise ValueError('the report describes no device %s' % address)


def function_trait(function_id):
    return trait_names.function_id('XILINX', uuid.UUID(function_id).hex)


class XilinxDriver(base.Driver):
    """Alveo cards: discovery from sysfs, programming with XRT's tools."""

    name = 'xilinx'

    def __init__(self, conf):
        super().__init__(conf)
        self.loaded = base.LoadedImages(conf, self.name)
        # Log-once bookkeeping only; losing it on restart is harmless.
        self._warned = set()

    def deployable_name(self, card):
        return self.name_for(card.first.address)

    def discover(self):
        devices = []
        for card in find_cards(self.sysfs_root):
            skip = self._skip_reason(card)
            if skip:
                if card.first.address not in self._warned:
                    self._warned.add(card.first.address)
                    LOG.warning('Not reporting Xilinx card %s: %s',
                                card.first.address, skip)
                continue
            self._warned.discard(card.first.address)
            devices.append(self._device(card))
        return devices

    def program(self, deployable_name, image_path):
        card = self._card_named(deployable_name)
        image_id = os.path.basename(image_path)
        try:
            header = xclbin.read_header(image_path)
        except xclbin.NotAnXclbin as error:
            raise self.error('image %s is not a loadable xclbin: %s'
                              % (image_id, error)) from None
        except OSError as error:
            raise self.error('cannot read image %s: %s'
                              % (image_path, error.strerror or error)
                              ) from None
        user = card.xocl_user
        if user is None:
            raise self.error(
                'deployable %s: its user function is bound to %s, not '
                'xocl (handed to a guest, or XRT is not loaded); a card in '
                'that state must not and cannot be programmed from the '
                'host.' % (deployable_name, _drivers(card.users)))
        if card.mgmt is not None and card.mgmt.driver == MGMT_DRIVER:
            argv = [self.conf.xilinx.xbmgmt_path, 'program', '-d',
                    card.mgmt.address, '--user', image_path]
        else:
            argv = [self.conf.xilinx.xbutil_path, 'program', '-d',
                    user.address, '-u', image_path]
        LOG.info('Loading xclbin %s (image %s) onto %s.',
                 header.xclbin_uuid, image_id, deployable_name)
        tools.run(self.name, argv, self.conf.xilinx.program_timeout)
        running = self._examine(user.address)
        if running != header.xclbin_uuid:
            raise self.error(
                '%s reported success, but deployable %s runs xclbin %s '
                'instead of %s.' % (os.path.basename(argv[0]),
                                    deployable_name, running,
                                    header.xclbin_uuid))
        self.loaded.record(deployable_name, image_id, header.xclbin_uuid)
        return header.xclbin_uuid

    def _skip_reason(self, card):
        if not card.bound:
            return ('no kernel driver is bound to any of its functions, '
                    'so XRT can neither program nor examine it.')
        if not card.users:
            return 'it has no user function to hand to a guest.'
        return None

    def _card_named(self, deployable_name):
        for card in find_cards(self.sysfs_root):
            if (self.deployable_name(card) == deployable_name
                    and not self._skip_reason(card)):
                return card
        raise self.unknown(deployable_name)

    def _device(self, card):
        name = self.deployable_name(card)
        function_id = self._function_of(card, name)
        traits = ['CUSTOM_FPGA_XILINX',
                  trait_names.custom('FPGA_PRODUCT_ID', card.product[2:])]
        if function_id:
            traits.append(function_trait(function_id))
        return pci.fpga_card(
            self.name, card.mgmt or card.first,
            [user.address for user in card.users],
            MODELS.get(card.product, 'Xilinx %s' % card.product), name,
            traits, bitstream_id=self.loaded.image_id(name, function_id),
            device_id=card.product)

    def _function_of(self, card, name):
        user = card.xocl_user
        if user is not None:
            return self._examine(user.address)
        entry = self.loaded.entry(name)
        return entry['function_id'] if entry else None

    def _examine(self, address):
        """The xclbin uuid the card of user function ``address`` runs."""
        # xbutil writes JSON only into a file it creates (and refuses to
        # overwrite one); a private directory keeps other local users
        # from planting or reading it. The tool runs as root, but the
        # agent owns the directory, so it can still delete the file.
        with tempfile.TemporaryDirectory(prefix='xilinx-examine-') as tmp:
            out = os.path.join(tmp, 'dynamic-regions.json')
            tools.run(self.name,
                      [self.conf.xilinx.xbutil_path, 'examine', '-d',
                       address, '-r', 'dynamic-regions', '-f', 'JSON',
                       '-o', out],
                      EXAMINE_TIMEOUT)
            try:
                with open(out) as written:
                    return loaded_uuid(json.load(written), address)
            except (OSError, ValueError, AttributeError) as error:
                raise self.error('xbutil examine -d %s gave no usable '
                                  'report: %s' % (address, error)) from None


def _drivers(functions):
    return ', '.join(sorted({f.driver or 'no driver' for f in functions}))
