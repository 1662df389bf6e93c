"""What the host's drivers discover, and which driver owns what."""

from oslo_log import log as logging

from cyborg_clone.common import exception

LOG = logging.getLogger(__name__)


class ResourceTracker:
    """Runs every driver's discovery and remembers each one's last result.

    A driver whose discovery fails is reported with its last known devices,
    not left out: the conductor deletes whatever a report leaves out, and a
    flaky vendor tool must not make cards (and the instances using them)
    vanish. When a failing driver has no earlier result (the agent just
    started), the whole report is skipped for that round, for the same
    reason.
    """

    def __init__(self, drivers):
        self.drivers = list(drivers)
        self._last = {}  # driver name -> its last list of report.Device

    def discover(self):
        """Every driver's devices, or None when there is nothing safe to
        report this round."""
        devices = []
        complete = True
        for driver in self.drivers:
            try:
                found = list(driver.discover())
            except Exception:
                # Any failure of a driver, however it fails, must not stop
                # the other drivers or the agent's periodic loop.
                LOG.exception('Discovery by driver %s failed.', driver.name)
                found = self._last.get(driver.name)
                if found is None:
                    complete = False
                    continue
                LOG.warning('Reporting the last known devices of driver %s '
                            'instead.', driver.name)
            self._last[driver.name] = found
            devices.extend(found)
        if not complete:
            LOG.warning('Skipping this report: a driver failed before it '
                        'ever reported, and leaving its cards out would '
                        'delete them.')
            return None
        return devices

    def driver_of(self, deployable_name):
        """The driver that reported ``deployable_name``.

        Discovers again when the name is not known yet (e.g. right after
        the agent started).

        :raises DeployableNotFound: when no driver reports it.
        """
        driver = self._owner(deployable_name)
        if driver is None:
            self.discover()
            driver = self._owner(deployable_name)
        if driver is None:
            raise exception.DeployableNotFound(ident=deployable_name)
        return driver

    def _owner(self, deployable_name):
        for driver in self.drivers:
            for device in self._last.get(driver.name, ()):
                if any(dep.name == deployable_name
                       for dep in device.deployables):
                    return driver
        return None
