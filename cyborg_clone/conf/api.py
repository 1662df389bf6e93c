"""[api] options: how the REST API is served and authenticated."""

from oslo_config import cfg

GROUP = 'api'

opts = [
    cfg.HostAddressOpt('host_ip', default='127.0.0.1',
                       help='Address the API server listens on. The '
                            'default keeps a laptop install private; use '
                            '0.0.0.0 to serve other hosts.'),
    cfg.PortOpt('port', default=6666,
                help='TCP port the API server listens on.'),
    cfg.IntOpt('workers', default=1, min=1,
               help='Number of API worker processes sharing the socket.'),
    cfg.StrOpt('public_endpoint',
               help='Base URL clients reach the API at, e.g. '
                    'https://cloud.example.com/accelerator. Used in links. '
                    'When unset, links use the request\'s host URL and '
                    'script name.'),
    cfg.StrOpt('auth_strategy', default='keystone',
               choices=[('keystone', 'keystonemiddleware validates tokens'),
                        ('noauth', 'identity comes from X-User-Id, '
                                   'X-Project-Id, X-Roles and '
                                   'X-Service-Roles headers; a request '
                                   'with none of them is an administrator')],
               help='How API callers are authenticated.'),
    cfg.IntOpt('max_limit', default=1000, min=1,
               help='Largest number of items one list request returns.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return [(GROUP, opts)]
