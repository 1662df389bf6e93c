"""[fpga_image] options: limits and tools of the FPGA image factory."""

from oslo_config import cfg

GROUP = 'fpga_image'

opts = [
    cfg.IntOpt('max_dcp_tarball_mb', default=2048, min=1,
               help='Largest DCP tarball accepted from the bucket, in MiB; '
                    'larger ones fail with INPUT_SIZE_ILLEGAL.'),
    cfg.IntOpt('max_extracted_mb', default=4096, min=1,
               help='Largest total size of the tarball\'s members, in '
                    'MiB.'),
    cfg.IntOpt('max_members', default=64, min=2,
               help='Most members a DCP tarball may hold.'),
    cfg.StrOpt('toolchain_command',
               help='Command that turns the checked design into the '
                    'loadable image, run without a shell after '
                    'substituting {dcp}, {manifest}, {output} and '
                    '{workdir}; it must write {output}. Write a literal '
                    '"$" as "$$" (oslo.config substitutes $name). Unset: the '
                    'built-in step packages the checked design with its '
                    'metadata, so the pipeline runs on any machine.'),
    cfg.IntOpt('toolchain_timeout', default=7200, min=1,
               help='Seconds the toolchain step may run.'),
    cfg.IntOpt('build_deadline', default=10800, min=60,
               help='Seconds after which a build that has not finished '
                    '(for example its conductor died) is failed with '
                    'BUILD_INTERRUPTED.'),
    cfg.StrOpt('work_dir', default='$state_path/builds',
               help='Where builds unpack and work; each build gets its own '
                    'directory, removed when it ends.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return [(GROUP, opts)]
