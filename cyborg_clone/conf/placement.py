"""[placement] options: the service account that reports accelerators.

These are keystoneauth1's standard session, auth and adapter options, so the
section is written the way every OpenStack service writes its [placement]
section. Placement is considered configured when ``auth_type`` is set;
without it the conductor reports nothing to Placement.
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

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
    ks_loading.register_session_conf_options(conf, GROUP)
    ks_loading.register_auth_conf_options(conf, GROUP)
    ks_loading.register_adapter_conf_options(conf, GROUP)
    for name, value in _DEFAULTS.items():
        conf.set_default(name, value, group=GROUP)


def list_opts():
    opts = ks_loading.get_session_conf_options()
    opts += ks_loading.get_auth_common_conf_options()
    opts += ks_loading.get_auth_plugin_conf_options('password')
    opts += ks_loading.get_adapter_conf_options(include_deprecated=False)
    # The auth plugin's options repeat some of the common ones.
    unique = {}
    for opt in opts:
        unique.setdefault(opt.dest, opt)
    opts = list(unique.values())
    # keystoneauth1 builds new option objects on every call, so the sample
    # can show our defaults without touching the registered options.
    cfg.set_defaults(opts, **_DEFAULTS)
    return [(GROUP, opts)]
