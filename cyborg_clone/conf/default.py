"""[DEFAULT] options: data directory and host identity."""

import importlib
import os
import socket

from oslo_config import cfg
from oslo_messaging import opts as messaging_opts

_DEFAULT_STATE_PATH = os.path.join(
    os.path.expanduser('~'), '.local', 'share', 'cyborg_clone')

opts = [
    cfg.StrOpt('state_path',
               default=_DEFAULT_STATE_PATH,
               sample_default='$HOME/.local/share/cyborg_clone',
               help='Directory holding the service\'s local data: the '
                    'embedded SQLite database and (later) buckets and '
                    'images of the file backends.'),
    cfg.StrOpt('host',
               default=socket.gethostname(),
               sample_default='<hostname>',
               help='Name of this host. An agent reports its devices under '
                    'this name and listens on RPC with it as server name; '
                    'it must match the compute host name Nova uses.'),
]


# (module, group): option lists oslo.messaging reads from the transport's
# config but registers on cfg.CONF only.
_GLOBAL_ONLY_MESSAGING_GROUPS = (
    ('oslo_messaging._tracing.client', 'oslo_messaging_tracing'),
    ('oslo_messaging._metrics.client', 'oslo_messaging_metrics'),
)


def _register_messaging_opts(conf):
    # oslo.messaging registers transport_url lazily on first use (commands
    # and tests set it before that) and some groups (tracing) only on the
    # global cfg.CONF, which the service does not use; so register all of
    # its published groups on our own ConfigOpts.
    for group, group_opts in messaging_opts.list_opts():
        conf.register_opts(group_opts, group=group)
    for module_name, group in _GLOBAL_ONLY_MESSAGING_GROUPS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # a release without that feature
            continue
        conf.register_opts(getattr(module, group), group=group)


def register_opts(conf):
    conf.register_opts(opts)
    _register_messaging_opts(conf)


def list_opts():
    return [('DEFAULT', opts)]
