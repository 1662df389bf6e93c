"""The conductor's RPC endpoint: thin; each workflow has its own module."""

import oslo_messaging as messaging

from cyborg_clone.agent import rpcapi as agent_rpcapi
from cyborg_clone.conductor import arq_binding
from cyborg_clone.conductor import bind_recovery
from cyborg_clone.conductor import deployable_programming
from cyborg_clone.conductor import device_cleaning
from cyborg_clone.conductor import device_sync
from cyborg_clone.conductor import fpga_image_build
from cyborg_clone.conductor import placement_sync
from cyborg_clone.conductor import rpcapi
from cyborg_clone.objects import device


class ConductorManager:
    target = messaging.Target(version=rpcapi.RPC_API_VERSION)

    def __init__(self, conf, agent_api=None, factory=None, lease=None):
        """:param lease: this conductor's bind_recovery.Lease; one that
            registers on first use when not given."""
        self.conf = conf
        self.agent_api = agent_api or agent_rpcapi.AgentAPI(conf)
        self._factory = factory
        # One per conductor: it remembers what each host last sent to
        # Placement, so unchanged reports cost Placement nothing.
        self.placement = placement_sync.PlacementSync(conf)
        self.lease = lease or bind_recovery.Lease(conf)
        self.recovery = bind_recovery.Recovery(
            conf, self.lease, agent_api=self.agent_api,
            placement=self.placement)
        self.cleaning = device_cleaning.Cleaning(conf, self.agent_api,
                                                 self.placement)

    @property
    def factory(self):
        # Built on first use: a conductor that never builds images needs
        # no object store client.
        if self._factory is None:
            self._factory = fpga_image_build.Factory(self.conf)
        return self._factory

    def bind_arqs(self, context, arq_uuids):
        arq_binding.bind_arqs(self.conf, context, arq_uuids,
                              agent_api=self.agent_api,
                              placement=self.placement, owner=self.lease.id)

    def release_arqs(self, context, released):
        self.cleaning.release(context, released)

    def report_data(self, context, hostname, report, failed_drivers=None):
        device_sync.apply_report(context, hostname, report,
                                 placement=self.placement,
                                 failed_drivers=failed_drivers)
        # The agent is up: cleanups left unfinished are asked again.
        self.cleaning.resume(context, hostname)

    def set_device_status(self, context, device_uuid, status):
        """Enable or disable a device, then reserve or release its
        inventory in Placement (a failure there is logged and retried at
        the host's next report). Enabling retries, in the background, the
        cleanups of its deployables that failed: they stay reserved until
        it succeeds."""
        hostname = device.Device.set_status(device_uuid, status)
        if status == device.ENABLED:
            self.cleaning.retry_failed(context, device_uuid)
        self.placement.host_changed(hostname)

    def program_deployable(self, context, deployable_uuid, image_id):
        return deployable_programming.program(
            self.conf, context, self.agent_api, deployable_uuid, image_id,
            placement=self.placement)

    def build_fpga_image(self, context, image_id):
        self.factory.build(image_id)

    def save_fpga_image(self, context, image_id):
        self.factory.save(image_id)

    def delete_fpga_image(self, context, image_id):
        self.factory.delete(image_id)

    def periodic_tasks(self, context):
        """Housekeeping run every [conductor]periodic_interval."""
        arq_binding.fail_stuck_binds(self.conf, context,
                                     owner=self.lease.id)
        self.cleaning.resume(context)
        fpga_image_build.recover(self.conf)

    def recover_binds(self, context):
        """Adopt and resume orphaned binds; run every
        [conductor]heartbeat_interval."""
        return self.recovery.sweep(context)
