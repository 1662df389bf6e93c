"""A no-op FPGA driver, so the whole stack runs without hardware."""

import os

from cyborg_clone.common import trait_names
from cyborg_clone.drivers import base
from cyborg_clone.drivers import report

NUM_ACCELERATORS = 16
# The card's management function, where upstream's fake driver puts it.
CONTROL_PATH = {'domain': '0000', 'bus': '0c', 'device': '00',
                'function': '0'}


def attach_info(index):
    """The PCI address of accelerator ``index``: the functions after the
    control path's, numbered like SR-IOV VFs (0c:00.1 ... 0c:02.0)."""
    offset = index + 1
    return dict(CONTROL_PATH, device='%02x' % (offset // 8),
                function=str(offset % 8))


class FakeDriver(base.Driver):
    """One fake FPGA card with one deployable of 16 accelerators.

    Programming only records the image id (``base.LoadedImages``, keyed by
    deployable name, so several simulated hosts can share a state
    directory); later discoveries report it as the ``bitstream_id`` and its
    function id trait.
    """

    name = 'fake'

    def __init__(self, conf, host=None):
        """``host`` defaults to ``conf.host``; tests simulate other hosts."""
        super().__init__(conf)
        self.host = host or conf.host
        self.loaded = base.LoadedImages(conf, self.name)

    @property
    def deployable_name(self):
        return self.name_for('FakeDevice')

    def discover(self):
        loaded = self.loaded.entry(self.deployable_name)
        image_id = loaded['image_id'] if loaded else None
        traits = ('CUSTOM_FAKE_DEVICE',)
        if image_id:
            traits += (trait_names.function_id('FAKE', image_id),)
        deployable = report.Deployable(
            name=self.deployable_name,
            num_accelerators=NUM_ACCELERATORS,
            resource_class='FPGA',
            traits=traits,
            bitstream_id=image_id,
            attach_handles=tuple(
                report.AttachHandle(attach_type='TEST_PCI',
                                    attach_info=attach_info(i))
                for i in range(NUM_ACCELERATORS)))
        return [report.Device(
            type='FPGA', vendor='0xABCD', model='miss model info',
            driver_name=self.name,
            controlpath=report.ControlPath(cpid_type='PCI',
                                           cpid_info=dict(CONTROL_PATH)),
            std_board_info={'device_id': '0xabcd', 'class': 'Fake class'},
            vendor_board_info='fake_vendor_info',
            deployables=(deployable,))]

    def program(self, deployable_name, image_path):
        if deployable_name != self.deployable_name:
            raise self.unknown(deployable_name)
        image_id = os.path.basename(image_path)
        if not image_id:
            raise self.error('%r does not name an image file.' % image_path)
        # The fake card "runs" the image itself: its function id is the
        # image id.
        self.loaded.record(deployable_name, image_id, image_id)
        return image_id
