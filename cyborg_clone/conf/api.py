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
               help='Number of cyborg-clone-api worker processes sharing '
                    'the socket. The all-in-one always serves from its one '
                    'process.'),
    cfg.IntOpt('threads', default=8, min=1,
               help='Threads per API process that run requests. One '
                    'computes at a time (the interpreter lock); another '
                    'joins only while those running wait on something '
                    'else (an RPC reply, Keystone, Glance, a lock), up to '
                    'this many. Requests beyond them wait their turn in '
                    'order; connections waiting for the client\'s next '
                    'request hold no thread.'),
    cfg.IntOpt('client_socket_timeout', default=60, min=1,
               help='Seconds a client connection may stay silent (an idle '
                    'keep-alive connection, or a request that stopped '
                    'arriving) before the API server closes it.'),
    cfg.IntOpt('max_request_body_size', default=1024 * 1024, min=1,
               help='Largest request body, in bytes, the API server takes. '
                    'A request announcing a larger one is refused with 413 '
                    'before its body is read (and without "100 Continue"); '
                    'a chunked body is refused as soon as it grows past the '
                    'limit. The API\'s documents are a few kilobytes.'),
    cfg.IntOpt('max_connections', default=4096, min=1,
               help='Client connections one API process holds open. At the '
                    'limit the connections idle the longest are closed to '
                    'make room, so idle clients cannot lock active ones '
                    'out. The process raises its open file limit to fit '
                    'them when it can.'),
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
