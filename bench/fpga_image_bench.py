"""FPGA image factory figures from a real all-in-one process.

Starts ``cyborg-clone-all-in-one`` on a free loopback port with a throwaway
state directory, puts a 50 MB DCP tarball in a file-backed bucket, and
prints the time from ``POST .../fpga_image`` to ``active`` (polling every
20 ms); then seeds 1,000 images and prints requests/s of the detail list
(one 100-item page, and all 1,000). Usage:
``python bench/fpga_image_bench.py [--seconds N] [--dcp-mb N]``.
"""

import argparse
import os
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from bench import api_bench  # noqa: E402
from tests.fixtures import dcp  # noqa: E402

PROJECT = 'admin'  # the project of a noauth request without headers
IMAGES = '/v1/%s/cloudservers/fpga_image' % PROJECT


def build_time(client, dcp_key):
    started = time.monotonic()
    status, body = client.call(
        'POST', '/v2/%s/cloudservers/fpga_image' % PROJECT,
        {'fpga_image': {'dcp_location': 'obs-fpga:' + dcp_key,
                        'name': 'bench'}})
    assert status == 200, body
    image_id = body['fpga_image']['id']
    while True:
        _, listed = client.call('GET', IMAGES + '/detail?fpga_image_id='
                                + image_id)
        item = listed['fpgaimages'][0]
        if item['status'] in ('active', 'error'):
            assert item['status'] == 'active', item['message']
            return time.monotonic() - started
        time.sleep(0.02)


def seed_images(workdir, count):
    """Register ``count`` active images straight into the service's
    database (the API under test only reads them)."""
    from cyborg_clone.db import api as db_api
    from cyborg_clone.objects import fpga_image
    from tests.conftest import make_conf
    db_api.configure(make_conf(workdir))
    for i in range(count):
        image = fpga_image.FpgaImage.register(PROJECT, 'seed%d' % i, '', {},
                                              'obs-fpga', 'x/seed.bin')
        fpga_image.FpgaImage.transition(image.image_id, 'activate',
                                        size_bytes=1 << 20)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seconds', type=float, default=5.0)
    parser.add_argument('--dcp-mb', type=int, default=50)
    args = parser.parse_args()
    workdir = pathlib.Path(tempfile.mkdtemp(prefix='cyborg-fpga-bench-'))
    bucket = workdir / 'buckets' / 'obs-fpga' / 'vu9p'
    bucket.mkdir(parents=True)
    dcp_bytes = os.urandom(args.dcp_mb * 1024 * 1024)
    dcp.make_dcp_tarball(str(bucket / 'big.tar'), dcp_bytes=dcp_bytes)
    port = api_bench.free_port()
    process, _ = api_bench.start_service(workdir, port)
    try:
        client = api_bench.Client(port)
        print(api_bench.machine_line())
        seconds = build_time(client, 'vu9p/big.tar')
        print('%-45s %8.2f s' % ('create -> active, %d MB DCP' % args.dcp_mb,
                                 seconds))
        seed_images(workdir, 1000)
        for label, path in (
                ('GET .../detail?page=1&size=100', '/detail?page=1&size=100'),
                ('GET .../detail (all 1,000)', '/detail')):
            print('%-45s %8.1f req/s' % (label, api_bench.throughput(
                port, IMAGES + path, args.seconds)))
    finally:
        api_bench.stop_service(process, workdir)


if __name__ == '__main__':
    main()
