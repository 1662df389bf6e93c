"""Client side of the conductor's RPC API, used by the API and agents."""

from cyborg_clone.common import rpc

# 1.0: bind_arqs, report_data, program_deployable, build_fpga_image,
#      save_fpga_image, delete_fpga_image.
# 1.1: set_device_status.
# 1.2: report_data takes failed_drivers (conductors upgrade before agents,
#      and an agent sends 1.2 only when a driver failed).
# 1.3: release_arqs (undo unbound or deleted ARQs on their hosts).
RPC_API_VERSION = '1.3'

# Time a caller of program_deployable allows the conductor beyond the
# agent's own deadline ([conductor]program_timeout), for the database work
# on either side of the agent's call.
_PROGRAM_BOOKKEEPING_SECONDS = 30


def program_timeout(conf):
    """How long program_deployable waits for the conductor's answer."""
    return conf.conductor.program_timeout + _PROGRAM_BOOKKEEPING_SECONDS


class ConductorAPI(rpc.ClientAPI):
    def __init__(self, conf):
        super().__init__(conf, conf.conductor.topic)

    def bind_arqs(self, context, arq_uuids):
        """Finish binding ARQs the API moved to BindStarted (async)."""
        self.client.prepare().cast(context, 'bind_arqs', arq_uuids=arq_uuids)

    def release_arqs(self, context, released):
        """Undo on their hosts what unbound or deleted ARQs held (a vGPU's
        mediated device) and clean their devices (async).

        :param released: ``arq.Released.to_primitive()`` of each.
        """
        self.client.prepare(version='1.3').cast(context, 'release_arqs',
                                                released=released)

    def report_data(self, context, hostname, report, failed_drivers=None):
        """Apply an agent's discovery report (async).

        :param failed_drivers: ``{driver name: why its discovery failed}``;
            the conductor keeps those drivers' rows as they are.
        """
        if not failed_drivers:
            self.client.prepare().cast(context, 'report_data',
                                       hostname=hostname, report=report)
            return
        self.client.prepare(version='1.2').cast(
            context, 'report_data', hostname=hostname, report=report,
            failed_drivers=failed_drivers)

    def set_device_status(self, context, device_uuid, status):
        """Enable or disable a device and wait until Placement was told.

        :raises DeviceNotFound: for an unknown device.
        """
        cctxt = self.client.prepare(version='1.1')
        cctxt.call(context, 'set_device_status', device_uuid=device_uuid,
                   status=status)

    def program_deployable(self, context, deployable_uuid, image_id):
        """Program a deployable and wait for the result, at most
        program_timeout() seconds.

        :raises MessagingTimeout: when no conductor answered by then.
        """
        cctxt = self.client.prepare(timeout=program_timeout(self.conf))
        return cctxt.call(context, 'program_deployable',
                          deployable_uuid=deployable_uuid, image_id=image_id)

    def build_fpga_image(self, context, image_id):
        """Build an FPGA image from its DCP tarball (async)."""
        self.client.prepare().cast(context, 'build_fpga_image',
                                   image_id=image_id)

    def save_fpga_image(self, context, image_id):
        """Copy a registered image file into the image store (async)."""
        self.client.prepare().cast(context, 'save_fpga_image',
                                   image_id=image_id)

    def delete_fpga_image(self, context, image_id):
        """Remove a deleting FPGA image from the image store, then its
        record (async)."""
        self.client.prepare().cast(context, 'delete_fpga_image',
                                   image_id=image_id)
