"""[conductor] options."""

from oslo_config import cfg

GROUP = 'conductor'

opts = [
    cfg.StrOpt('topic', default='cyborg-clone-conductor',
               help='RPC topic conductors listen on.'),
    cfg.IntOpt('bind_timeout', default=600, min=1,
               help='Seconds an ARQ may stay in BindStarted before a '
                    'conductor fails it (for example after a conductor '
                    'died mid-bind). Keep it above program_timeout: a '
                    'bind may wait for its device to be programmed.'),
    cfg.IntOpt('periodic_interval', default=60, min=1,
               help='Seconds between the conductor\'s housekeeping runs '
                    '(stuck binds).'),
    cfg.IntOpt('program_timeout', default=300, min=1,
               help='Seconds a conductor waits for an agent to program a '
                    'deployable (vendor tools can take minutes).'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return [(GROUP, opts)]
