"""[image_store] options: where built and registered FPGA images live."""

from oslo_config import cfg

GROUP = 'image_store'

opts = [
    cfg.StrOpt('backend', default='file',
               choices=[('file', 'one file per image (plus its metadata) '
                                 'under file_root')],
               help='Image store implementation.'),
    cfg.StrOpt('file_root', default='$state_path/images',
               help='With the file backend: <file_root>/<image id> is the '
                    'image and <file_root>/<image id>.json its metadata.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return [(GROUP, opts)]
