"""The keystoneauth1 option groups of the services we call ([nova],
[placement]): standard session, auth and adapter options, so each section
is written the way every OpenStack service writes it."""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

# Defaults of every such group, before the group's own.
COMMON_DEFAULTS = {
    # keystoneauth1 retries no connection error by default. A server that
    # closes a keep-alive connection after its answer without saying so
    # (Placement under uWSGI's http-socket, proxies with short idle
    # timeouts) breaks the next request sent on that pooled connection,
    # which the server never read: keystoneauth1 resends it, whatever its
    # method, on a new connection. The same count applies to the requests
    # made to Keystone for the group's token (those with keystoneauth1's
    # backoff: 0.5 s, doubling).
    'connect_retries': 3,
    # Unset, the first resend waits 0.5 s, and behind uWSGI's http-socket
    # about one request in six needs one. A longer outage is not waited
    # out here: a Placement sync retries at the host's next report, and
    # Nova events have their own backoff ([nova]event_retries).
    'connect_retry_delay': 0.1,
}


def _defaults(defaults):
    return dict(COMMON_DEFAULTS, **(defaults or {}))


def register_opts(conf, group, own_opts=(), defaults=None):
    conf.register_opts(list(own_opts), group=group)
    ks_loading.register_session_conf_options(conf, group)
    ks_loading.register_auth_conf_options(conf, group)
    ks_loading.register_adapter_conf_options(conf, group)
    for name, value in _defaults(defaults).items():
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
    cfg.set_defaults(opts, **_defaults(defaults))
    return [(group, opts)]
