"""[placement] options: the service account of the Placement sync.

These are keystoneauth1's standard session, auth and adapter options, so the
section is written the way every OpenStack service writes its [placement]
section. Placement is considered configured when ``auth_type`` is set;
without it the conductor leaves Placement alone.
"""

from cyborg_clone.conf import service_client

GROUP = 'placement'

_DEFAULTS = {
    'service_type': 'placement',
    'valid_interfaces': ['internal', 'public'],
    # keystoneauth1 waits forever by default, and the conductor updates
    # Placement inside the RPC call that enables or disables a device: a
    # hung Placement must not outlast the API's wait for that call.
    'timeout': 30,
}


def register_opts(conf):
    service_client.register_opts(conf, GROUP, defaults=_DEFAULTS)


def list_opts():
    return service_client.list_opts(GROUP, defaults=_DEFAULTS)
