"""[database] options."""

from oslo_config import cfg

GROUP = 'database'

opts = [
    cfg.StrOpt('connection', secret=True,
               help='SQLAlchemy URL of the database, e.g. '
                    'postgresql+psycopg2://user:pass@host/cyborg. When '
                    'unset, an SQLite file in $state_path is used.'),
    cfg.BoolOpt('connection_debug', default=False,
                help='Log every SQL statement (very verbose).'),
    cfg.IntOpt('sqlite_busy_timeout', default=30000, min=0,
               help='Milliseconds an SQLite writer waits for a lock held '
                    'by another process before failing.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return [(GROUP, opts)]
