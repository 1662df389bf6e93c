"""[intel_opae] options: the OPAE tools the ``intel_opae`` driver runs."""

from oslo_config import cfg

GROUP = 'intel_opae'

opts = [
    cfg.StrOpt('fpgaconf_path', default='/usr/bin/fpgaconf',
               help='Path of OPAE\'s fpgaconf, which loads a green '
                    'bitstream (.gbs) into a card\'s partial '
                    'reconfiguration region.'),
    cfg.IntOpt('program_timeout', default=300, min=1,
               help='Seconds one fpgaconf run may take before it is killed '
                    'and the load reported failed.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return [(GROUP, opts)]
