"""Huawei FP1 VU9P shells (PCI 19e5:d503 and 19e5:d512) and FpgaCmdEntry.

Each shell is one PCI function and one card: one device, one deployable
``<host>_<BDF>`` with one accelerator, whose attach handle is the function
itself. Images load by id: ``FpgaCmdEntry LF -S <slot> -I <AEI id>`` asks
Huawei's management plane to load an AEI, which it does asynchronously, so
``program`` polls ``IF -S <slot>`` until the load succeeds, fails or runs
out of time.

Slots: FpgaCmdEntry numbers the shells 0..7 in the order it finds them
while reading ``/sys/bus/pci/devices``, which is directory order, not
address order. The driver therefore never derives a slot from sysfs: it
asks ``DF -D``, which prints each slot with its DBDF, and matches DBDFs.

Traits: ``CUSTOM_FPGA_XILINX`` (the chip is a Xilinx VU9P, the class
HARDWARE.md groups these cards in), ``CUSTOM_FPGA_HUAWEI_VU9P`` (the FP1
shell family, which is what decides that an AEI id loads; a profile that
needs FpgaCmdEntry loading asks for this one),
``CUSTOM_FPGA_PRODUCT_ID_D503``/``_D512`` (the shell type), and while an
image is loaded ``CUSTOM_FPGA_FUNCTION_ID_HUAWEI_<AEI ID>``.

The image factory's image ids are AEI ids, so the card itself says which
image it holds: the deployable's ``bitstream_id`` is the AEI ID of a
PROGRAMMED shell, with no bookkeeping on the agent's side.
"""

import os
import time

from oslo_log import log as logging

from cyborg_clone.common import trait_names
from cyborg_clone.drivers import base
from cyborg_clone.drivers import fpga_cmd_entry
from cyborg_clone.drivers import pci
from cyborg_clone.drivers import tools

LOG = logging.getLogger(__name__)

VENDOR_ID = '0x19e5'
# Shell device id -> the name Huawei gives the shell.
SHELLS = {
    '0xd503': 'FP1 VU9P high-performance shell',
    '0xd512': 'FP1 VU9P general-purpose shell',
}
# Seconds one FpgaCmdEntry run may take: every command, LF included, only
# talks to the management plane and returns; the load itself is polled.
_CALL_TIMEOUT = 30


class HuaweiVU9PDriver(base.Driver):
    """Finds FP1 VU9P shells in sysfs and loads AEIs with FpgaCmdEntry."""

    name = 'huawei_vu9p'

    @property
    def _opts(self):
        return self.conf.huawei_vu9p

    def discover(self):
        shells = self._shells()
        if not shells:
            # A host without shells need not have the tool installed.
            return []
        slots = self._slots()
        return [self._device(shell, slots.get(shell.address))
                for shell in shells]

    def program(self, deployable_name, image_path):
        image_id = os.path.basename(image_path)
        if not fpga_cmd_entry.AEI_ID.fullmatch(image_id):
            raise self.error(
                '%r does not name an FPGA image id (32 lowercase hexadecimal '
                'characters), so FpgaCmdEntry cannot load it.' % image_path)
        shell = self._shell_named(deployable_name)
        slot = self._slots().get(shell.address)
        if slot is None:
            raise self.error('FpgaCmdEntry DF -D does not list %s (%s).'
                              % (shell.address, deployable_name))
        self._run('LF', '-S', str(slot), '-I', image_id)
        status = self._wait_for_load(slot, shell.address, image_id)
        LOG.info('Slot %d (%s) runs AEI %s.', slot, shell.address,
                 status.aei_id)
        return status.aei_id

    def _wait_for_load(self, slot, address, image_id):
        """Poll ``IF`` until the load of ``image_id`` ends; its status."""
        deadline = time.monotonic() + self._opts.load_timeout
        while True:
            status = self._status(slot, address)
            if status.ops_status == 'FAILURE':
                raise self.error(
                    'FpgaCmdEntry could not load %s into slot %d: '
                    'Load/ClearOpsError %s.'
                    % (image_id, slot, status.ops_error or '(not given)'))
            if (status.ops_status == 'SUCCESS'
                    and status.pr_status == 'PROGRAMMED'):
                if status.aei_id != image_id:
                    raise self.error(
                        'slot %d reports AEI %s after loading %s: another '
                        'load replaced it.' % (slot, status.aei_id, image_id))
                return status
            # PROCESSING, or a status the load has not reached yet.
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self.error(
                    'loading %s into slot %d did not finish within %d '
                    'seconds; last status: %s.'
                    % (image_id, slot, self._opts.load_timeout,
                       status.describe()))
            time.sleep(min(self._opts.poll_interval, remaining))

    def _shells(self):
        return [fn for fn in pci.scan(self.sysfs_root, {VENDOR_ID})
                if fn.device in SHELLS]

    def _shell_named(self, deployable_name):
        for shell in self._shells():
            if self._deployable_name(shell) == deployable_name:
                return shell
        raise self.unknown(deployable_name)

    def _deployable_name(self, shell):
        return self.name_for(shell.address)

    def _slots(self):
        """``{DBDF: slot}`` as ``FpgaCmdEntry DF -D`` numbers them."""
        output = self._run('DF', '-D')
        try:
            slots = fpga_cmd_entry.parse_slots(output)
        except fpga_cmd_entry.ParseError as error:
            raise self._unreadable('DF -D', error, output) from None
        return {slot.dbdf: slot.slot for slot in slots}

    def _status(self, slot, address):
        """The ``IF`` status of ``slot``, which must still be ``address``
        (slots follow the tool's scan, so a hot-plug can renumber them)."""
        output = self._run('IF', '-S', str(slot))
        try:
            status = fpga_cmd_entry.parse_status(output)
        except fpga_cmd_entry.ParseError as error:
            raise self._unreadable('IF -S %d' % slot, error, output) from None
        if status.dbdf != address:
            raise self.error('FpgaCmdEntry IF -S %d describes %s, not %s.'
                              % (slot, status.dbdf, address))
        return status

    def _device(self, shell, slot):
        traits = ['CUSTOM_FPGA_XILINX', 'CUSTOM_FPGA_HUAWEI_VU9P',
                  trait_names.custom('FPGA_PRODUCT_ID', shell.device[2:])]
        aei_id = shell_id = None
        if slot is None:
            LOG.warning('FpgaCmdEntry DF -D does not list %s; reporting it '
                        'without its image.', shell.address)
        else:
            status = self._status(slot, shell.address)
            aei_id, shell_id = status.loaded_aei_id, status.shell_id
        if aei_id:
            traits.append(trait_names.function_id('HUAWEI', aei_id))
        return pci.fpga_card(
            self.name, shell, [shell.address], SHELLS[shell.device],
            self._deployable_name(shell), traits, bitstream_id=aei_id,
            vendor_board_info=('shell_id=%s' % shell_id if shell_id else ''))

    def _run(self, *args):
        return tools.run(self.name, [self._opts.fpga_cmd_entry_path, *args],
                         _CALL_TIMEOUT)

    def _unreadable(self, command, error, output):
        return self.error('cannot read the output of FpgaCmdEntry %s (%s): '
                           '%r' % (command, error, output[-200:]))
