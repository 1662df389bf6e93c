"""[agent] options: discovery and reporting on a compute host."""

from oslo_config import cfg

GROUP = 'agent'

opts = [
    cfg.StrOpt('topic', default='cyborg-clone-agent',
               help='RPC topic agents listen on (server = host name).'),
    cfg.ListOpt('enabled_drivers', default=['fake'],
                help='Accelerator drivers this agent runs, by name.'),
    cfg.IntOpt('report_interval', default=60, min=1,
               help='Seconds between two discovery reports to the '
                    'conductor.'),
    cfg.StrOpt('sysfs_root', default='/',
               help='Root the drivers read sysfs below (tests point it at '
                    'a fixture tree).'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return [(GROUP, opts)]
