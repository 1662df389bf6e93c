"""The agent's RPC endpoint and its periodic report to the conductor."""

from oslo_log import log as logging
import oslo_messaging as messaging

from cyborg_clone.agent import images
from cyborg_clone.agent import resource_tracker
from cyborg_clone.agent import rpcapi
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

    def report_once(self, context):
        """Discover the host's cards and send them to a conductor (a cast).

        :returns: True when a report was sent; False when discovery failed
            in a way that made reporting unsafe (see ResourceTracker).
        """
        devices = self.tracker.discover()
        if devices is None:
            return False
        self.conductor_api.report_data(context, hostname=self.conf.host,
                                       report=report.to_primitive(devices))
        return True

    def program(self, context, deployable_name, image_id):
        """RPC: load ``image_id`` onto a deployable of this host.

        :returns: the bitstream/function id the deployable holds now.
        :raises DeployableNotFound: when no driver reports the deployable.
        :raises Invalid: for an image id that cannot be a file name.
        :raises DriverError: when the driver fails to program it.
        """
        driver = self.tracker.driver_of(deployable_name)
        path = images.local_path(self.conf, image_id)
        LOG.info('Programming image %s onto deployable %s with driver %s.',
                 image_id, deployable_name, driver.name)
        loaded = driver.program(deployable_name, path)
        LOG.info('Deployable %s now holds %s.', deployable_name, loaded)
        return loaded
