"""One nova cycle, timed: what booting a server with an accelerator and
deleting it again costs on our side, through real services.

Starts what tests/functional/test_nova_path.py starts (a real Keystone and
Placement from ``.venv-cloud``, a recording Nova, a RabbitMQ broker, and
our API, conductor and three agents as separate processes), then runs
``--cycles`` cycles of the requests nova makes, with a member's token and
nova's service token as nova sends them:

1. ``GET /allocation_candidates`` (nova's scheduler, to Placement),
2. ``POST /v2/accelerator_requests`` (nova-conductor),
3. ``PATCH /v2/accelerator_requests`` (the bind; answered 202),
4. until the ``accelerator-request-bound`` event reaches Nova,
5. ``GET /v2/accelerator_requests?instance=`` (nova-compute),
6. ``DELETE /v2/accelerator_requests?instance=`` (server deleted),

and prints the median and 95th percentile of each step and of the whole
cycle. The first cycle also pays for keystonemiddleware validating fresh
tokens and is reported apart. Usage: ``python bench/nova_cycle_bench.py
[--cycles N]`` (needs tools/install-cloud-venv and RabbitMQ, like the
functional tests).
"""

import argparse
import contextlib
import json
import math
import pathlib
import platform
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from tests.fixtures import keystone as keystone_fixture  # noqa: E402
from tests.fixtures import placement as placement_fixture  # noqa: E402
from tests.fixtures import rabbitmq  # noqa: E402
from tests.functional import nova_path  # noqa: E402
from tests.functional import test_nova_path  # noqa: E402

STEPS = ('allocation candidates', 'create ARQ', 'bind (PATCH)',
         'until the bound event', 'get resolved ARQs', 'delete by instance')


def request(url, method, path, headers, body=None):
    data = None if body is None else json.dumps(body).encode()
    sent = urllib.request.Request(
        url + path, data=data, method=method,
        headers=dict({'Content-Type': 'application/json'}, **headers))
    try:
        with urllib.request.urlopen(sent, timeout=60) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    return status, json.loads(raw) if raw else None


def one_cycle(cloud, headers, query):
    """Each step's seconds, for one new instance."""
    instance = str(uuid.uuid4())
    took = []

    def step(call):
        started = time.perf_counter()
        result = call()
        took.append(time.perf_counter() - started)
        return result

    candidates = step(lambda: cloud.placement.get(
        '/allocation_candidates?' + query))
    [[rp_uuid]] = [list(r['allocations'])
                   for r in candidates['allocation_requests']]
    # The scheduler knows its hosts' providers; no request of its own.
    host = 'compute-1'
    status, answer = step(lambda: request(
        cloud.url, 'POST', '/v2/accelerator_requests', headers,
        {'device_profile_name': test_nova_path.PROFILE['name']}))
    assert status == 201, answer
    [arq] = answer['arqs']
    status, answer = step(lambda: request(
        cloud.url, 'PATCH', '/v2/accelerator_requests', headers,
        {arq['uuid']: [
            {'op': 'add', 'path': '/hostname', 'value': host},
            {'op': 'add', 'path': '/device_rp_uuid', 'value': rp_uuid},
            {'op': 'add', 'path': '/instance_uuid', 'value': instance}]}))
    assert status == 202, answer

    def event():
        while not nova_path.events_for(cloud.nova, instance):
            time.sleep(0.001)

    step(event)
    status, answer = step(lambda: request(
        cloud.url, 'GET', '/v2/accelerator_requests?instance=' + instance,
        headers))
    assert status == 200 and answer['arqs'][0]['state'] == 'Bound', answer
    status, answer = step(lambda: request(
        cloud.url, 'DELETE', '/v2/accelerator_requests?instance=' + instance,
        headers))
    assert status == 204, answer
    return took


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1,
                       math.ceil(fraction * len(ordered)) - 1)]


def report(first, cycles):
    print('first cycle (fresh tokens): %.1f ms' % (sum(first) * 1000))
    print('%-24s %10s %10s' % ('step', 'median ms', 'p95 ms'))
    columns = list(zip(*cycles, strict=True))
    for name, values in zip(STEPS, columns, strict=True):
        print('%-24s %10.1f %10.1f' % (
            name, statistics.median(values) * 1000,
            percentile(values, 0.95) * 1000))
    totals = [sum(cycle) for cycle in cycles]
    print('%-24s %10.1f %10.1f' % ('whole cycle',
                                   statistics.median(totals) * 1000,
                                   percentile(totals, 0.95) * 1000))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--cycles', type=int, default=30)
    args = parser.parse_args()
    print('python %s on %s, %d cycles' % (platform.python_version(),
                                          platform.machine(), args.cycles))
    with contextlib.ExitStack() as stack:
        directory = pathlib.Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix='nova-cycle-bench-')))
        for sub in ('keystone', 'placement', 'rabbitmq', 'cloud'):
            (directory / sub).mkdir()
        broker = stack.enter_context(rabbitmq.rabbitmq(directory /
                                                       'rabbitmq'))
        keystone = keystone_fixture.Keystone(directory / 'keystone')
        stack.callback(keystone.stop)
        keystone.start()
        placement = stack.enter_context(
            placement_fixture.server(directory / 'placement'))
        cloud = stack.enter_context(nova_path.running_cloud(
            directory / 'cloud', broker.url, keystone, placement))
        test_nova_path.providers_reported(cloud)
        cloud.api.ok('POST', '/v2/device_profiles',
                     [test_nova_path.PROFILE], status=201)
        headers = {'X-Auth-Token': keystone.token('member'),
                   'X-Service-Token': keystone.token('nova')}
        query = 'resources=FPGA:1&required=' + test_nova_path.ARRIA10_REGION
        first = one_cycle(cloud, headers, query)
        report(first, [one_cycle(cloud, headers, query)
                       for _ in range(args.cycles)])


if __name__ == '__main__':
    main()
