"""The agent's RPC endpoint and its periodic report to the conductor."""

import os
import tempfile

from oslo_log import log as logging
import oslo_messaging as messaging

from cyborg_clone.agent import resource_tracker
from cyborg_clone.agent import rpcapi
from cyborg_clone.clients import image_store
from cyborg_clone.common import keyed_locks
from cyborg_clone.drivers import base
from cyborg_clone.drivers import report

LOG = logging.getLogger(__name__)


class AgentManager:
    target = messaging.Target(version=rpcapi.RPC_API_VERSION)

    def __init__(self, conf, conductor_api, drivers=None):
        """:param drivers: the drivers to run; by default those
        ``[agent]enabled_drivers`` names."""
        self.conf = conf
        self.conductor_api = conductor_api
        if drivers is None:
            drivers = base.load_drivers(conf)
        self.tracker = resource_tracker.ResourceTracker(drivers)
        self._images = None
        self._loading = keyed_locks.KeyedLocks()

    @property
    def images(self):
        # Built on first use: most agents program rarely, and reporting
        # must not depend on the image store being reachable.
        if self._images is None:
            self._images = image_store.get_image_store(self.conf)
        return self._images

    def report_once(self, context):
        """Discover the host's cards and send them to a conductor (a cast),
        with the drivers whose discovery failed and why.

        :returns: the resource_tracker.Discovery sent.
        """
        found = self.tracker.discover()
        self._send(context, found)
        return found

    def _send(self, context, found):
        self.conductor_api.report_data(
            context, hostname=self.conf.host,
            report=report.to_primitive(found),
            failed_drivers=found.failed or None)

    def program(self, context, deployable_name, image_id):
        """RPC: load image ``image_id`` onto a deployable of this host.

        One load at a time per deployable. The card is read first (the
        driver's discovery), so that an agent that restarted while a load
        ran trusts nothing it remembers: when the card runs ``image_id``
        already (a conductor that resumed a bind asks again for a load
        that finished) nothing is loaded. Otherwise the image is fetched
        (and its size and sha256 checked) into a private temporary
        directory, named after its id for the tools that load by id, and
        removed afterwards whatever happens.

        :returns: ``{"function_id": what the card runs now (None when
            nothing was loaded), "report": the host's discovery report
            taken after the load}``, so the conductor records the new state
            without waiting for the next periodic report; ``"report"`` is
            None when a driver failed to discover (that report is cast to
            the conductor instead).
        :raises DeployableNotFound: when no driver reports the deployable.
        :raises Invalid: for an id that is not an FPGA image id.
        :raises ImageNotFound, ImageCorrupt: when the image cannot be
            fetched intact.
        :raises DriverError: when the driver fails to program it.
        """
        image_store.check_image_id(image_id)
        with self._loading.hold(deployable_name):
            driver = self.tracker.driver_of(deployable_name)
            if _runs(driver, deployable_name, image_id):
                LOG.info('Deployable %s runs image %s already; not loading '
                         'it again.', deployable_name, image_id)
                function_id = None
            else:
                function_id = self._load(driver, deployable_name, image_id)
        found = self.tracker.discover()
        if found.failed:
            # The answer's report has no room to say that a driver failed,
            # and applied as complete it would delete that driver's cards:
            # the answer carries none, and the full report goes as a cast.
            self._send(context, found)
            return {'function_id': function_id, 'report': None}
        return {'function_id': function_id,
                'report': report.to_primitive(found)}

    def _load(self, driver, deployable_name, image_id):
        os.makedirs(self.conf.state_path, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix='cyborg-clone-image-',
                                         dir=self.conf.state_path) as work:
            # mkdtemp makes the directory 0700: no other user of the host
            # can read or swap the image between fetch and load.
            path = os.path.join(work, image_id)
            self.images.fetch(image_id, path)
            LOG.info('Programming image %s onto deployable %s with driver '
                     '%s.', image_id, deployable_name, driver.name)
            function_id = driver.program(deployable_name, path)
        LOG.info('Deployable %s now runs %s.', deployable_name, function_id)
        return function_id


def _runs(driver, deployable_name, image_id):
    """Whether the card, read now, runs ``image_id`` on the deployable;
    False when it cannot be read (the load verifies what it did)."""
    try:
        devices = driver.discover()
    except Exception as error:
        LOG.warning('Could not read deployable %s before loading image %s '
                    'onto it (%s); loading it.', deployable_name, image_id,
                    resource_tracker.failure_reason(driver.name, error))
        return False
    for device in devices:
        for deployable in device.deployables:
            if deployable.name == deployable_name:
                return deployable.bitstream_id == image_id
    return False
