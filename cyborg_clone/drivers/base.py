"""The driver contract every accelerator driver implements, and loading."""

import abc
import json
import os
import threading

from oslo_utils import importutils

from cyborg_clone.common import exception
from cyborg_clone.common import fileutils

# Drivers by the name [agent]enabled_drivers uses. Classes are imported
# only when enabled, so a host never loads a vendor driver it does not run.
DRIVERS = {
    'fake': 'cyborg_clone.drivers.fake.FakeDriver',
    'xilinx': 'cyborg_clone.drivers.xilinx.XilinxDriver',
    'huawei_vu9p': 'cyborg_clone.drivers.huawei_vu9p.HuaweiVU9PDriver',
    'intel_opae': 'cyborg_clone.drivers.intel_opae.IntelOPAEDriver',
    'intel_nic': 'cyborg_clone.drivers.intel_nic.IntelNICDriver',
    'nvidia_gpu': 'cyborg_clone.drivers.nvidia_gpu.NvidiaGPUDriver',
    'pci': 'cyborg_clone.drivers.generic_pci.GenericPCIDriver',
}


class Driver(abc.ABC):
    """An accelerator driver: finds a host's cards and programs them.

    The agent builds one instance per enabled driver and keeps it for its
    lifetime; it calls ``discover`` every ``[agent]report_interval`` and
    ``program`` when the conductor asks, possibly from another thread, so
    a driver keeps no per-call state in memory that a restart would lose.

    Drivers read sysfs below ``conf.agent.sysfs_root`` (``/`` in
    production, a fixture tree in tests) and run vendor tools at paths
    their own options name, so both can be faked.

    Optional capabilities, for drivers whose devices need them; callers
    check with ``getattr(driver, name, None)``, and every one raises
    ``DriverError`` saying what failed (the vendor tool's message):

    ``cleanup(deployable_name)``
        Make the deployable's device fit for the next tenant after an
        unbind (an NVMe secure erase, a PCI reset), as configured for it.
        Returns the action run (``"nvme-secure-erase"``,
        ``"pci-reset"``), or None when none is configured; returning
        means the device is clean. Unknown deployable: ``unknown()``.
    ``create_mdev(parent_address, mdev_type)``
        Create a mediated device (a vGPU) of ``mdev_type`` on the parent
        at PCI ``parent_address``, which must be a parent the driver
        reports with that type. Returns its new uuid, the mediated device
        existing by then.
    ``remove_mdev(mdev_uuid)``
        Remove a mediated device ``create_mdev`` made; one that no longer
        exists is not an error (an unbind redone after a crash).
    """

    #: The name operators list in ``[agent]enabled_drivers``; reported as
    #: each device's and deployable's ``driver_name``.
    name = None

    def __init__(self, conf):
        """:param conf: the agent's ``oslo_config.cfg.ConfigOpts``."""
        self.conf = conf
        #: The host whose cards this driver reports.
        self.host = conf.host

    @property
    def sysfs_root(self):
        """The directory this driver reads ``sys/...`` below."""
        return self.conf.agent.sysfs_root

    def name_for(self, address):
        """The deployable name of the card at PCI ``address`` (its first
        function): ``<host>_<address>``, unique cloud-wide and stable
        across reboots."""
        return '%s_%s' % (self.host, address)

    def error(self, reason):
        """A DriverError of this driver."""
        return exception.DriverError(driver=self.name, reason=reason)

    def unknown(self, deployable_name):
        """The error for a deployable this driver does not report."""
        return self.error('no deployable named %s on host %s.'
                          % (deployable_name, self.host))

    @abc.abstractmethod
    def discover(self):
        """Describe the cards this driver manages on this host.

        :returns: a list of ``cyborg_clone.drivers.report.Device``, one per
            physical card, each with its deployables and attach handles;
            empty when the host has none. Deployable names must be unique
            cloud-wide (they start with the host name).
        :raises: any exception when discovery itself fails; the agent then
            reports this driver as failed, and the conductor keeps its
            last known devices rather than deleting them.
        """

    @abc.abstractmethod
    def program(self, deployable_name, image_path):
        """Load an image onto a deployable and verify it loaded.

        :param deployable_name: the ``name`` of a deployable this driver
            reported.
        :param image_path: a local file holding the image; its base name
            is the image id, for tools that load by id.
        :returns: the function id the deployable holds now, as the
            hardware reports it after the load (the AFU id, the xclbin
            uuid, the AEI id...): the caller rediscovers for the rest.
        :raises cyborg_clone.common.exception.DriverError: when the
            deployable is unknown, the card or its tool refuses the image,
            or the result cannot be verified.
        """


# Loads of two deployables may end at once (the agent serves calls on
# threads); each record rewrites the whole file, and must not drop the
# other's entry.
_RECORDING = threading.Lock()


class LoadedImages:
    """Which image id a driver last loaded onto each deployable, on disk.

    Cards report the function they run (an AFU id, an xclbin uuid), not
    the image-store id it came from. A driver records both after a load in
    ``<state_path>/<driver>_loaded.json`` and reports the image id as the
    deployable's ``bitstream_id`` only while the card still runs that
    function, so a card reprogrammed behind the agent's back, or reset,
    stops claiming an image it no longer holds.
    """

    def __init__(self, conf, driver_name):
        self.conf = conf
        self.path = os.path.join(conf.state_path,
                                 '%s_loaded.json' % driver_name)

    def image_id(self, deployable_name, function_id):
        """The image id recorded for the deployable, if it still runs
        ``function_id``; else None."""
        entry = self.entry(deployable_name)
        if entry and function_id and entry['function_id'] == function_id:
            return entry['image_id']
        return None

    def entry(self, deployable_name):
        """``{"image_id", "function_id"}`` last recorded, or None."""
        return self._read().get(deployable_name)

    def record(self, deployable_name, image_id, function_id):
        """Record a load the driver verified: the card runs
        ``function_id``, loaded from ``image_id``."""
        with _RECORDING:
            loaded = self._read()
            loaded[deployable_name] = {'image_id': image_id,
                                       'function_id': function_id}
            # A crash or a concurrent discovery never sees half a file.
            os.makedirs(self.conf.state_path, exist_ok=True)
            with fileutils.atomic_output(self.path) as out:
                out.write(json.dumps(loaded, sort_keys=True).encode())

    def _read(self):
        try:
            with open(self.path) as stored:
                return json.load(stored)
        except FileNotFoundError:
            return {}


def load_drivers(conf):
    """The drivers ``conf.agent.enabled_drivers`` names, built from ``conf``.

    :raises cyborg_clone.common.exception.Invalid: for an unknown name;
        the message lists the valid ones.
    """
    unknown = [n for n in conf.agent.enabled_drivers if n not in DRIVERS]
    if unknown:
        raise exception.Invalid(
            reason='[agent]enabled_drivers names unknown driver(s) %s; '
                   'valid drivers are: %s.'
                   % (', '.join(unknown), ', '.join(sorted(DRIVERS))))
    return [importutils.import_class(DRIVERS[name])(conf)
            for name in conf.agent.enabled_drivers]
