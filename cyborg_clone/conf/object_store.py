"""[object_store] options: where tenants' buckets (DCP tarballs, build
logs, registered images) are read and written."""

from oslo_config import cfg

GROUP = 'object_store'

opts = [
    cfg.StrOpt('backend', default='file',
               choices=[('file', 'one directory per bucket under '
                                 'file_root'),
                        ('s3', 'any S3-protocol service (OBS, AWS S3, '
                               'Ceph RGW, MinIO) through boto3')],
               help='Object store implementation.'),
    cfg.StrOpt('file_root', default='$state_path/buckets',
               help='With the file backend: <file_root>/<bucket>/<object '
                    'key> holds each object.'),
    cfg.URIOpt('s3_endpoint_url',
               help='With the s3 backend: the service URL, e.g. '
                    'https://obs.example.com. Unset means AWS.'),
    cfg.StrOpt('s3_region', default='us-east-1',
               help='With the s3 backend: the region to sign for.'),
    cfg.StrOpt('s3_access_key', help='With the s3 backend: access key.'),
    cfg.StrOpt('s3_secret_key', secret=True,
               help='With the s3 backend: secret key.'),
    cfg.IntOpt('s3_max_attempts', default=4, min=1,
               help='With the s3 backend: the attempts botocore makes at '
                    'each request, the first included, in its "standard" '
                    'retry mode: a dropped or refused connection, a '
                    'throttling answer or a 5xx is retried with backoff.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return [(GROUP, opts)]
