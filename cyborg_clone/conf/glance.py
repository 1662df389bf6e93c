"""[glance] options: where bitstreams that are no FPGA image of ours come
from.

These are keystoneauth1's standard session, auth and adapter options, as in
[placement]: ``auth_type = admin_token`` with ``endpoint`` and ``token``
reaches a Glance without Keystone, ``password`` goes through Keystone's
catalog. Glance is asked only when ``auth_type`` is set; without it every
image id must name an image of our image store. The endpoint is Glance's
root URL (the catalog's, without ``/v2``). Conductors look images up with
it and agents download them with it, so both need the section.
"""

from cyborg_clone.conf import service_client

GROUP = 'glance'

_DEFAULTS = {
    'service_type': 'image',
    'valid_interfaces': ['internal', 'public'],
    # keystoneauth1 waits forever by default. A lookup runs inside the
    # API's device profile create and the conductor's bind; during a
    # download this is the longest wait for the next bytes.
    'timeout': 30,
}


def register_opts(conf):
    service_client.register_opts(conf, GROUP, defaults=_DEFAULTS)


def list_opts():
    return service_client.list_opts(GROUP, defaults=_DEFAULTS)
