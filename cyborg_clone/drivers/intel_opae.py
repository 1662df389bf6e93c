"""Intel PAC cards (Arria 10 GX, N3000), found in sysfs, loaded with OPAE.

An OPAE card is a PCI physical function whose kernel driver splits it into
an FPGA Management Engine (FME, which owns the partial reconfiguration
region and its interface id) and one accelerator port (which reports the
id of the AFU loaded into that region). Two kernel drivers lay this out
differently, and both are read:

* OPAE's out-of-tree ``intel-fpga-pci``:
  ``/sys/class/fpga/intel-fpga-dev.N`` -> ``<PF>/fpga/intel-fpga-dev.N``,
  holding ``intel-fpga-fme.J/pr/interface_id`` and
  ``intel-fpga-port.K/afu_id``.
* upstream DFL (``dfl-pci``, Linux >= 4.19):
  ``/sys/class/fpga_region/regionN`` -> ``<PF>/fpga_region/regionN``, the
  card's container region, holding ``dfl-fme.J`` (whose PR region,
  ``dfl-fme-region.*/fpga_region/region*``, has ``compat_id``) and
  ``dfl-port.K/afu_id``. The PR regions are in the class directory too;
  they are told apart by having no ``dfl-fme.*`` of their own.

Both print ids as 32 hex digits; ids are compared and reported in that
form, whatever a file or a GBS writes.

Each card (a PF; its VFs are not cards) is one device and one deployable
``<host>_<PF BDF>``. The accelerators are its VFs when SR-IOV is on, else
the PF itself; the PF is always the control path, since ``fpgaconf``
programs through its FME. PACs have one port; should a card show more,
the first is the one reported and verified.

Cases worth knowing:

* A known PAC whose PF has no FME in either layout (no driver bound, or
  the whole PF bound to vfio-pci) is left out of the report with a
  warning: nothing on the host could program it or say what it runs.
* A port the host cannot see (e.g. one released to a VF for a guest) has
  no readable AFU id: the card is reported without a function, and
  programming is refused because a load could not be verified.
* ``fpgaconf`` is given the PF's bus, device and function, which name one
  card; ``-S`` (socket) would add nothing, and ``--segment`` is passed
  only for a non-zero PCI domain because older fpgaconf lacks it.
"""

import dataclasses
import glob
import os
import re

from oslo_log import log as logging

from cyborg_clone.common import trait_names
from cyborg_clone.drivers import base
from cyborg_clone.drivers import gbs
from cyborg_clone.drivers import pci
from cyborg_clone.drivers import tools

LOG = logging.getLogger(__name__)

VENDOR_ID = '0x8086'
# PF device id -> (model, the trait part naming the board).
CARDS = {
    '0x09c4': ('Intel PAC Arria 10 GX', 'PAC_ARRIA10'),
    '0x0b30': ('Intel FPGA PAC N3000', 'PAC_N3000'),
}
_PCI_ADDRESS = re.compile(r'^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$')


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where one kernel driver puts a card's FME, PR region and port."""

    name: str
    class_dir: str          # below sys/class
    fme: str                # glob below the class entry
    interface_id: str       # glob below the FME
    port: str               # glob below the class entry


LAYOUTS = (
    Layout('intel-fpga', 'fpga', 'intel-fpga-fme.*', 'pr/interface_id',
           'intel-fpga-port.*'),
    Layout('dfl', 'fpga_region', 'dfl-fme.*',
           'dfl-fme-region.*/fpga_region/region*/compat_id', 'dfl-port.*'),
)


@dataclasses.dataclass(frozen=True)
class Card:
    pf: pci.PciFunction
    layout: str
    fme: str
    interface_id: str | None
    port: str | None         # the port's directory, None when invisible

    def afu_id(self):
        """The AFU id the port reports now, or None."""
        return _read_id(self.port, 'afu_id') if self.port else None


class IntelOPAEDriver(base.Driver):
    """Finds PACs in sysfs and loads green bitstreams with fpgaconf."""

    name = 'intel_opae'

    def __init__(self, conf):
        super().__init__(conf)
        self.loaded = base.LoadedImages(conf, self.name)
        # Unusable cards stay unusable for hours; warn once each.
        self._warned = set()

    @property
    def _opts(self):
        return self.conf.intel_opae

    def discover(self):
        cards = self._cards()
        self._warn_unusable({card.pf.address for card in cards})
        return [self._device(card) for card in cards]

    def program(self, deployable_name, image_path):
        card = self._card_named(deployable_name)
        try:
            header = gbs.read_header(image_path)
        except gbs.NotAGbs as error:
            raise self.error(str(error)) from None
        except OSError as error:
            raise self.error('cannot read %s: %s'
                              % (image_path, error.strerror)) from None
        if card.interface_id is None:
            raise self.error('%s (%s) reports no PR interface id, so no '
                              'image can be checked against it.'
                              % (deployable_name, card.pf.address))
        if header.interface_id != card.interface_id:
            raise self.error(
                '%s was built for PR interface %s, but %s (%s) has '
                'interface %s; fpgaconf was not run.'
                % (os.path.basename(image_path), header.interface_id,
                   deployable_name, card.pf.address, card.interface_id))
        if card.port is None:
            raise self.error(
                '%s (%s) shows no accelerator port to the host (released '
                'to a VF?), so a load could not be verified.'
                % (deployable_name, card.pf.address))
        tools.run(self.name, self._fpgaconf_argv(card.pf, image_path),
                  self._opts.program_timeout)
        afu_id = card.afu_id()
        if afu_id != header.afu_id:
            raise self.error(
                'fpgaconf loaded %s into %s, but its port reports AFU %s, '
                'not the image\'s %s.'
                % (os.path.basename(image_path), card.pf.address, afu_id,
                   header.afu_id))
        self.loaded.record(deployable_name,
                           image_id=os.path.basename(image_path),
                           function_id=afu_id)
        LOG.info('%s (%s) runs AFU %s (%s).', deployable_name,
                 card.pf.address, afu_id, header.afu_name)
        return afu_id

    def _fpgaconf_argv(self, pf, image_path):
        info = pf.attach_info
        argv = [self._opts.fpgaconf_path]
        if info['domain'] != '0000':
            argv += ['--segment', '0x' + info['domain']]
        return argv + ['-B', '0x' + info['bus'], '-D', '0x' + info['device'],
                       '-F', '0x' + info['function'], image_path]

    def _cards(self):
        """Every PAC with an FME in either layout, sorted by PF address."""
        cards = {}
        for layout in LAYOUTS:
            class_dir = os.path.join(self.sysfs_root, 'sys', 'class',
                                     layout.class_dir)
            for entry in sorted(glob.glob(os.path.join(class_dir, '*'))):
                card = self._card_at(layout, os.path.realpath(entry))
                if card:
                    cards.setdefault(card.pf.address, card)
        return [cards[address] for address in sorted(cards)]

    def _card_at(self, layout, entry):
        fmes = sorted(glob.glob(os.path.join(entry, layout.fme)))
        if not fmes:
            # A VF's device (port only) or a DFL PR region.
            return None
        address = _pci_owner(entry)
        if address is None:
            return None
        try:
            pf = pci.read_function(self.sysfs_root, address)
        except FileNotFoundError:
            return None
        if pf.vendor != VENDOR_ID or pf.device not in CARDS or pf.physfn:
            return None
        interfaces = sorted(glob.glob(os.path.join(fmes[0],
                                                   layout.interface_id)))
        ports = sorted(glob.glob(os.path.join(entry, layout.port)))
        return Card(pf=pf, layout=layout.name, fme=fmes[0],
                    interface_id=(_read_id(*os.path.split(interfaces[0]))
                                  if interfaces else None),
                    port=ports[0] if ports else None)

    def _warn_unusable(self, usable):
        for function in pci.scan(self.sysfs_root, {VENDOR_ID}):
            if (function.device in CARDS and function.address not in usable
                    and function.address not in self._warned):
                self._warned.add(function.address)
                LOG.warning(
                    '%s %s has no OPAE FME in sysfs (kernel driver: %s); '
                    'leaving it out of the report.',
                    CARDS[function.device][0], function.address,
                    function.driver or 'none')

    def _card_named(self, deployable_name):
        for card in self._cards():
            if self._deployable_name(card) == deployable_name:
                return card
        raise self.unknown(deployable_name)

    def _deployable_name(self, card):
        return self.name_for(card.pf.address)

    def _device(self, card):
        pf = card.pf
        model, board = CARDS[pf.device]
        traits = ['CUSTOM_FPGA_INTEL', trait_names.custom('FPGA_INTEL', board)]
        if card.interface_id:
            traits.append(trait_names.custom('FPGA_REGION_INTEL',
                                             card.interface_id))
        else:
            LOG.warning('%s has no readable PR interface id.', pf.address)
        afu_id = card.afu_id()
        if afu_id:
            traits.append(trait_names.function_id('INTEL', afu_id))
        name = self._deployable_name(card)
        fim = pci.read_attr(card.fme, 'bitstream_id')
        return pci.fpga_card(
            self.name, pf, pf.virtfns or (pf.address,), model, name, traits,
            bitstream_id=self.loaded.image_id(name, afu_id),
            vendor_board_info=('fim_bitstream_id=%s' % fim if fim else ''))


def _pci_owner(path):
    """The address of the PCI function whose sysfs directory holds
    ``path``, or None."""
    while path and path != os.path.dirname(path):
        if _PCI_ADDRESS.match(os.path.basename(path)):
            return os.path.basename(path)
        path = os.path.dirname(path)
    return None


def _read_id(directory, name):
    """A sysfs id file as 32 lowercase hex digits; None when absent or
    not an id (an all-blank port before the first load)."""
    text = pci.read_attr(directory, name)
    try:
        return gbs.normalise_uuid(text) if text else None
    except ValueError:
        LOG.warning('%s/%s holds %r, not an id.', directory, name, text)
        return None
