"""API throughput and bind latency of a real all-in-one process.

Starts ``cyborg-clone-all-in-one`` on a free loopback port with a throwaway
state directory, seeds 1,000 ARQs, then prints requests/s for the version
document, list device profiles, list ARQs (all 1,000) and get one ARQ, and
the median round trip of a Nova-style bind (PATCH, then poll until the
ARQ is resolved). Usage: ``python bench/api_bench.py [--seconds N]``.
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import pathlib
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

SERVICE = {'X-User-Id': 'nova', 'X-Project-Id': 'service',
           'X-Roles': 'admin', 'X-Service-Roles': 'service'}


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Client:
    """One keep-alive HTTP connection."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection('127.0.0.1', port, timeout=30)

    def call(self, method, path, body=None, headers=None):
        all_headers = dict(SERVICE, **(headers or {}))
        data = None
        if body is not None:
            data = json.dumps(body)
            all_headers['Content-Type'] = 'application/json'
        self.conn.request(method, path, body=data, headers=all_headers)
        response = self.conn.getresponse()
        payload = response.read()
        return response.status, (json.loads(payload) if payload else None)


def start_service(workdir, port):
    config = workdir / 'cyborg_clone.conf'
    config.write_text(
        '[DEFAULT]\nstate_path = %s\nhost = benchhost\n'
        '[api]\nhost_ip = 127.0.0.1\nport = %d\n'
        '[agent]\nreport_interval = 1\n' % (workdir, port))
    command = pathlib.Path(sys.executable).parent / 'cyborg-clone-all-in-one'
    process = subprocess.Popen(
        [str(command), '--config-file', str(config)],
        stdout=subprocess.DEVNULL, stderr=open(workdir / 'service.log', 'w'))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, body = Client(port).call('GET', '/v2/deployables')
            if status == 200 and body['deployables']:
                return process, body['deployables'][0]['rp_uuid']
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit('the service did not come up; see %s'
                     % (workdir / 'service.log'))


def machine_line():
    return 'date: %s  machine: %s, %d cores, Python %s' % (
        time.strftime('%Y-%m-%d'), platform.platform(), os.cpu_count(),
        platform.python_version())


def stop_service(process, workdir):
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    shutil.rmtree(workdir, ignore_errors=True)


def throughput(port, path, seconds, clients=4):
    """Requests/s of GET ``path`` from ``clients`` keep-alive clients."""
    def run():
        client, done = Client(port), 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            status, _ = client.call('GET', path)
            assert status == 200, (path, status)
            done += 1
        return done
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        started = time.monotonic()
        total = sum(pool.map(lambda _: run(), range(clients)))
    return total / (time.monotonic() - started)


def bind_round_trips(port, rp_uuid, count):
    client = Client(port)
    client.call('POST', '/v2/device_profiles',
                [{'name': 'bind-bench', 'groups': [{'resources:FPGA': '1'}]}])
    timings = []
    for _ in range(count):
        instance = str(uuid.uuid4())
        _, body = client.call('POST', '/v2/accelerator_requests',
                              {'device_profile_name': 'bind-bench'})
        arq = body['arqs'][0]['uuid']
        patch = {arq: [
            {'op': 'add', 'path': '/hostname', 'value': 'benchhost'},
            {'op': 'add', 'path': '/device_rp_uuid', 'value': rp_uuid},
            {'op': 'add', 'path': '/instance_uuid', 'value': instance}]}
        started = time.monotonic()
        status, _ = client.call('PATCH', '/v2/accelerator_requests', patch)
        assert status == 202, status
        path = ('/v2/accelerator_requests?instance=%s&bind_state=resolved'
                % instance)
        while client.call('GET', path)[0] != 200:
            time.sleep(0.001)
        timings.append(time.monotonic() - started)
        client.call('DELETE', '/v2/accelerator_requests?instance='
                    + instance)
    return statistics.median(timings)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seconds', type=float, default=5.0,
                        help='duration of each throughput run')
    parser.add_argument('--binds', type=int, default=50)
    args = parser.parse_args()
    workdir = pathlib.Path(tempfile.mkdtemp(prefix='cyborg-bench-'))
    port = free_port()
    process, rp_uuid = start_service(workdir, port)
    try:
        client = Client(port)
        client.call('POST', '/v2/device_profiles', [{
            'name': 'seed', 'groups': [{'resources:FPGA': '500'},
                                       {'resources:FPGA': '500'}]}])
        _, body = client.call('POST', '/v2/accelerator_requests',
                              {'device_profile_name': 'seed'})
        one_arq = body['arqs'][0]['uuid']
        print(machine_line())
        print('seeded ARQs: %d' % len(body['arqs']))
        for label, path in (
                ('GET / (version document)', '/'),
                ('GET /v2/device_profiles', '/v2/device_profiles'),
                ('GET /v2/accelerator_requests (1,000 ARQs)',
                 '/v2/accelerator_requests'),
                ('GET /v2/accelerator_requests/{uuid}',
                 '/v2/accelerator_requests/' + one_arq)):
            print('%-45s %8.1f req/s' % (
                label, throughput(port, path, args.seconds)))
        print('%-45s %8.1f ms' % (
            'median bind round trip (%d binds)' % args.binds,
            1000 * bind_round_trips(port, rp_uuid, args.binds)))
    finally:
        stop_service(process, workdir)


if __name__ == '__main__':
    main()
