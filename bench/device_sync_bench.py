"""Device sync figures: what one agent report costs the conductor.

Applies reports through ``device_sync.apply_report``, as the conductor's
RPC endpoint does, against a migrated SQLite file in a throwaway directory
(or the database of ``--database-url`` or ``$CYBORG_CLONE_BENCH_DB``, e.g.
``postgresql+psycopg2://...``; the bench's hosts get fresh names each run).

For a host of 8 cards, each a deployable with 4 attach handles and 3 traits
(the shape the ``intel_opae`` driver reports), it prints the median time and
the SQL statements of a first report, an unchanged one and a changed one
(one card reprogrammed, one removed, one added); then 100 hosts reporting at
once from as many threads as the conductor's RPC executor has (64 by
default), first and unchanged reports; then the changed report again once
the database holds ``--cloud`` hosts, which should cost the same. Usage:
``python bench/device_sync_bench.py [--runs N] [--threads N] [--cloud N]
[--database-url URL]``.
"""

import argparse
import concurrent.futures
import dataclasses
import math
import os
import pathlib
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from cyborg_clone.common import context  # noqa: E402
from cyborg_clone.conductor import device_sync  # noqa: E402
from cyborg_clone.db import api as db_api  # noqa: E402
from cyborg_clone.db import migration  # noqa: E402
from cyborg_clone.drivers import report  # noqa: E402
from tests.conftest import make_conf  # noqa: E402

CARDS = 8
HANDLES = 4
HOSTS = 100
CTX = context.get_admin_context()


def card(host, number, function='0' * 32):
    """One card as the intel_opae driver reports it."""
    bus = '%02x' % (0x3b + number)
    return report.Device(
        type='FPGA', vendor='0x8086', model='Intel PAC Arria 10 GX',
        driver_name='intel_opae',
        controlpath=report.ControlPath('PCI', {
            'domain': '0000', 'bus': bus, 'device': '00', 'function': '0'}),
        std_board_info={'device_id': '0x09c4', 'class': '0x120000',
                        'numa_node': number % 2},
        deployables=(report.Deployable(
            name='%s_0000:%s:00.0' % (host, bus),
            num_accelerators=HANDLES, resource_class='FPGA',
            traits=('CUSTOM_FPGA_INTEL', 'CUSTOM_FPGA_INTEL_PAC_ARRIA10',
                    'CUSTOM_FPGA_FUNCTION_ID_INTEL_' + function.upper()),
            attach_handles=tuple(
                report.AttachHandle('PCI', {
                    'domain': '0000', 'bus': bus, 'device': '00',
                    'function': str(f)})
                for f in range(1, HANDLES + 1))),))


def host_report(host):
    return report.to_primitive([card(host, n) for n in range(CARDS)])


def changed_report(host):
    """Card 0 runs another function, card 7 is gone, card 9 is new."""
    devices = [card(host, n) for n in range(CARDS)]
    [dep] = devices[0].deployables
    devices[0] = dataclasses.replace(devices[0], deployables=(
        dataclasses.replace(dep, bitstream_id='b' * 32, traits=dep.traits[:2]
                            + ('CUSTOM_FPGA_FUNCTION_ID_INTEL_' + 'B' * 32,)),
    ))
    return report.to_primitive(devices[:-1] + [card(host, 9)])


def measured(host, primitive):
    """(seconds, statements) of one apply."""
    with db_api.counting_statements() as statements:
        started = time.perf_counter()
        device_sync.apply_report(CTX, host, primitive)
        elapsed = time.perf_counter() - started
    return elapsed, statements.value


def one_host(prefix, runs):
    """Median seconds and most statements of each kind of report, each run
    on a host of its own."""
    rows = {}
    for kind in ('first', 'unchanged', 'changed'):
        times, counts = [], []
        for run in range(runs):
            host = '%s-%s-%d' % (prefix, kind, run)
            if kind != 'first':
                device_sync.apply_report(CTX, host, host_report(host))
            primitive = (changed_report(host) if kind == 'changed'
                         else host_report(host))
            elapsed, count = measured(host, primitive)
            times.append(elapsed)
            counts.append(count)
        rows[kind] = (statistics.median(times), max(counts))
    return rows


def p95(values):
    ordered = sorted(values)
    return ordered[math.ceil(len(ordered) * 0.95) - 1]


def many_hosts(prefix, threads):
    """Wall time, per-report median and p95, and statements of HOSTS
    reports sent at once, first reports then the same again."""
    hosts = ['%s-%03d' % (prefix, n) for n in range(HOSTS)]
    reports = {h: host_report(h) for h in hosts}
    figures = {}
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        for kind in ('first', 'unchanged'):
            started = time.perf_counter()
            results = list(pool.map(lambda h: measured(h, reports[h]),
                                    hosts))
            wall = time.perf_counter() - started
            times = [t for t, _ in results]
            figures[kind] = (wall, statistics.median(times), p95(times),
                             sum(c for _, c in results))
    return figures


def fill(prefix, hosts):
    for n in range(hosts):
        host = '%s-%05d' % (prefix, n)
        device_sync.apply_report(CTX, host, host_report(host))


def print_one_host(rows):
    for kind, (seconds, count) in rows.items():
        print('  %-10s %7.2f ms  %4d SQL statements'
              % (kind, seconds * 1000, count))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=20)
    # oslo.messaging's default executor_thread_pool_size.
    parser.add_argument('--threads', type=int, default=64)
    parser.add_argument('--cloud', type=int, default=1000)
    parser.add_argument('--database-url',
                        default=os.environ.get('CYBORG_CLONE_BENCH_DB'))
    args = parser.parse_args()
    prefix = 'bench-' + uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory() as workdir:
        conf = make_conf(workdir)
        if args.database_url:
            conf.set_override('connection', args.database_url,
                              group='database')
        migration.upgrade(conf)
        db_api.configure(conf)
        backend = db_api.database_url(conf).split('://')[0]
        print('%s, %d cores, Python %s, %s%s' % (
            platform.machine(), os.cpu_count(), platform.python_version(),
            backend, ' %s' % sqlite3.sqlite_version
            if backend.startswith('sqlite') else ''))
        print('one host, %d cards x %d handles (median of %d runs):'
              % (CARDS, HANDLES, args.runs))
        print_one_host(one_host(prefix, args.runs))
        print('%d hosts reporting at once, %d threads:'
              % (HOSTS, args.threads))
        for kind, (wall, median, slow, count) in many_hosts(
                prefix + '-many', args.threads).items():
            print('  %-10s wall %7.1f ms  per report median %6.2f ms, '
                  'p95 %6.2f ms  %5d SQL statements in all'
                  % (kind, wall * 1000, median * 1000, slow * 1000, count))
        if args.cloud:
            fill(prefix + '-cloud', args.cloud)
            print('one host again, %d more hosts in the database:'
                  % args.cloud)
            print_one_host(one_host(prefix + '-again', args.runs))
        db_api.reset()


if __name__ == '__main__':
    main()
