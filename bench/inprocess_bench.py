"""In-process API speed: the WSGI app called in a loop, no HTTP server.

Builds the app with ``setup_app`` on a throwaway migrated SQLite database
(noauth), seeds four device profiles and 300 ARQs, then for each route
prints requests/s, the CPU time of one request (this thread's, so other
work on the machine barely moves it) and the median and p99 latency.
``ceiling`` is a trivial WSGI app returning the bytes of ``GET /v2``: the
cost of the loop itself. With ``--before TREE`` the same measurement also
runs on the code in TREE (e.g. ``git worktree add /tmp/wt-before HEAD``)
and both are printed side by side. With ``--profile ROUTE`` it prints a
cProfile (CPU time) of that route instead.

Usage: ``python bench/inprocess_bench.py [--seconds N] [--rounds N]
[--before TREE]``.
"""

import argparse
import cProfile
import io
import json
import os
import pathlib
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HEADERS = {'HTTP_X_USER_ID': 'nova', 'HTTP_X_PROJECT_ID': 'service',
           'HTTP_X_ROLES': 'admin', 'HTTP_X_SERVICE_ROLES': 'service',
           'HTTP_ACCEPT': 'application/json'}
ARQ_COUNT = 300


class NullConductor:
    def __getattr__(self, name):
        return lambda context, **kwargs: None


def build(workdir):
    """The app and the paths to measure, on a seeded database."""
    from oslo_config import cfg

    from cyborg_clone import conf as cc_conf
    from cyborg_clone.api import app as api_app
    from cyborg_clone.db import api as db_api
    from cyborg_clone.db import migration
    from cyborg_clone.objects import arq as arq_obj
    from cyborg_clone.objects import device_profile

    conf = cfg.ConfigOpts()
    cc_conf.register_opts(conf)
    conf([], project='cyborg_clone', default_config_files=[])
    conf.set_override('state_path', str(workdir))
    conf.set_override('auth_strategy', 'noauth', group='api')
    conf.set_override('host', 'benchhost')
    migration.upgrade(conf)
    db_api.configure(conf)
    for number in range(3):
        device_profile.DeviceProfile.create(
            name='profile-%d' % number,
            groups=[{'resources:FPGA': '1', 'trait:CUSTOM_FPGA': 'required'}],
            description='bench profile %d' % number)
    device_profile.DeviceProfile.create(
        name='seed', groups=[{'resources:FPGA': str(ARQ_COUNT // 2)},
                             {'resources:FPGA': str(ARQ_COUNT // 2)}])
    arqs = arq_obj.ARQ.create_from_profile('seed', 'service')
    app = api_app.setup_app(conf, conductor_api=NullConductor())
    paths = {
        'GET /': '/',
        'GET /v2': '/v2',
        'GET /v2/device_profiles': '/v2/device_profiles',
        'GET /v2/accelerator_requests/{uuid}':
            '/v2/accelerator_requests/' + arqs[0].uuid,
        'GET /v2/accelerator_requests (300)': '/v2/accelerator_requests',
    }
    return app, paths


def environ_for(path):
    environ = {
        'REQUEST_METHOD': 'GET', 'SCRIPT_NAME': '', 'PATH_INFO': path,
        'QUERY_STRING': '', 'SERVER_NAME': '127.0.0.1', 'SERVER_PORT': '80',
        'SERVER_PROTOCOL': 'HTTP/1.1', 'HTTP_HOST': '127.0.0.1',
        'wsgi.url_scheme': 'http', 'wsgi.version': (1, 0),
        'wsgi.input': io.BytesIO(b''), 'wsgi.errors': sys.stderr,
        'wsgi.multithread': True, 'wsgi.multiprocess': False,
        'wsgi.run_once': False}
    environ.update(HEADERS)
    return environ


def call(app, path):
    """One request; the status and body bytes."""
    answer = []

    def start_response(status, headers, exc_info=None):
        answer.append(status)
    chunks = app(environ_for(path), start_response)
    try:
        body = b''.join(chunks)
    finally:
        if hasattr(chunks, 'close'):
            chunks.close()
    return answer[0], body


def ceiling_app(body):
    headers = [('Content-Type', 'application/json'),
               ('Content-Length', str(len(body)))]

    def app(environ, start_response):
        start_response('200 OK', headers)
        return [body]
    return app


def measure(app, path, seconds):
    """[requests/s, CPU µs per request, median µs, p99 µs] of GET ``path``
    for ``seconds``. The CPU time is this thread's own, so it stays put
    when other work shares the cores; requests/s and the latencies are
    wall clock."""
    status, _ = call(app, path)
    assert status.startswith('200'), (path, status)
    for _ in range(20):
        call(app, path)  # warm caches
    timings = []
    clock = time.perf_counter
    cpu_clock = time.thread_time
    end = clock() + seconds
    started, cpu_started = clock(), cpu_clock()
    while True:
        before = clock()
        call(app, path)
        after = clock()
        timings.append(after - before)
        if after >= end:
            break
    cpu = (cpu_clock() - cpu_started) / len(timings)
    rate = len(timings) / (clock() - started)
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    return [rate, cpu * 1e6, statistics.median(timings) * 1e6, p99 * 1e6]


def run(seconds, only=None):
    """{label: [req/s, median µs, p99 µs]} measured in this process."""
    workdir = pathlib.Path(tempfile.mkdtemp(prefix='cyborg-inproc-'))
    try:
        app, paths = build(workdir)
        _, v2_body = call(app, '/v2')
        routes = {'ceiling (trivial app)': (ceiling_app(v2_body), '/v2')}
        routes.update((label, (app, path)) for label, path in paths.items())
        return {label: measure(target, path, seconds)
                for label, (target, path) in routes.items()
                if only is None or label in only}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def profile(route, seconds):
    workdir = pathlib.Path(tempfile.mkdtemp(prefix='cyborg-inproc-'))
    try:
        app, paths = build(workdir)
        path = paths[route]
        for _ in range(20):
            call(app, path)
        profiler = cProfile.Profile(time.thread_time)
        end = time.perf_counter() + seconds
        count = 0
        profiler.enable()
        while time.perf_counter() < end:
            call(app, path)
            count += 1
        profiler.disable()
        print('%d requests' % count)
        pstats.Stats(profiler).sort_stats('cumulative').print_stats(45)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_tree(tree, seconds):
    """run() on the code in ``tree``, in a child process."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    output = subprocess.run(
        [sys.executable, __file__, '--seconds', str(seconds), '--json'],
        env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def best(kept, new):
    """Per route, the figures of the round with the least CPU time."""
    if kept is None:
        return new
    return {label: min(kept[label], new[label], key=lambda f: f[1])
            for label in new}


def main():
    if 'PYTHONPATH' not in os.environ:
        # The code of the tree this script is in, not whichever tree the
        # virtualenv installed (run_tree() names the other tree this way).
        sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seconds', type=float, default=3.0,
                        help='duration of each route run')
    parser.add_argument('--before', metavar='TREE',
                        help='also measure the code in this source tree')
    parser.add_argument('--rounds', type=int, default=1,
                        help='measure this many times (alternating with '
                             '--before) and keep each route\'s round of '
                             'least CPU time per request')
    parser.add_argument('--json', action='store_true',
                        help='print the figures as one JSON line')
    parser.add_argument('--profile', metavar='ROUTE',
                        help='cProfile one route (a label, e.g. "GET /v2")')
    args = parser.parse_args()
    if args.profile:
        return profile(args.profile, args.seconds)
    import cyborg_clone
    if args.json:
        print(json.dumps(run(args.seconds)))
        return
    before = after = None
    for _ in range(args.rounds):
        if args.before:
            before = best(before, run_tree(args.before, args.seconds))
        after = best(after, run(args.seconds))
    print('code: %s' % pathlib.Path(cyborg_clone.__file__).parent.parent)
    if before is None:
        print('%-38s %9s %9s %9s %9s' % ('route', 'req/s', 'CPU µs',
                                         'median µs', 'p99 µs'))
        for label, figures in after.items():
            print('%-38s %9.0f %9.0f %9.0f %9.0f' % (label, *figures))
        return
    print('before: %s (each cell: before/now)' % args.before)
    print('%-36s %13s %13s %13s %15s %8s' % (
        'route', 'req/s', 'CPU µs', 'median µs', 'p99 µs', 'CPU x'))
    for label, figures in after.items():
        cells = ['%.0f/%.0f' % pair for pair in zip(before[label], figures,
                                                    strict=True)]
        print('%-36s %13s %13s %13s %15s %7.2fx' % (
            label, *cells, before[label][1] / figures[1]))

if __name__ == '__main__':
    main()
