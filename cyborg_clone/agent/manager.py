"""The agent's RPC endpoint and its periodic report to the conductor."""

import concurrent.futures
import os
import tempfile
import threading

from oslo_log import log as logging
import oslo_messaging as messaging

from cyborg_clone.agent import resource_tracker
from cyborg_clone.agent import rpcapi
from cyborg_clone.clients import glance
from cyborg_clone.clients import image_store
from cyborg_clone.common import exception
from cyborg_clone.common import keyed_locks
from cyborg_clone.drivers import base
from cyborg_clone.drivers import mdev
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
        self._cleanups = _Cleanups()

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

    def program(self, context, deployable_name, image_id,
                glance_image=None):
        """RPC: load image ``image_id`` onto a deployable of this host.

        One load at a time per deployable. The card is read first (the
        driver's discovery), so that an agent that restarted while a load
        ran trusts nothing it remembers: when the card runs ``image_id``
        already (a conductor that resumed a bind asks again for a load
        that finished) nothing is loaded. Otherwise the image is fetched
        (and its size and sha256 checked) into a private temporary
        directory, named after its id for the tools that load by id, and
        removed afterwards whatever happens. With ``glance_image`` (a
        ``glance.Image`` as a dict, from the conductor) ``image_id`` is a
        Glance image id, and the image is streamed from Glance instead,
        its size and hash checked against what Glance recorded.

        :returns: ``{"function_id": what the card runs now (None when
            nothing was loaded), "report": the host's discovery report
            taken after the load}``, so the conductor records the new state
            without waiting for the next periodic report; ``"report"`` is
            None when a driver failed to discover (that report is cast to
            the conductor instead).
        :raises DeployableNotFound: when no driver reports the deployable.
        :raises Invalid: for an id that is not an FPGA image id (a Glance
            image id with ``glance_image``).
        :raises ImageNotFound, ImageCorrupt: when the image cannot be
            fetched intact; nothing is loaded then.
        :raises ServiceUnavailable: when Glance cannot be asked.
        :raises DriverError: when the driver fails to program it.
        """
        if glance_image is None:
            fetch = self.images.fetch
            image_store.check_image_id(image_id)
        else:
            fetch = self._downloader(image_id, glance_image)
        with self._loading.hold(deployable_name):
            driver = self.tracker.driver_of(deployable_name)
            if _runs(driver, deployable_name, image_id):
                LOG.info('Deployable %s runs image %s already; not loading '
                         'it again.', deployable_name, image_id)
                function_id = None
            else:
                function_id = self._load(driver, deployable_name, image_id,
                                         fetch)
        found = self.tracker.discover()
        if found.failed:
            # The answer's report has no room to say that a driver failed,
            # and applied as complete it would delete that driver's cards:
            # the answer carries none, and the full report goes as a cast.
            self._send(context, found)
            return {'function_id': function_id, 'report': None}
        return {'function_id': function_id,
                'report': report.to_primitive(found)}

    def prepare_handle(self, context, deployable_name, attach_type,
                       attach_info):
        """RPC: make the device an attach handle stands for. An MDEV
        handle gets a mediated device of its ``asked_type`` on its parent
        (``mdevctl start``).

        :returns: what the bound ARQ attaches (``mdev.bound_attach_info``).
        :raises DriverError: when the handle's type is made by no driver,
            the driver cannot, or its tool fails (with its message).
        """
        driver = self.tracker.driver_of(deployable_name)
        create = getattr(driver, 'create_mdev', None)
        if attach_type != 'MDEV' or create is None:
            raise driver.error('%s handles of %s are not made at bind.'
                               % (attach_type, deployable_name))
        parent = _address(attach_info)
        mdev_uuid = create(parent, attach_info['asked_type'])
        return mdev.bound_attach_info(parent, attach_info['asked_type'],
                                      mdev_uuid)

    def release_handle(self, context, deployable_name, attach_type,
                       attach_info):
        """RPC: undo ``prepare_handle`` (``mdevctl stop``); nothing to do
        for a handle that was not made or is gone already."""
        if attach_type != 'MDEV' or not attach_info.get('uuid'):
            return
        driver = self.tracker.driver_of(deployable_name)
        remove = getattr(driver, 'remove_mdev', None)
        if remove is not None:
            remove(attach_info['uuid'])

    def clean_deployable(self, context, deployable_name):
        """RPC: run the deployable's cleanup; the action run, or None when
        its driver has none configured for it.

        A request for a deployable whose cleanup runs already (a
        conductor asking again) waits for that one and shares its
        outcome; an agent that restarted runs it anew.

        :raises DriverError: saying what failed.
        """
        return self._cleanups.run(deployable_name, self._clean)

    def _clean(self, deployable_name):
        driver = self.tracker.driver_of(deployable_name)
        cleanup = getattr(driver, 'cleanup', None)
        if cleanup is None:
            return None
        action = cleanup(deployable_name)
        if action is not None:
            LOG.info('Deployable %s cleaned with %s.', deployable_name,
                     action)
        return action

    def _downloader(self, image_id, glance_image):
        """``fetch(image_id, path)`` streaming the Glance image."""
        image = glance.Image.from_primitive(glance_image)
        # The id names a file in the private directory: only Glance's own
        # spelling, never a path.
        if image_id != glance.image_id_from(image_id) or image.id != image_id:
            raise exception.Invalid(
                reason='%r is not the id of Glance image %s.'
                       % (image_id, image.id))
        client = glance.GlanceClient.shared(self.conf)
        if not client.configured:
            raise exception.ServiceUnavailable(
                reason='host %s cannot download Glance image %s: its '
                       '[glance] section sets no auth_type.'
                       % (self.conf.host, image_id))
        return lambda _image_id, path: client.download(image, path)

    def _load(self, driver, deployable_name, image_id, fetch):
        os.makedirs(self.conf.state_path, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix='cyborg-clone-image-',
                                         dir=self.conf.state_path) as work:
            # mkdtemp makes the directory 0700: no other user of the host
            # can read or swap the image between fetch and load.
            path = os.path.join(work, image_id)
            fetch(image_id, path)
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


def _address(attach_info):
    """The PCI address of a handle's ``domain/bus/device/function``."""
    return '%(domain)s:%(bus)s:%(device)s.%(function)s' % attach_info


class _Cleanups:
    """Cleanups running in this process, one per deployable: a second ask
    for a deployable joins the running one."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running = {}

    def run(self, name, clean):
        with self._lock:
            running = self._running.get(name)
            mine = running is None
            if mine:
                running = self._running[name] = concurrent.futures.Future()
        if not mine:
            return running.result()
        try:
            running.set_result(clean(name))
        except BaseException as error:
            running.set_exception(error)
        finally:
            with self._lock:
                del self._running[name]
        return running.result()
