"""The driver contract every accelerator driver implements, and loading."""

import abc

from oslo_utils import importutils

from cyborg_clone.common import exception

# Drivers by the name [agent]enabled_drivers uses. Classes are imported
# only when enabled, so a host never loads a vendor driver it does not run.
DRIVERS = {
    'fake': 'cyborg_clone.drivers.fake.FakeDriver',
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
    """

    #: The name operators list in ``[agent]enabled_drivers``; reported as
    #: each device's and deployable's ``driver_name``.
    name = None

    def __init__(self, conf):
        """:param conf: the agent's ``oslo_config.cfg.ConfigOpts``."""
        self.conf = conf

    @property
    def sysfs_root(self):
        """The directory this driver reads ``sys/...`` below."""
        return self.conf.agent.sysfs_root

    @abc.abstractmethod
    def discover(self):
        """Describe the cards this driver manages on this host.

        :returns: a list of ``cyborg_clone.drivers.report.Device``, one per
            physical card, each with its deployables and attach handles;
            empty when the host has none. Deployable names must be unique
            cloud-wide (they start with the host name).
        :raises: any exception when discovery itself fails; the agent then
            keeps reporting this driver's last known devices rather than
            reporting them gone.
        """

    @abc.abstractmethod
    def program(self, deployable_name, image_path):
        """Load an image onto a deployable and verify it loaded.

        :param deployable_name: the ``name`` of a deployable this driver
            reported.
        :param image_path: a local file holding the image; its base name
            is the image id, for tools that load by id.
        :returns: the bitstream or function id the deployable holds now,
            as the hardware reports it.
        :raises cyborg_clone.common.exception.DriverError: when the
            deployable is unknown, the card or its tool refuses the image,
            or the result cannot be verified.
        """


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
