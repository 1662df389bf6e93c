"""A cloud of real processes: the API, a conductor and three agents over a
real RabbitMQ, sharing one SQLite database.

- compute-0: two Alveo cards (xilinx) and two FP1 VU9P shells (huawei_vu9p)
- compute-1: a PAC Arria 10 with VFs and an N3000 (intel_opae)
- compute-2: the fake driver

Each agent reads its own fixture sysfs tree and runs the fake vendor tools
through a real oslo.privsep daemon, as in production.
"""

import json
import os
import subprocess
import urllib.error
import urllib.request

from tests.fixtures import opae_host
from tests.fixtures import vu9p_host
from tests.fixtures import xilinx_host
from tests.functional import processes

HOSTS = ('compute-0', 'compute-1', 'compute-2')
VU9P_SHELL = 'compute-0_' + vu9p_host.SHELLS[0].address
XILINX_CARD = 'compute-0_' + xilinx_host.U250.mgmt
ARRIA10 = 'compute-1_' + opae_host.ARRIA10.pf
N3000 = 'compute-1_' + opae_host.N3000.pf
FAKE_CARD = 'compute-2_FakeDevice'
DEPLOYABLES = frozenset({
    XILINX_CARD, 'compute-0_' + xilinx_host.U280.mgmt, VU9P_SHELL,
    'compute-0_' + vu9p_host.SHELLS[1].address, ARRIA10, N3000, FAKE_CARD})


class Api:
    """A small JSON client of the API process; ``headers`` go with every
    request (a token, say) unless a call gives its own."""

    def __init__(self, url, headers=None):
        self.url = url
        self.headers = dict(headers or {})

    def request(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers=dict({'Content-Type': 'application/json',
                          'OpenStack-API-Version': 'accelerator 2.3'},
                         **(self.headers if headers is None else headers)))
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None

    def ok(self, method, path, body=None, headers=None, status=200):
        got, answer = self.request(method, path, body, headers)
        assert got == status, (method, path, got, answer)
        return answer


def start(stack, tmp_path, rabbitmq_url, control=None, agents=None):
    """Start the cloud inside ``stack`` (a contextlib.ExitStack).

    ``control`` adds config sections to the API's and the conductor's
    file, ``agents`` to every agent's. Returns (Api, conductor process,
    shared directory) once the API answers.
    """
    shared = tmp_path / 'cloud'
    shared.mkdir()
    common = {
        'DEFAULT': {'transport_url': rabbitmq_url, 'debug': 'true'},
        'database': {'connection': 'sqlite:///%s'
                                   % (shared / 'cyborg_clone.sqlite')},
        'image_store': {'file_root': str(shared / 'images')},
        'object_store': {'file_root': str(shared / 'buckets')},
        'agent': {'report_interval': 1},
    }
    port = processes.free_port()
    control_config = config(shared, common, {
        'api': {'port': port, 'auth_strategy': 'noauth'},
        'conductor': {'program_timeout': 60},
    }, control or {})
    subprocess.run([os.path.join(processes.BIN_DIR, 'cyborg-clone-dbsync'),
                    '--config-file', control_config, 'upgrade'],
                   check=True, capture_output=True)
    api = stack.enter_context(
        processes.Process('cyborg-clone-api', control_config, shared))
    conductor = stack.enter_context(
        processes.Process('cyborg-clone-conductor', control_config, shared))
    for host, drivers, overrides in fixture_hosts(tmp_path, shared):
        directory = tmp_path / host
        agent_config = config(directory, common, {
            'DEFAULT': {'host': host},
            'agent': {'enabled_drivers': ','.join(drivers)},
            'privsep': {'helper_command': '%s --config-file %s' % (
                os.path.join(processes.BIN_DIR, 'privsep-helper'),
                directory / 'cyborg_clone.conf')},
        }, overrides, agents or {})
        stack.enter_context(processes.Process(
            'cyborg-clone-agent', agent_config, directory))
    url = 'http://127.0.0.1:%d' % port
    processes.wait_for_http(api, url + '/')
    return Api(url), conductor, shared


def fixture_hosts(tmp_path, shared):
    """(host name, drivers, {(group, option): value}) of each agent."""
    images = str(shared / 'images')
    os.makedirs(images, exist_ok=True)

    def paths(host):
        base = tmp_path / host
        return base / 'sys-root', base / 'bin', base / 'tools'

    root, bin_dir, tools = paths('compute-0')
    compute0 = dict(xilinx_host.build(root, bin_dir, tools / 'xrt',
                                      'compute-0', foreign_devices=False))
    # The FP1 tool loads by AEI id from Huawei's image service; here the
    # factory's image store plays that part.
    compute0.update(vu9p_host.build(root, bin_dir, tools / 'fp1', images))
    root, bin_dir, tools = paths('compute-1')
    compute1 = dict(opae_host.build(root, bin_dir, tools, 'compute-1'))
    return [('compute-0', ['xilinx', 'huawei_vu9p'], compute0),
            ('compute-1', ['intel_opae'], compute1),
            ('compute-2', ['fake'], {})]


def config(directory, common, *layers):
    """Write the config of one process: ``common`` sections updated by
    each layer, whose keys are sections or (group, option) pairs."""
    sections = {name: dict(options) for name, options in common.items()}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(key, tuple):
                group, option = key
                sections.setdefault(group, {})[option] = value
            else:
                sections.setdefault(key, {}).update(value)
    sections['DEFAULT'].setdefault('state_path', str(directory))
    os.makedirs(directory, exist_ok=True)
    return processes.write_config(str(directory), sections)


def deployables_by_name(api):
    return {d['name']: d for d in
            api.ok('GET', '/v2/deployables')['deployables']}


def discovered(api):
    """Wait until every fixture host reported; deployables by name."""
    found = processes.wait_until(
        lambda: (lambda d: d if set(d) >= DEPLOYABLES else None)(
            deployables_by_name(api)),
        timeout=60, message='discovery from the three hosts')
    assert set(found) == DEPLOYABLES
    return found


def instance_uuid(number):
    return '00000000-0000-4000-8000-%012d' % number
