"""[nova] options: the service account used to send Nova events.

These are keystoneauth1's standard session, auth and adapter options, so the
section is written the way every OpenStack service writes it. Nova is
considered configured when ``auth_type`` is set.
"""

from oslo_config import cfg

from cyborg_clone.conf import service_client

GROUP = 'nova'

_own_opts = [
    cfg.IntOpt('event_retries', default=3, min=0,
               help='How often a failed event delivery is retried.'),
    cfg.FloatOpt('event_retry_delay', default=1.0, min=0,
                 help='Seconds before the first retry of an event '
                      'delivery; each further retry waits twice as long.'),
]


_DEFAULTS = {'service_type': 'compute',
             'valid_interfaces': ['internal', 'public']}


def register_opts(conf):
    service_client.register_opts(conf, GROUP, _own_opts, _DEFAULTS)


def list_opts():
    return service_client.list_opts(GROUP, _own_opts, _DEFAULTS)
