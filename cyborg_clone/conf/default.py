"""[DEFAULT] options: data directory and host identity."""

import os
import socket

from oslo_config import cfg

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


def register_opts(conf):
    conf.register_opts(opts)


def list_opts():
    return [('DEFAULT', opts)]
