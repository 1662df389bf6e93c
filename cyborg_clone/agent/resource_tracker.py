"""What the host's drivers discover, and which driver owns what."""

from oslo_log import log as logging

from cyborg_clone.common import exception

LOG = logging.getLogger(__name__)

# Enough of a failure to say what went wrong in a log line and in
# cyborg-clone-status, short enough to store per host and driver.
MAX_REASON = 500


class Discovery(list):
    """One round of discovery: the devices (report.Device) of the drivers
    that succeeded, and in ``failed`` ``{driver name: why it failed}`` for
    the others."""

    def __init__(self, devices=(), failed=None):
        super().__init__(devices)
        self.failed = dict(failed or {})


def failure_reason(driver_name, error):
    """What went wrong, in one line, without repeating the driver."""
    if (isinstance(error, exception.DriverError)
            and error.kwargs.get('driver') == driver_name):
        reason = str(error.kwargs.get('reason', error.faultstring))
    else:
        reason = '%s: %s' % (type(error).__name__, error)
    return ' '.join(reason.split())[:MAX_REASON]


class ResourceTracker:
    """Runs every driver's discovery and remembers each one's last result.

    A driver whose discovery fails is reported as failed, with the reason,
    instead of with devices: the conductor then leaves that driver's rows
    as they are (its last known devices, or none yet) while it applies the
    others' devices, so neither a flaky vendor tool nor one broken driver
    makes cards (and the instances using them) vanish or keeps the healthy
    drivers' cards from appearing.
    """

    def __init__(self, drivers):
        self.drivers = list(drivers)
        self._last = {}  # driver name -> its last list of report.Device

    def discover(self):
        """Every driver's devices, or why it failed: a Discovery."""
        devices, failed = [], {}
        for driver in self.drivers:
            try:
                found = list(driver.discover())
            except exception.DriverError as error:
                # The error says what failed (a tool, the privileged
                # helper); a traceback would only repeat it every round.
                failed[driver.name] = failure_reason(driver.name, error)
                LOG.error('Discovery by driver %s failed: %s', driver.name,
                          failed[driver.name])
            except Exception as error:
                # Any failure of a driver, however it fails, must not stop
                # the other drivers or the agent's periodic loop.
                failed[driver.name] = failure_reason(driver.name, error)
                LOG.exception('Discovery by driver %s failed.', driver.name)
            else:
                self._last[driver.name] = found
                devices.extend(found)
        if failed:
            LOG.warning('Reporting the devices of the other drivers; the '
                        'cards driver(s) %s reported before are kept as '
                        'they were until they discover again.',
                        ', '.join(sorted(failed)))
        return Discovery(devices, failed)

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
