"""Client side of the agent's RPC API, used by the conductor."""

from cyborg_clone.common import rpc

# 1.0: program.
# 1.1: program fetches from the image store and returns the function id
#      and a fresh report.
# 1.2: prepare_handle, release_handle (vGPUs' mediated devices) and
#      clean_deployable (a device's cleanup between tenants).
# 1.3: program takes glance_image, to download the image from Glance.
RPC_API_VERSION = '1.3'


class AgentAPI(rpc.ClientAPI):
    def __init__(self, conf):
        super().__init__(conf, conf.agent.topic)

    def program(self, context, hostname, deployable_name, image_id,
                timeout=None, glance_image=None):
        """Ask ``hostname``'s agent to load ``image_id`` onto a deployable
        and wait; returns ``{"function_id", "report"}`` (see the agent's
        ``program``). ``glance_image`` (``glance.Image.to_primitive()``)
        has it downloaded from Glance instead of the image store. The agent
        must show it is alive every
        ``[conductor]agent_call_monitor_timeout`` seconds meanwhile, or the
        call raises MessagingTimeout early."""
        kwargs = {'deployable_name': deployable_name, 'image_id': image_id}
        version = '1.1'
        if glance_image is not None:
            kwargs['glance_image'] = glance_image
            version = '1.3'
        cctxt = self.client.prepare(
            server=hostname, timeout=timeout, version=version,
            call_monitor_timeout=self.conf.conductor.agent_call_monitor_timeout)
        return cctxt.call(context, 'program', **kwargs)

    def prepare_handle(self, context, hostname, deployable_name,
                       attach_type, attach_info):
        """Make the device an attach handle stands for (a vGPU: ``mdevctl
        start``) and wait; returns what the bound ARQ attaches, e.g. the
        mediated device's ``uuid``, ``asked_type`` and parent address.

        :raises DriverError: with the tool's message when it fails.
        """
        cctxt = self.client.prepare(server=hostname, version='1.2')
        return cctxt.call(context, 'prepare_handle',
                          deployable_name=deployable_name,
                          attach_type=attach_type, attach_info=attach_info)

    def release_handle(self, context, hostname, deployable_name,
                       attach_type, attach_info):
        """Undo ``prepare_handle`` (a vGPU: ``mdevctl stop``) and wait;
        a device already gone is no error.

        :raises DriverError: with the tool's message when it fails.
        """
        cctxt = self.client.prepare(server=hostname, version='1.2')
        cctxt.call(context, 'release_handle',
                   deployable_name=deployable_name, attach_type=attach_type,
                   attach_info=attach_info)

    def clean_deployable(self, context, hostname, deployable_name,
                         timeout=None):
        """Run the deployable's cleanup (an NVMe secure erase, a PCI
        reset) and wait; returns the action run, or None when none is
        configured. The agent shows it is alive meanwhile, as for
        ``program``.

        :raises DriverError: with the tool's message when it fails.
        """
        cctxt = self.client.prepare(
            server=hostname, timeout=timeout, version='1.2',
            call_monitor_timeout=self.conf.conductor.agent_call_monitor_timeout)
        return cctxt.call(context, 'clean_deployable',
                          deployable_name=deployable_name)
