"""Client side of the conductor's RPC API, used by the API and agents."""

from cyborg_clone.common import rpc

# 1.0: bind_arqs, report_data, program_deployable.
RPC_API_VERSION = '1.0'


class ConductorAPI:
    def __init__(self, conf):
        self.conf = conf
        self._client = None

    @property
    def client(self):
        # Created lazily so building the API app needs no transport.
        if self._client is None:
            self._client = rpc.get_client(self.conf, self.conf.conductor.topic)
        return self._client

    def bind_arqs(self, context, arq_uuids):
        """Finish binding ARQs the API moved to BindStarted (async)."""
        self.client.prepare().cast(context, 'bind_arqs', arq_uuids=arq_uuids)

    def report_data(self, context, hostname, report):
        """Apply an agent's discovery report (async)."""
        self.client.prepare().cast(context, 'report_data',
                                   hostname=hostname, report=report)

    def program_deployable(self, context, deployable_uuid, image_id,
                           timeout=None):
        """Program a deployable and wait for the result."""
        cctxt = self.client.prepare(timeout=timeout)
        return cctxt.call(context, 'program_deployable',
                          deployable_uuid=deployable_uuid, image_id=image_id)
