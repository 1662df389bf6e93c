"""The keystoneauth1 option groups of the services we call ([nova],
[placement]): standard session, auth and adapter options, so each section
is written the way every OpenStack service writes it."""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg


def register_opts(conf, group, own_opts=(), defaults=None):
    conf.register_opts(list(own_opts), group=group)
    ks_loading.register_session_conf_options(conf, group)
    ks_loading.register_auth_conf_options(conf, group)
    ks_loading.register_adapter_conf_options(conf, group)
    for name, value in (defaults or {}).items():
        conf.set_default(name, value, group=group)


def list_opts(group, own_opts=(), defaults=None):
    opts = list(own_opts)
    opts += ks_loading.get_session_conf_options()
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
    cfg.set_defaults(opts, **(defaults or {}))
    return [(group, opts)]
