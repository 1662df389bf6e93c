"""[xilinx] options: the XRT tools the ``xilinx`` driver runs."""

from oslo_config import cfg

GROUP = 'xilinx'

opts = [
    cfg.StrOpt('xbmgmt_path', default='/opt/xilinx/xrt/bin/xbmgmt',
               help='Path of XRT\'s xbmgmt, which programs a card through '
                    'its management function.'),
    cfg.StrOpt('xbutil_path', default='/opt/xilinx/xrt/bin/xbutil',
               help='Path of XRT\'s xbutil, which programs and examines a '
                    'card through its user function.'),
    cfg.IntOpt('program_timeout', default=300, min=1,
               help='Seconds one programming command may run before it is '
                    'killed and the load reported failed.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return [(GROUP, opts)]
