"""[huawei_vu9p] options: the FpgaCmdEntry tool of Huawei FP1 VU9P
shells, run by the ``huawei_vu9p`` driver."""

from oslo_config import cfg

GROUP = 'huawei_vu9p'

opts = [
    cfg.StrOpt('fpga_cmd_entry_path', default='/usr/local/bin/FpgaCmdEntry',
               help='Path of FpgaCmdEntry, which lists the shells (DF), '
                    'loads an image by id (LF) and reports a slot (IF).'),
    cfg.IntOpt('load_timeout', default=120, min=1,
               help='Seconds to wait for a load to report SUCCESS before '
                    'it is reported failed.'),
    cfg.FloatOpt('poll_interval', default=1.0, min=0.01,
                 help='Seconds between two status queries (IF) while an '
                      'image loads.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return [(GROUP, opts)]
