"""[nova] options: the service account used to send Nova events.

These are keystoneauth1's standard session, auth and adapter options, so the
section is written the way every OpenStack service writes it. Nova is
considered configured when ``auth_type`` is set.
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

GROUP = 'nova'

_own_opts = [
    cfg.IntOpt('event_retries', default=3, min=0,
               help='How often a failed event delivery is retried.'),
    cfg.FloatOpt('event_retry_delay', default=1.0, min=0,
                 help='Seconds before the first retry of an event '
                      'delivery; each further retry waits twice as long.'),
]


def register_opts(conf):
    conf.register_opts(_own_opts, group=GROUP)
    ks_loading.register_session_conf_options(conf, GROUP)
    ks_loading.register_auth_conf_options(conf, GROUP)
    ks_loading.register_adapter_conf_options(conf, GROUP)
    conf.set_default('service_type', 'compute', group=GROUP)
    conf.set_default('valid_interfaces', ['internal', 'public'], group=GROUP)


def list_opts():
    opts = list(_own_opts)
    opts += ks_loading.get_session_conf_options()
    opts += ks_loading.get_auth_common_conf_options()
    opts += ks_loading.get_auth_plugin_conf_options('password')
    opts += ks_loading.get_adapter_conf_options(include_deprecated=False)
    return [(GROUP, _dedupe(opts))]


def _dedupe(opts):
    seen = {}
    for opt in opts:
        seen.setdefault(opt.dest, opt)
    return list(seen.values())
