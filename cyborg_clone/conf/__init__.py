"""Configuration: every option group is registered through register_opts().

Only ``cyborg_clone.cmd`` touches the process-wide ``cfg.CONF``; everything
else receives the ``ConfigOpts`` it should read, so tests can build their own.
"""

from cyborg_clone.conf import agent
from cyborg_clone.conf import api
from cyborg_clone.conf import conductor
from cyborg_clone.conf import database
from cyborg_clone.conf import default
from cyborg_clone.conf import fpga_image
from cyborg_clone.conf import glance
from cyborg_clone.conf import gpu_devices
from cyborg_clone.conf import huawei_vu9p
from cyborg_clone.conf import image_store
from cyborg_clone.conf import intel_opae
from cyborg_clone.conf import nic_devices
from cyborg_clone.conf import nova
from cyborg_clone.conf import object_store
from cyborg_clone.conf import pci
from cyborg_clone.conf import placement
from cyborg_clone.conf import xilinx

_MODULES = (default, api, database, conductor, agent, nova, placement, glance,
            object_store, image_store, fpga_image, xilinx, huawei_vu9p,
            intel_opae, gpu_devices, pci, nic_devices)


def register_opts(conf):
    """Register every option group of the service on ``conf``."""
    for module in _MODULES:
        module.register_opts(conf)


def list_opts():
    """Options for oslo-config-generator, as (group, [opts]) pairs."""
    result = []
    for module in _MODULES:
        result.extend(module.list_opts())
    return result
