"""HTTP serving figures: wrk against the all-in-one and against its ceiling.

Starts ``cyborg-clone-all-in-one`` on a free loopback port, seeds a device
profile and 300 ARQs through the API, records what each measured route
answers, and starts the ceiling: a trivial WSGI app answering those same
bytes, served by the same server code under the same [api] settings (same
config file). Then, for each route and for 8 and 64 keep-alive
connections, runs wrk (Debian package ``wrk``) against both and prints
median, p99, requests/s and errors side by side (of the run with the
median throughput of three). Two probes follow, on the
all-in-one alone:

* idle: 2,000 connections opened and left idle (half after one request),
  then a normal client's latency for GET /v2 on a fresh connection, and
  how many idle connections are still open;
* bodies: 100 POSTs of a 64 MiB body, sent whole without
  ``Expect: 100-continue`` like a naive client, with the all-in-one's peak
  resident memory (VmHWM) and the statuses received.

Usage: ``python bench/http_server_bench.py [--seconds N]``; ``--source
DIR`` runs the all-in-one of another checkout (e.g. a ``git worktree`` of
an older commit, importable from this virtualenv) with ``--no-ceiling``.
"""

import argparse
import collections
import http.client
import json
import os
import pathlib
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROUTES = ('/v2', '/v2/device_profiles', 'one ARQ', '300 ARQs')
CONNECTIONS = (8, 64)
IDLE_CONNECTIONS = 2000
# Seconds the normal client of the idle probe waits for each answer.
IDLE_CLIENT_TIMEOUT = 30
BODY_SIZE = 64 * 1024 * 1024
# Headers the ceiling does not replay: its server writes its own.
_SERVER_HEADERS = {'date', 'content-length', 'connection', 'server'}


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def call(port, method, path, body=None):
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
    try:
        headers = {}
        if body is not None:
            body = json.dumps(body)
            headers['Content-Type'] = 'application/json'
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def wait_for(port, path, process, log):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if call(port, 'GET', path)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit('the server did not come up; see %s' % log)


def start(argv, workdir, name, port, path, env=None):
    log = workdir / (name + '.log')
    # Not from the checkout: ``python -c`` imports from its directory first.
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                               stderr=open(log, 'w'), env=env, cwd=workdir)
    wait_for(port, path, process, log)
    return process


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def write_config(workdir, port):
    config = workdir / 'cyborg_clone.conf'
    config.write_text('[DEFAULT]\nstate_path = %s\nhost = benchhost\n'
                      '[api]\nhost_ip = 127.0.0.1\nport = %d\n'
                      % (workdir, port))
    return config


def seed(port):
    """The measured paths, by route name, after seeding 300 ARQs."""
    status, _, _ = call(port, 'POST', '/v2/device_profiles', [{
        'name': 'bench', 'groups': [{'resources:FPGA': '300'}]}])
    assert status == 201, status
    status, _, body = call(port, 'POST', '/v2/accelerator_requests',
                           {'device_profile_name': 'bench'})
    assert status == 201, status
    arqs = json.loads(body)['arqs']
    assert len(arqs) == 300, len(arqs)
    return {'/v2': '/v2', '/v2/device_profiles': '/v2/device_profiles',
            'one ARQ': '/v2/accelerator_requests/' + arqs[0]['uuid'],
            '300 ARQs': '/v2/accelerator_requests'}


def record(port, paths):
    """{path: (status line, headers, body)} as the all-in-one answers."""
    answers = {}
    for path in paths.values():
        status, headers, body = call(port, 'GET', path)
        answers[path] = ('%d %s' % (status, http.client.responses[status]),
                         [(name, value) for name, value in headers
                          if name.lower() not in _SERVER_HEADERS],
                         body.decode('latin-1'))
    return answers


def serve_ceiling(config, answers_file):
    """The ceiling server (run in its own process): the recorded answers,
    served like the all-in-one's API."""
    from cyborg_clone.cmd import api
    from cyborg_clone.common import service
    from cyborg_clone.common import startup
    from cyborg_clone.common import wsgi_server

    answers = json.loads(pathlib.Path(answers_file).read_text())
    canned = {path: (status, headers + [('Content-Length', str(len(body)))],
                     body.encode('latin-1'))
              for path, (status, headers, body) in answers.items()}

    def app(environ, start_response):
        path = environ['PATH_INFO']
        if environ.get('QUERY_STRING'):
            path += '?' + environ['QUERY_STRING']
        status, headers, body = canned[path]
        start_response(status, headers)
        return [body]

    conf = startup.load_config(['--config-file', config], 'ceiling')
    sock = wsgi_server.listen(conf.api.host_ip, conf.api.port)
    return service.Launcher([wsgi_server.Server(
        app, sock, api.server_settings(conf))]).run()


_UNITS = {'us': 0.001, 'ms': 1.0, 's': 1000.0}


def _ms(text):
    number, unit = re.fullmatch(r'([\d.]+|nan)(us|ms|s)', text).groups()
    return float(number) * _UNITS[unit]


def wrk(port, path, connections, seconds):
    """(median ms, p99 ms, requests/s, errors) of one wrk run."""
    result = subprocess.run(
        ['wrk', '-t2', '-c%d' % connections, '-d%ds' % seconds, '--latency',
         'http://127.0.0.1:%d%s' % (port, path)],
        capture_output=True, text=True, check=True)
    out = result.stdout
    percentiles = dict(re.findall(r'^\s+(50|99)%\s+(\S+)\s*$', out,
                                  re.M))
    if set(percentiles) != {'50', '99'}:
        # wrk leaves the distribution out when no request was answered.
        print(out, file=sys.stderr)
        percentiles = {'50': 'nans', '99': 'nans'}
    errors = sum(int(n) for n in re.findall(
        r'(?:connect|read|write|timeout) (\d+)', out))
    errors += sum(int(n) for n in re.findall(
        r'Non-2xx or 3xx responses: (\d+)', out))
    rate = float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1))
    return _ms(percentiles['50']), _ms(percentiles['99']), rate, errors


def wrk_median_run(port, path, connections, seconds, repeat):
    """The run of ``repeat`` with the median throughput: the machine may
    be shared, and a burst of other work should not pick the figures."""
    runs = sorted((wrk(port, path, connections, seconds)
                   for _ in range(repeat)), key=lambda run: run[2])
    return runs[len(runs) // 2]


def idle_probe(port):
    """Latency of a normal client with IDLE_CONNECTIONS idle ones open."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE,
                       (min(hard, max(soft, IDLE_CONNECTIONS + 256)), hard))
    idle = []
    try:
        for number in range(IDLE_CONNECTIONS):
            try:
                sock = socket.create_connection(('127.0.0.1', port),
                                                timeout=IDLE_CLIENT_TIMEOUT)
            except OSError:
                return 'only %d connections could be opened' % number
            if number % 2:
                sock.sendall(b'GET /v2 HTTP/1.1\r\nHost: bench\r\n\r\n')
            idle.append(sock)
        time.sleep(1)
        timings = []
        connection = http.client.HTTPConnection('127.0.0.1', port,
                                                timeout=IDLE_CLIENT_TIMEOUT)
        try:
            for _ in range(200):
                started = time.monotonic()
                connection.request('GET', '/v2')
                response = connection.getresponse()
                response.read()
                timings.append(1000 * (time.monotonic() - started))
                assert response.status == 200, response.status
        except OSError as error:
            return 'the client got no answer in %d s (%s)' % (
                IDLE_CLIENT_TIMEOUT, type(error).__name__)
        finally:
            connection.close()
        open_count = sum(_still_open(sock) for sock in idle)
    finally:
        for sock in idle:
            sock.close()
    timings.sort()
    return ('GET /v2 median %.2f ms, p99 %.2f ms; idle connections still '
            'open: %d' % (statistics.median(timings),
                          timings[int(len(timings) * 0.99)], open_count))


def _still_open(sock):
    sock.setblocking(False)
    try:
        while True:
            if not sock.recv(65536):
                return False
    except BlockingIOError:
        return True
    except OSError:
        return False


def rss_kib(pid, field):
    with open('/proc/%d/status' % pid) as status:
        for line in status:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise ValueError(field)


def bodies_probe(port, pid, count):
    """Statuses of ``count`` 64 MiB POSTs; peak RSS of ``pid`` in MiB."""
    body = b'x' * BODY_SIZE
    statuses = collections.Counter()
    started = time.monotonic()
    for _ in range(count):
        connection = http.client.HTTPConnection('127.0.0.1', port,
                                                timeout=120)
        try:
            connection.request('POST', '/v2/device_profiles', body=body,
                               headers={'Content-Type': 'application/json'})
            response = connection.getresponse()
            response.read()
            statuses[str(response.status)] += 1
        except OSError as error:
            statuses[type(error).__name__] += 1
        finally:
            connection.close()
    elapsed = time.monotonic() - started
    return statuses, rss_kib(pid, 'VmHWM') / 1024, elapsed


def machine_line():
    # The machine may be shared: its load explains noisy tails.
    return 'date: %s  machine: %s, %d cores, Python %s; load %.1f' % (
        time.strftime('%Y-%m-%d'), platform.platform(), os.cpu_count(),
        platform.python_version(), os.getloadavg()[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seconds', type=int, default=5,
                        help='duration of each wrk run')
    parser.add_argument('--repeat', type=int, default=3,
                        help='wrk runs per figure (the median one counts)')
    parser.add_argument('--bodies', type=int, default=100,
                        help='64 MiB bodies the memory probe sends')
    parser.add_argument('--source', help='checkout whose all-in-one to run')
    parser.add_argument('--no-ceiling', action='store_true')
    parser.add_argument('--serve-ceiling', nargs=2,
                        metavar=('CONFIG', 'ANSWERS'), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_ceiling:
        return serve_ceiling(*args.serve_ceiling)
    if not shutil.which('wrk'):
        raise SystemExit('wrk is missing: apt-get install -y wrk')

    workdir = pathlib.Path(tempfile.mkdtemp(prefix='cyborg-http-bench-'))
    port, ceiling_port = free_port(), free_port()
    env = dict(os.environ)
    if args.source:
        env['PYTHONPATH'] = args.source
    aio = start([sys.executable, '-c',
                 'import sys; from cyborg_clone.cmd import all_in_one; '
                 'sys.exit(all_in_one.main())',
                 '--config-file', str(write_config(workdir, port))],
                workdir, 'all-in-one', port, '/v2', env=env)
    ceiling = None
    try:
        paths = seed(port)
        servers = [('all-in-one', port)]
        if not args.no_ceiling:
            answers = workdir / 'answers.json'
            answers.write_text(json.dumps(record(port, paths)))
            ceiling_dir = workdir / 'ceiling'
            ceiling_dir.mkdir()
            ceiling = start(
                [sys.executable, __file__, '--serve-ceiling',
                 str(write_config(ceiling_dir, ceiling_port)), str(answers)],
                workdir, 'ceiling', ceiling_port, '/v2')
            servers.append(('ceiling', ceiling_port))

        print(machine_line())
        print('wrk -t2, keep-alive, median of %d runs of %d s; latency '
              'in ms' % (args.repeat, args.seconds))
        print('%-22s %5s  %-10s %8s %8s %9s %7s' % (
            'route', 'conns', 'server', 'median', 'p99', 'req/s', 'errors'))
        for route in ROUTES:
            for connections in CONNECTIONS:
                for name, server_port in servers:
                    median, p99, rate, errors = wrk_median_run(
                        server_port, paths[route], connections, args.seconds,
                        args.repeat)
                    print('%-22s %5d  %-10s %8.2f %8.2f %9.1f %7d' % (
                        'GET ' + route, connections, name, median, p99,
                        rate, errors), flush=True)

        print('idle probe: %d idle connections; %s'
              % (IDLE_CONNECTIONS, idle_probe(port)), flush=True)
        statuses, peak, elapsed = bodies_probe(port, aio.pid, args.bodies)
        print('bodies probe: %d x 64 MiB POSTs in %.1f s; answers %s; '
              'peak RSS of the all-in-one %.0f MiB'
              % (args.bodies, elapsed, dict(statuses), peak))
        print('load at the end: %.1f' % os.getloadavg()[0])
    finally:
        if ceiling is not None:
            stop(ceiling)
        stop(aio)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
